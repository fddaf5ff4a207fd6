/**
 * A server that cannot start says which file is wrong and what to do: a read-only DATA_DIR, one
 * inside a file or where no directory can be made, a
 * damaged read-models.sqlite (and, following the message, starts again with the same balances),
 * a damaged retry-records.sqlite, a damaged events.sqlite.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkspaceCreditsDocument } from '../generated/graphql';
import { applyAllowance, expectData } from '../support/graphql-client';
import { adminToken, newDataDir, startServer } from '../support/server-process';

/** Why the server refused to start; one that started is stopped and fails the test. */
const refusal = (dataDir: string): Promise<string> =>
  startServer({ dataDir }).then(
    async (started) => {
      await started.stop();
      throw new Error('the server started');
    },
    (error: Error) => error.message,
  );

/** A data directory that held a running server's files, with one workspace's allowance. */
async function usedDataDir(): Promise<{ dataDir: string; available: number }> {
  const dataDir = newDataDir();
  const server = await startServer({ dataDir });
  await applyAllowance(server.url, 'ws-startup', 'starter');
  const { workspaceCredits } = await expectData(
    server.url,
    WorkspaceCreditsDocument,
    { workspaceId: 'ws-startup' },
    adminToken(),
  );
  expect(await server.stop()).toBe(0);
  return { dataDir, available: workspaceCredits.available };
}

/** The workspace's available credits as a server started on `dataDir` answers them; the server is stopped. */
async function availableAfterStart(dataDir: string): Promise<number> {
  const restarted = await startServer({ dataDir });
  try {
    const { workspaceCredits } = await expectData(
      restarted.url,
      WorkspaceCreditsDocument,
      { workspaceId: 'ws-startup' },
      adminToken(),
    );
    return workspaceCredits.available;
  } finally {
    await restarted.stop();
  }
}

/** Overwrites one of DATA_DIR's databases with garbage; the server's refusal must name it. */
async function damaged(dataDir: string, name: string): Promise<{ file: string; message: string }> {
  const file = join(dataDir, name);
  for (const suffix of ['-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  writeFileSync(file, Buffer.alloc(8192, 0x5a));
  const message = await refusal(dataDir);
  expect(message).toContain(`${file} is not a readable SQLite database`);
  return { file, message };
}

/**
 * Makes `dir` read-only for the server and returns what undoes it. Root may write anywhere its
 * permissions say not to, so as root the directory is bind-mounted read-only over itself.
 */
function readOnly(dir: string): () => void {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return () => chmodSync(dir, 0o755);
  }
  execFileSync('mount', ['--bind', dir, dir]);
  execFileSync('mount', ['-o', 'remount,ro,bind', dir]);
  return () => execFileSync('umount', [dir]);
}

it('names a read-only DATA_DIR and says to make it writable', async () => {
  const { dataDir } = await usedDataDir();
  const undo = readOnly(dataDir);
  try {
    const message = await refusal(dataDir);
    expect(message).toContain(`DATA_DIR ${dataDir} is not writable`);
    expect(message).toMatch(/make DATA_DIR writable by the user the server runs as/);
  } finally {
    undo();
  }
  const restarted = await startServer({ dataDir });
  expect(await restarted.stop()).toBe(0);
});

it('names a DATA_DIR inside a file and says to set it to a directory', async () => {
  const parent = newDataDir();
  mkdirSync(parent, { recursive: true });
  writeFileSync(join(parent, 'a-file'), 'not a directory');
  const dataDir = join(parent, 'a-file', 'data');
  const message = await refusal(dataDir);
  expect(message).toContain(`DATA_DIR ${dataDir} cannot be a directory: a part of its path is a file`);
  expect(message).toContain('Set DATA_DIR to a directory');
});

it('names a DATA_DIR under a file system that makes no directories (/proc) at once, rather than hanging', async () => {
  const dataDir = `/proc/credits-${process.pid}/data`;
  const started = Date.now();
  const message = await refusal(dataDir);
  expect(message).toContain(`DATA_DIR ${dataDir} is not writable (ENOENT`);
  expect(Date.now() - started).toBeLessThan(10_000);
});

it('names a damaged read-models.sqlite, says to move it aside, and rebuilds it when that is done', async () => {
  const { dataDir, available } = await usedDataDir();
  const { file, message } = await damaged(dataDir, 'read-models.sqlite');
  expect(message).toMatch(/move it and its -wal and -shm files aside/);

  renameSync(file, `${file}.broken`);
  expect(await availableAfterStart(dataDir)).toBe(available);
});

it('names a damaged retry-records.sqlite and says to move it aside', async () => {
  const { dataDir } = await usedDataDir();
  const { file, message } = await damaged(dataDir, 'retry-records.sqlite');
  expect(message).toMatch(/move it and its -wal and -shm files aside and start the server/);
  renameSync(file, `${file}.broken`);
  const restarted = await startServer({ dataDir });
  expect(await restarted.stop()).toBe(0);
});

it('names a damaged events.sqlite and says to restore it, never to delete it', async () => {
  const { dataDir } = await usedDataDir();
  const { message } = await damaged(dataDir, 'events.sqlite');
  expect(message).toMatch(/restore it from a backup, and do not delete it/);
});

it('says a full disk is full, and never to restore anything for it', async () => {
  const { dataDir } = await usedDataDir();
  symlinkSync('/dev/full', join(dataDir, '.write-check')); // every write to it fails with ENOSPC
  const message = await refusal(dataDir);
  expect(message).toMatch(/DATA_DIR .* cannot be written: its disk is full \(ENOSPC/);
  expect(message).toMatch(/do not restore, move or delete its files/);
  expect(message).not.toMatch(/restore it from a backup/);
});

it('tells an event log it cannot open for a fault of the machine from a damaged one, and starts once it clears', async () => {
  const { dataDir, available } = await usedDataDir();
  const wal = join(dataDir, 'events.sqlite-wal');
  mkdirSync(wal); // SQLite cannot make its write-ahead log: the database file itself is fine
  const message = await refusal(dataDir);
  expect(message).toMatch(/events\.sqlite cannot be opened now \(SQLITE_CANTOPEN/);
  expect(message).toMatch(/do not restore, move or delete it/);
  expect(message).not.toMatch(/restore it from a backup/);

  rmSync(wal, { recursive: true });
  expect(await availableAfterStart(dataDir)).toBe(available);
});

it('names a CATALOG_FILE that is missing or not JSON and says what to do', async () => {
  const dir = newDataDir();
  const broken = join(dir, 'catalog.json');
  writeFileSync(broken, '{"bad":');
  for (const file of [broken, join(dir, 'missing.json')]) {
    const message = await startServer({ dataDir: newDataDir(), env: { CATALOG_FILE: file } }).then(
      async (started) => {
        await started.stop();
        throw new Error('the server started');
      },
      (error: Error) => error.message,
    );
    expect(message).toContain(`CATALOG_FILE ${file} could not be read as JSON`);
    expect(message).toContain('point CATALOG_FILE at config/catalog.json');
  }
});
