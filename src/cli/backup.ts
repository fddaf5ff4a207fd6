/**
 * `credits backup <dir>`: a consistent copy of the event log, taken while the server runs. The
 * embedded store keeps its recent commits in `events.sqlite-wal` until a checkpoint folds them into
 * `events.sqlite`, so a copy of the main file alone can hold nothing of them (an empty log, to a
 * server started on it), and a copy of both files while they are written may not agree. The copy
 * is made from one read transaction, its -wal included, as of one instant, without stopping the
 * writer.
 *
 * The development secrets (`webhook-secret-key`, `dev-jwt-secret`) are copied too when DATA_DIR has
 * them: without the key, the endpoints' signing secrets recorded in the log cannot be read. The
 * read models, snapshots and retry records are not: a server started on the backup rebuilds them
 * from the log.
 */
import { chmodSync, copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEV_SECRET_FILE } from '../auth/tokens';
import { makeDirectory } from '../make-directory';
import type { Config } from '../server/config';
import { DEV_KEY_FILE } from '../server/webhook-key';

const DEVELOPMENT_SECRETS = [DEV_KEY_FILE, DEV_SECRET_FILE];

export interface BackupSummary {
  file: string;
  events: number;
  secrets: string[];
}

export function backupDataDir(config: Config, target: string): BackupSummary {
  if (config.eventStoreUrl) {
    throw new Error('The log is in EventStoreDB (EVENTSTORE_URL): back it up with EventStoreDB’s own tools.');
  }
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new Error(`${target} is not empty: a backup goes into a new or empty directory.`);
  }
  makeDirectory(target);
  const file = join(target, 'events.sqlite');
  // VACUUM INTO writes the database as one read transaction sees it: a snapshot of one instant,
  // the -wal's commits included, which in WAL mode never waits for the writer nor makes it wait.
  // (SQLite's page-by-page online backup starts over whenever the writer commits between two of
  // its steps: against a server appending steadily it never finished.) The copy is one file,
  // without a -wal of its own; the server sets WAL mode again when it opens it.
  const source = new Database(config.eventStoreFile, { fileMustExist: true, timeout: 10_000 });
  try {
    source.prepare('VACUUM INTO ?').run(file);
  } finally {
    source.close();
  }
  chmodSync(file, 0o600);
  const copy = new Database(file, { readonly: true });
  let events: number;
  try {
    events = (copy.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    copy.close();
  }
  const secrets = DEVELOPMENT_SECRETS.filter((name) => existsSync(join(config.dataDir, name)));
  for (const name of secrets) {
    copyFileSync(join(config.dataDir, name), join(target, name));
    chmodSync(join(target, name), 0o600);
  }
  return { file, events, secrets };
}
