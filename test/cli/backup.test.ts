/**
 * `credits backup <dir>` while the server runs: the copy holds every acknowledged write, those
 * still only in events.sqlite-wal included (a copy of events.sqlite alone holds none of them), and
 * a server started on it answers the same balances. It refuses a directory that is not empty.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve as resolve_ } from 'node:path';
import {
  ApplyPlanAllowanceDocument,
  ConsumeCreditsDocument,
  GrantCreditsDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { spawnCreditsCli } from '../support/cli';
import { expectData } from '../support/graphql-client';
import { adminToken, newDataDir, startServer, tokenFor } from '../support/server-process';

const DAY = 24 * 60 * 60 * 1000;
const WORKSPACE = 'ws-backup';

it('copies the log while the server runs, and a server started on the copy answers the same', async () => {
  const server = await startServer();
  let available: number;
  const target = join(newDataDir(), 'backup');
  try {
    await expectData(
      server.url,
      ApplyPlanAllowanceDocument,
      {
        input: {
          workspaceId: WORKSPACE,
          planId: 'starter',
          periodStart: new Date(Date.now() - DAY).toISOString(),
          periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
        },
      },
      adminToken(),
    );
    for (let n = 0; n < 20; n++) {
      const spent = await expectData(
        server.url,
        ConsumeCreditsDocument,
        { input: { workspaceId: WORKSPACE, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: `spend-${n}` } },
        tokenFor(WORKSPACE, 'MEMBER'),
      );
      available = spent.consumeCredits.available;
    }
    // The writes are still in the -wal file: the main file alone would be an empty log.
    expect(statSync(join(server.dataDir, 'events.sqlite-wal')).size).toBeGreaterThan(0);
    // A development key (these tests configure WEBHOOK_SECRET_KEY instead): copied with the log.
    writeFileSync(join(server.dataDir, 'webhook-secret-key'), Buffer.alloc(32, 3).toString('base64'));
    const result = spawnCreditsCli(server.dataDir, ['backup', target]);
    expect(result.stderr).toMatch(/^backed up 21 events to .*events\.sqlite \(and webhook-secret-key\)\n$/);
    expect(result.status).toBe(0);
  } finally {
    await server.stop();
  }
  expect(readdirSync(target).sort()).toEqual(['events.sqlite', 'webhook-secret-key']);
  expect(statSync(join(target, 'events.sqlite')).mode & 0o777).toBe(0o600);

  const restored = await startServer({ dataDir: target });
  try {
    const balance = await expectData(restored.url, WorkspaceCreditsDocument, { workspaceId: WORKSPACE }, adminToken());
    expect(balance.workspaceCredits.available).toBe(available!);
  } finally {
    await restored.stop();
  }
});

/** `credits backup <dir>` in a child process, without blocking this one (it keeps writing meanwhile). */
function backupAsync(dataDir: string, target: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [resolve_(__dirname, '../../dist/src/cli/credits.js'), 'backup', target], {
      env: { PATH: process.env.PATH, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

it('finishes while the server appends steadily, on a log of many pages', async () => {
  const dataDir = newDataDir();
  const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  for (let w = 0; w < 20; w++) {
    const events = Array.from({ length: 1_000 }, (_, n) => ({
      id: randomUUID(),
      type: 'CreditsGranted',
      data: {
        workspaceId: `ws-history-${w}`,
        grantId: `grant-${n}`,
        idempotencyKey: `grant-key-${n}`,
        credits: 1,
        reason: 'a long history, long enough that one copy step cannot take all of it',
        grantedBy: 'admin-1',
        grantedAt: new Date().toISOString(),
      },
    }));
    await store.appendToStream(workspaceStreamName(`ws-history-${w}`), events, { expectedRevision: 'no_stream' });
  }
  await store.close();
  const server = await startServer({ dataDir });
  let writing = true;
  let written = 0;
  const writer = (async () => {
    while (writing) {
      await expectData(
        server.url,
        GrantCreditsDocument,
        { input: { workspaceId: WORKSPACE, credits: 1, reason: 'steady', idempotencyKey: `steady-${written}` } },
        adminToken(),
      );
      written += 1;
    }
  })();
  try {
    const target = join(newDataDir(), 'backup');
    const result = await backupAsync(dataDir, target);
    expect(result.stderr).toMatch(/^backed up [\d,]+ events to /);
    expect(result.status).toBe(0);
    const events = Number(/backed up ([\d,]+) events/.exec(result.stderr)?.[1]?.replace(/,/g, ''));
    expect(events).toBeGreaterThanOrEqual(20_000);
    expect(written).toBeGreaterThan(0); // the server was writing while the backup ran
  } finally {
    writing = false;
    await writer;
    await server.stop();
  }
});

it('refuses a target that is not empty, and a DATA_DIR without a log', () => {
  const dataDir = newDataDir();
  const target = join(newDataDir(), 'taken');
  mkdirSync(target);
  writeFileSync(join(target, 'something'), 'x');
  writeFileSync(join(dataDir, 'events.sqlite'), '');
  const taken = spawnCreditsCli(dataDir, ['backup', target]);
  expect(taken.status).toBe(1);
  expect(taken.stderr).toContain(`${target} is not empty: a backup goes into a new or empty directory.`);
  const nothing = spawnCreditsCli(join(dataDir, 'missing'), ['backup', join(newDataDir(), 'b')]);
  expect(nothing.status).toBe(1);
  expect(nothing.stderr).toMatch(/holds no event log/);
});
