/**
 * Checks DATA_DIR before anything opens a file in it, so that a server that cannot start says which
 * file is wrong and what to do. Otherwise SQLite's own errors reach the operator: "unable to open
 * database file" for a read-only directory and "file is not a database" for a damaged read-model
 * file, naming neither the file nor the fix.
 */
import { accessSync, constants, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Config } from './config';
import { makeDirectory } from '../make-directory';

/** A reason not to start, written for the operator who reads it. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.startsWith(code) ? `${code}: ${error.message}` : error.message;
};

/** What the write check writes: enough that a full disk refuses it. */
const PROBE_BYTES = 64 * 1024;

const isNoSpace = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
};

/** Whether SQLite found the file itself bad (not a database, or corrupt), rather than the machine. */
const isDamage = (error: unknown): boolean =>
  /^SQLITE_(NOTADB|CORRUPT)/.test((error as { code?: unknown } | undefined)?.code?.toString() ?? '');

const notADirectory = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOTDIR' || code === 'EEXIST';
};

const notWritable = (path: string, error: unknown): StartupError =>
  notADirectory(error)
    ? new StartupError(
        `${path} cannot be a directory: a part of its path is a file (${describe(error)}). ` +
          'Set DATA_DIR to a directory, or to a path where one can be made.',
      )
    : isNoSpace(error)
      ? new StartupError(
          `${path} cannot be written: its disk is full (${describe(error)}). Nothing in DATA_DIR is damaged: ` +
            'do not restore, move or delete its files. Make room on that disk and start the server again.',
        )
      : new StartupError(
          `${path} is not writable (${describe(error)}). The server writes its event store, read models and ` +
            'snapshots under DATA_DIR: make DATA_DIR writable by the user the server runs as (mount it ' +
            'read-write), or set DATA_DIR to a writable directory.',
        );

/** Whether `file` opens as an SQLite database; the error otherwise. */
function unreadable(file: string): unknown {
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new BetterSqlite3(file, { fileMustExist: true });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    db?.close();
  }
}

export function checkDataDir(
  config: Pick<Config, 'dataDir' | 'eventStoreFile' | 'eventStoreUrl' | 'readModelFile' | 'retryRecordsFile'>,
): void {
  const { dataDir, readModelFile, retryRecordsFile } = config;
  const probe = join(dataDir, '.write-check');
  try {
    makeDirectory(dataDir);
    // Some bytes, not an empty file: a full disk still lets an empty file be made.
    writeFileSync(probe, Buffer.alloc(PROBE_BYTES));
  } catch (error) {
    throw notWritable(`DATA_DIR ${dataDir}`, error);
  } finally {
    // Not made at all when DATA_DIR could not be (a file in its path): this must not hide why.
    try {
      rmSync(probe, { force: true });
    } catch {
      // the error above says it
    }
  }
  const eventStoreFile = config.eventStoreUrl ? undefined : config.eventStoreFile;
  for (const file of [eventStoreFile, readModelFile, retryRecordsFile]) {
    if (file === undefined || !existsSync(file)) continue;
    try {
      accessSync(file, constants.R_OK | constants.W_OK);
    } catch (error) {
      throw notWritable(file, error);
    }
  }
  checkDataFiles(config);
}

/**
 * Each of DATA_DIR's databases that exists must open as one; a damaged one is named, with what to do.
 * The server runs this before it starts, and the `credits` tools before they read: SQLite alone
 * says "file is not a database" without naming the file.
 */
export function checkDataFiles(
  config: Pick<Config, 'eventStoreFile' | 'eventStoreUrl' | 'readModelFile' | 'retryRecordsFile'>,
  /** The files to check (a tool checks only those it reads: a backup needs the event log alone). */
  only: readonly ('event log' | 'read models' | 'retry records')[] = ['event log', 'read models', 'retry records'],
): void {
  const readModelFile = only.includes('read models') ? config.readModelFile : undefined;
  const retryRecordsFile = only.includes('retry records') ? config.retryRecordsFile : undefined;
  const eventStoreFile = config.eventStoreUrl || !only.includes('event log') ? undefined : config.eventStoreFile;
  // Each file that exists must open as an SQLite database; each says what to do when it is damaged.
  // Any other failure (no space for its -shm file, an I/O error) is the machine's, not the file's:
  // restoring or moving the file would only lose what it holds.
  const mustOpen = (file: string | undefined, advice: string): void => {
    const error = file !== undefined && existsSync(file) ? unreadable(file) : undefined;
    if (!error) return;
    if (!isDamage(error)) {
      throw new StartupError(
        `${file} cannot be opened now (${describe(error)}). Its contents are not known to be damaged: do not ` +
          'restore, move or delete it. Make room on the disk of DATA_DIR (or fix what keeps it from being ' +
          'written) and start the server again.',
      );
    }
    throw new StartupError(`${file} is not a readable SQLite database (${describe(error)}). ${advice}`);
  };
  mustOpen(
    eventStoreFile,
    'It is the event log, the only record of every credit: restore it from a backup, and do not delete it.',
  );
  mustOpen(
    readModelFile,
    'It holds only read models, which the event log rebuilds: with the server stopped, move it and its -wal ' +
      'and -shm files aside (for example mv read-models.sqlite read-models.sqlite.broken) and start the ' +
      'server, which projects the whole log into a new file before it listens.',
  );
  mustOpen(
    retryRecordsFile,
    'It holds only spends kept for retries out of memory, which the event log has too: with the server ' +
      'stopped, move it and its -wal and -shm files aside and start the server; each workspace that had ' +
      'spends in it folds its stream from the start on its next command.',
  );
}
