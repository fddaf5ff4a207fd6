/**
 * A write the read models cannot show in time: the read-model database is locked by another
 * process, so the projection thread cannot commit. The spend is still recorded (the log has it),
 * and its caller is told so, COMMITTED_NOT_VISIBLE with `committed: true` and the position, rather
 * than an error that reads like nothing happened. Repeated with the same key once the read models
 * catch up, it answers the same spend and takes the credits once.
 */
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { ConsumeCreditsDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { eventually } from '../support/eventually';
import { applyAllowance, execute, expectData, headPosition } from '../support/graphql-client';
import { adminToken, newDataDir, startServer, tokenFor, type ServerProcess } from '../support/server-process';

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

it('tells a spend the read models could not show that it was recorded, and a retry with its key takes nothing twice', async () => {
  const dataDir = newDataDir();
  server = await startServer({ dataDir });
  const workspaceId = 'ws-not-visible';
  await applyAllowance(server.url, workspaceId, 'scale');
  const before = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken()))
    .workspaceCredits.available;
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
