/**
 * `credits backup <dir>` while the server runs: the copy holds every acknowledged write, those
 * still only in events.sqlite-wal included (a copy of events.sqlite alone holds none of them), and
 * a server started on it answers the same balances. It refuses a directory that is not empty.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplyPlanAllowanceDocument, ConsumeCreditsDocument, WorkspaceCreditsDocument } from '../generated/graphql';
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
