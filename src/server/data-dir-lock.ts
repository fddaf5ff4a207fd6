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
import { mkdirSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

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
   * Who holds the DATA_DIR, the same for every process that holds it in turn on this host and
   * path: made once and kept in the lock file. A process restarted after a crash is the same
   * holder as the one before it, which the lock proves dead.
   */
  readonly holderId: string;
  release(): void;
}

const isBusy = (error: unknown): boolean =>
  error instanceof Error && /^SQLITE_(BUSY|LOCKED)/.test((error as { code?: string }).code ?? '');

/** Takes the DATA_DIR for this process, or throws DataDirInUse at once when another holds it. */
export function lockDataDir(dataDir: string, holder: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const db = new BetterSqlite3(join(dataDir, 'process.lock'), { timeout: 0 });
  let id: string;
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // A write takes the exclusive lock, which exclusive locking mode keeps after the commit.
    db.exec('CREATE TABLE IF NOT EXISTS holder (description TEXT NOT NULL)');
    db.exec('CREATE TABLE IF NOT EXISTS identity (id TEXT NOT NULL)');
    id = db.transaction(() => {
      db.prepare('DELETE FROM holder').run();
      db.prepare('INSERT INTO holder (description) VALUES (?)').run(
        `${holder}, pid ${process.pid}, since ${new Date().toISOString()}`,
      );
      const kept = db.prepare<[], { id: string }>('SELECT id FROM identity').get();
      if (kept) return kept.id;
      const made = randomUUID();
      db.prepare('INSERT INTO identity (id) VALUES (?)').run(made);
      return made;
    })();
  } catch (error) {
    db.close();
    throw isBusy(error) ? new DataDirInUse(dataDir) : error;
  }
  let released = false;
  return {
    // A DATA_DIR copied to another host or path (a cloned volume) is another holder.
    holderId: `${id}@${hostname()}:${realpathSync(dataDir)}`,
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}
