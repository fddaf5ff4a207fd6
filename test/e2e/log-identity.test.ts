/**
 * Read models know the log they were built from. A server restarted on another log (events.sqlite
 * deleted or replaced, another EventStoreDB) or on an older copy of its log (a backup restored)
 * rebuilds its read models from that log before it listens, says so in its log, and from then on
 * serves that log's balances and projects what it appends.
 */
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_FOLLOWERS } from '../../src/server/log-followers';
import { ApplyPlanAllowanceDocument, ConsumeCreditsDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { startEsdbTestServer } from '../support/esdb-test-server/server';
import { expectData } from '../support/graphql-client';
import {
  adminToken,
  newDataDir,
  serversKilledAfterEach,
  tokenFor,
  type ServerProcess,
} from '../support/server-process';

const DAY = 24 * 60 * 60 * 1000;
/** Every read model and reaction work table the server keeps, in the order it starts them. */
const FOLLOWERS = LOG_FOLLOWERS.map((follower) => follower.name);
const start = serversKilledAfterEach();

const seed = (server: ServerProcess, workspaceId: string) =>
  expectData(
    server.url,
    ApplyPlanAllowanceDocument,
    {
      input: {
        workspaceId,
        planId: 'scale', // 20,000 credits
        periodStart: new Date(Date.now() - DAY).toISOString(),
        periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
      },
    },
    adminToken(),
  );
const spend = async (server: ServerProcess, workspaceId: string, key: string) =>
  (
    await expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'PERSON_ENRICHMENT', units: 3, idempotencyKey: key } }, // 21 credits
      tokenFor(workspaceId, 'MEMBER'),
    )
  ).consumeCredits;
const available = async (server: ServerProcess, workspaceId: string) =>
  (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken())).workspaceCredits.available;
const readiness = async (server: ServerProcess) => {
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; lag: number } };
};

/** The rebuilds the server logged, and whether it logged them before it started listening. */
function rebuilds(server: ServerProcess): { projections: unknown[]; reasons: unknown[]; beforeListening: boolean } {
  const index = (entry: Record<string, unknown>) => server.logs.indexOf(entry);
  const warnings = server.logs.filter((entry) =>
    String(entry.msg).startsWith('read model not built from this log: rebuilding it from the log'),
  );
  const listening = server.logs.find((entry) => entry.msg === 'credits service listening') as Record<string, unknown>;
  return {
    projections: warnings.map((entry) => entry.projection),
    reasons: [...new Set(warnings.map((entry) => entry.reason))],
    beforeListening: warnings.every((entry) => index(entry) < index(listening)),
  };
}

const eventsFiles = (dataDir: string) => ['', '-wal', '-shm'].map((suffix) => join(dataDir, `events.sqlite${suffix}`));

it('serves the new log after events.sqlite was deleted under a stopped server, and projects what it appends', async () => {
  const dataDir = newDataDir();
  const workspaceId = 'ws-deleted-log';
  const first = await start({ dataDir });
  await seed(first, workspaceId);
  await spend(first, workspaceId, 'k1');
  expect(await first.stop('SIGTERM')).toBe(0);
  for (const file of eventsFiles(dataDir)) rmSync(file, { force: true });

  const second = await start({ dataDir });
  expect(rebuilds(second)).toEqual({
    projections: FOLLOWERS,
    reasons: [
      expect.stringMatching(/^it was built from another log \(identity [0-9a-f]{32}; this log is [0-9a-f]{32}\)$/),
    ],
    beforeListening: true,
  });
  expect(await readiness(second)).toMatchObject({ status: 200, body: { status: 'ready', lag: 0 } });
  // The new log has nothing for the workspace: no credits it does not have.
  expect(await available(second, workspaceId)).toBe(0);
  // What it appends is projected: the old checkpoint no longer hides its first positions.
  await seed(second, workspaceId);
  expect(await available(second, workspaceId)).toBe(20_000);
  // The key k1 is this log's first spend with it.
  expect((await spend(second, workspaceId, 'k1')).available).toBe(20_000 - 21);
  expect(await available(second, workspaceId)).toBe(20_000 - 21);
});

it('rebuilds from an older copy of events.sqlite restored from a backup, whose head is behind the read models', async () => {
  const dataDir = newDataDir();
  const backupDir = newDataDir();
  const workspaceId = 'ws-restored-log';
  const first = await start({ dataDir });
  await seed(first, workspaceId);
  await spend(first, workspaceId, 'k1');
  expect(await first.stop('SIGTERM')).toBe(0);
  for (const file of eventsFiles(dataDir)) if (existsSync(file)) copyFileSync(file, file.replace(dataDir, backupDir));

  const second = await start({ dataDir });
  for (const key of ['k2', 'k3', 'k4']) await spend(second, workspaceId, key);
  expect(await available(second, workspaceId)).toBe(20_000 - 4 * 21);
  expect(await second.stop('SIGTERM')).toBe(0);
  for (const file of eventsFiles(dataDir)) rmSync(file, { force: true });
  for (const file of eventsFiles(backupDir)) if (existsSync(file)) copyFileSync(file, file.replace(backupDir, dataDir));

  const third = await start({ dataDir });
  expect(rebuilds(third)).toEqual({
    projections: FOLLOWERS,
    reasons: [expect.stringMatching(/^its checkpoint \d+ is past the log's head \(\d+\): an older copy of the log\?$/)],
    beforeListening: true,
  });
  expect(await readiness(third)).toMatchObject({ status: 200, body: { status: 'ready', lag: 0 } });
  expect(await available(third, workspaceId)).toBe(20_000 - 21);
  // The spends the restored log lost are new spends to it, and are projected.
  expect((await spend(third, workspaceId, 'k2')).available).toBe(20_000 - 2 * 21);
  expect(await available(third, workspaceId)).toBe(20_000 - 2 * 21);
  // Restarted on the same log, nothing is rebuilt.
  expect(await third.stop('SIGTERM')).toBe(0);
  const fourth = await start({ dataDir });
  expect(rebuilds(fourth).projections).toEqual([]);
  expect(await available(fourth, workspaceId)).toBe(20_000 - 2 * 21);
});

it('rebuilds when the same DATA_DIR is started against another EventStoreDB', async () => {
  const [one, other] = await Promise.all([startEsdbTestServer(), startEsdbTestServer()]);
  try {
    const dataDir = newDataDir();
    const workspaceId = 'ws-other-esdb';
    const first = await start({ dataDir, env: { EVENTSTORE_URL: one.url } });
    await seed(first, workspaceId);
    await spend(first, workspaceId, 'k1');
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await start({ dataDir, env: { EVENTSTORE_URL: other.url } });
    expect(rebuilds(second)).toEqual({
      projections: FOLLOWERS,
      reasons: [
        expect.stringMatching(/^it was built from another log \(identity [-0-9a-f]{36}; this log is [-0-9a-f]{36}\)$/),
      ],
      beforeListening: true,
    });
    expect(await available(second, workspaceId)).toBe(0);
    await seed(second, workspaceId);
    expect(await available(second, workspaceId)).toBe(20_000);
    expect(await second.stop('SIGTERM')).toBe(0);

    // Back on the first database: rebuilt again, to its own balances.
    const third = await start({ dataDir, env: { EVENTSTORE_URL: one.url } });
    expect(rebuilds(third).projections).toEqual(FOLLOWERS);
    expect(await available(third, workspaceId)).toBe(20_000 - 21);
  } finally {
    await Promise.all([one.close(), other.close()]);
  }
});
