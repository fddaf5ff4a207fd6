/**
 * One process at a time writes a DATA_DIR's read models: the server while it runs, or `credits
 * replay` while it empties and rebuilds them. A replay beside a running server would empty the
 * tables under it; the server would then project its next events onto nothing and save its
 * progress at the log's end, and the replay would skip everything before that.
 *
 * The lock is SQLite's own, on DATA_DIR/process.lock, held by a connection in exclusive locking
 * mode from its first write until it closes. The system releases it when the process ends,
 * however it ends (kill -9 included), so no stale lock file outlives a crash.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { makeDirectory } from '../make-directory';

/** Another process holds the DATA_DIR. */
export class DataDirInUse extends Error {
  constructor(readonly dataDir: string) {
    super(
      `DATA_DIR ${dataDir} is in use by another process: a server running on it, or a \`credits replay\`. ` +
        'One server per DATA_DIR (replicas share the event store, never a DATA_DIR), and `credits replay` ' +
        'only while that server is stopped: stop the other process, or point DATA_DIR elsewhere.',
    );
    this.name = 'DataDirInUse';
  }
}

export interface DataDirLock {
  /**
   * This process's id as a holder of the DATA_DIR: new for every process. A server's is kept in the
   * lock file for its successor; a rebuild's is not.
   */
  readonly holderId: string;
  /**
   * For a server, the holder id of the server that held the DATA_DIR before it, which the lock
   * proves has ended: what it held (the reactor lease) this one may take over at once. Undefined
   * the first time, and for a rebuild.
   */
  readonly predecessorId: string | undefined;
  release(): void;
}

const isBusy = (error: unknown): boolean =>
  error instanceof Error && /^SQLITE_(BUSY|LOCKED)/.test((error as { code?: string }).code ?? '');

/**
 * Takes the DATA_DIR for this process, or throws DataDirInUse at once when another holds it. A
 * server (`server: true`) is recorded as the holder its successor may take over from; a rebuild is not.
 */
export function lockDataDir(dataDir: string, holder: string, options: { server: boolean }): DataDirLock {
  makeDirectory(dataDir);
  const db = new BetterSqlite3(join(dataDir, 'process.lock'), { timeout: 0 });
  const holderId = randomUUID();
  let predecessorId: string | undefined;
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // A write takes the exclusive lock, which exclusive locking mode keeps after the commit.
    db.exec('CREATE TABLE IF NOT EXISTS lock_taken (description TEXT NOT NULL)');
    db.exec('CREATE TABLE IF NOT EXISTS server_holder (id TEXT NOT NULL)');
    predecessorId = db.transaction(() => {
      db.prepare('DELETE FROM lock_taken').run();
      db.prepare('INSERT INTO lock_taken (description) VALUES (?)').run(
        `${holder}, pid ${process.pid}, since ${new Date().toISOString()}`,
      );
      if (!options.server) return undefined;
      const before = db.prepare<[], { id: string }>('SELECT id FROM server_holder').get()?.id;
      db.prepare('DELETE FROM server_holder').run();
      db.prepare('INSERT INTO server_holder (id) VALUES (?)').run(holderId);
      return before;
    })();
  } catch (error) {
    db.close();
    throw isBusy(error) ? new DataDirInUse(dataDir) : error;
  }
  let released = false;
  return {
    holderId,
    predecessorId,
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}
