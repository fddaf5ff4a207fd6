/**
 * A write the read models cannot show in time: the read-model database is locked by another
 * process, so the projection thread cannot commit. The spend is still recorded (the log has it),
 * and its caller is told so, COMMITTED_NOT_VISIBLE with `committed: true` and the position, rather
 * than an error that reads like nothing happened. Repeated with the same key once the read models
 * catch up, it answers the same spend and takes the credits once.
 */
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { ConsumeCreditsDocument, GrantCreditsDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { eventually } from '../support/eventually';
import { applyAllowance, execute, expectData, headPosition } from '../support/graphql-client';
import { adminToken, newDataDir, startServer, tokenFor, type ServerProcess } from '../support/server-process';

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

/** A server on a new DATA_DIR, and a workspace with the scale plan's allowance: its available credits. */
async function serverWithAllowance(
  workspaceId: string,
): Promise<{ started: ServerProcess; dataDir: string; before: number }> {
  const dataDir = newDataDir();
  const started = (server = await startServer({ dataDir }));
  await applyAllowance(started.url, workspaceId, 'scale');
  const { workspaceCredits } = await expectData(started.url, WorkspaceCreditsDocument, { workspaceId }, adminToken());
  return { started, dataDir, before: workspaceCredits.available };
}

it('tells a spend the read models could not show that it was recorded, and a retry with its key takes nothing twice', async () => {
  const workspaceId = 'ws-not-visible';
  const { started, dataDir, before } = await serverWithAllowance(workspaceId);
  server = started;
  const member = tokenFor(workspaceId, 'MEMBER');
  const spend = {
    input: { workspaceId, action: 'PERSON_ENRICHMENT' as const, units: 2, idempotencyKey: 'locked-out' },
  };

  // Another process holds the read models' write lock: the projection thread cannot commit.
  const intruder = new BetterSqlite3(join(dataDir, 'read-models.sqlite'));
  intruder.exec('BEGIN IMMEDIATE');
  let locked;
  try {
    locked = await execute(server.url, ConsumeCreditsDocument, spend, member);
  } finally {
    intruder.exec('ROLLBACK');
    intruder.close();
  }
  expect(locked.data).toBeNull();
  const [error, ...more] = locked.errors ?? [];
  expect(more).toEqual([]);
  expect(error?.message).toContain('The change was recorded');
  expect(error?.extensions).toEqual({
    code: 'COMMITTED_NOT_VISIBLE',
    committed: true,
    position: error?.extensions?.position,
  });
  expect(error?.extensions?.position).toMatch(/^\d+$/);
  const position = BigInt(error?.extensions?.position as string);
  // The log has the spend: its head is at (or past) the position the answer gave.
  expect(BigInt((await headPosition(server.url)) ?? '0')).toBeGreaterThanOrEqual(position);

  // Once the lock is gone, the read models catch up by themselves and show the spend.
  const caughtUp = await eventually(
    async () =>
      (await expectData(server!.url, WorkspaceCreditsDocument, { workspaceId }, adminToken())).workspaceCredits
        .available,
    (available) => available === before - 14,
  );
  expect(caughtUp).toBe(before - 14);

  // The caller, told not to send it as new, repeats it with its key: the same spend, nothing more taken.
  const retried = await expectData(server.url, ConsumeCreditsDocument, spend, member);
  expect(retried.consumeCredits).toMatchObject({ credits: 14, available: before - 14 });
  const again = await expectData(server.url, ConsumeCreditsDocument, spend, member);
  expect(again.consumeCredits.id).toBe(retried.consumeCredits.id);
  const after = await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken());
  expect(after.workspaceCredits.available).toBe(before - 14);
}, 60_000);

it('listens when it starts with read models it cannot write, says so at /readyz, and catches up once it can', async () => {
  const workspaceId = 'ws-start-stalled';
  const { started, dataDir, before } = await serverWithAllowance(workspaceId);
  server = started;

  // The read models cannot be written from before a spend until after the restart below.
  const intruder = new BetterSqlite3(join(dataDir, 'read-models.sqlite'));
  intruder.exec('BEGIN IMMEDIATE');
  try {
    const spend = {
      input: { workspaceId, action: 'PERSON_ENRICHMENT' as const, units: 2, idempotencyKey: 'before-crash' },
    };
    const locked = await execute(server.url, ConsumeCreditsDocument, spend, tokenFor(workspaceId, 'MEMBER'));
    expect(locked.errors?.[0]?.extensions?.code).toBe('COMMITTED_NOT_VISIBLE');
    await server.stop('SIGKILL');

    server = await startServer({ dataDir }); // with the spend not projected yet
    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'read-models-unwritable' });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  } finally {
    intruder.exec('ROLLBACK');
    intruder.close();
  }

  const ready = await eventually(
    async () => (await fetch(`${server!.url}/readyz`)).status,
    (status) => status === 200,
  );
  expect(ready).toBe(200);
  expect(
    (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken())).workspaceCredits.available,
  ).toBe(before - 14);
}, 60_000);

it('answers a keyed retry of a grant the read models do not show yet as not visible, never with the balance before it', async () => {
  const workspaceId = 'ws-retry-not-visible';
  const { started, dataDir, before } = await serverWithAllowance(workspaceId);
  server = started;
  const grant = { input: { workspaceId, credits: 1_000, reason: 'goodwill', idempotencyKey: 'grant-once' } };

  const intruder = new BetterSqlite3(join(dataDir, 'read-models.sqlite'));
  intruder.exec('BEGIN IMMEDIATE');
  try {
    const first = await execute(server.url, GrantCreditsDocument, grant, adminToken());
    expect(first.errors?.[0]?.extensions?.code).toBe('COMMITTED_NOT_VISIBLE');
    // The retry appends nothing: the grant it stands for is in the log, not yet in the read models.
    // Answered from them now, it would say `before`, and its caller would grant again under a new key.
    const retried = await execute(server.url, GrantCreditsDocument, grant, adminToken());
    expect(retried.data).toBeNull();
    expect(retried.errors?.[0]?.extensions?.code).toBe('COMMITTED_NOT_VISIBLE');
  } finally {
    intruder.exec('ROLLBACK');
    intruder.close();
  }

  // Once they catch up, the retry answers the grant, once.
  const settled = await eventually(
    () => execute(server!.url, GrantCreditsDocument, grant, adminToken()),
    (answer) => answer.errors === undefined,
  );
  expect(settled.data?.grantCredits.available).toBe(before + 1_000);
  const after = await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken());
  expect(after.workspaceCredits.available).toBe(before + 1_000);
}, 60_000);
