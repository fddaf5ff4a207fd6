/**
 * Exact expiry over HTTP: credits disappear from the balance at their expiry instant even before
 * anything is written, and the sweeper then records the expiry for a quiet workspace.
 */
import { join } from 'node:path';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { GrantCreditsDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { expectData, headPosition } from '../support/graphql-client';
import { adminToken, startServer, type ServerProcess } from '../support/server-process';

const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});
const sleepUntil = (instant: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, instant - Date.now()) + 50));

async function grantExpiringSoon(server: ServerProcess, workspaceId: string, expiresAt: number) {
  await expectData(
    server.url,
    GrantCreditsDocument,
    {
      input: {
        workspaceId,
        credits: 300,
        reason: 'trial',
        idempotencyKey: 'trial',
        expiresAt: new Date(expiresAt).toISOString(),
      },
    },
    adminToken(),
  );
  await expectData(
    server.url,
    GrantCreditsDocument,
    { input: { workspaceId, credits: 50, reason: 'goodwill', idempotencyKey: 'goodwill' } },
    adminToken(),
  );
}

it('removes expired credits from the balance at the expiry instant, before any event is written', async () => {
  const server = await startServer({ env: { EXPIRY_SWEEP_INTERVAL_MS: '3600000' } });
  servers.push(server);
  const workspaceId = 'ws-exact-expiry';
  const expiresAt = Date.now() + 1500;
  await grantExpiringSoon(server, workspaceId, expiresAt);
  const before = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken()))
    .workspaceCredits;
  expect(before).toMatchObject({ available: 350, promotional: { granted: 350, expired: 0, remaining: 350 } });
  const head = await headPosition(server.url);

  await sleepUntil(expiresAt);
  const after = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken()))
    .workspaceCredits;
  expect(after).toMatchObject({ available: 50, promotional: { granted: 350, expired: 300, remaining: 50 } });
  expect(after.grants.map((grant) => grant.remaining)).toEqual([50]);
  expect(await headPosition(server.url)).toBe(head);
});

it('records the expiry of a quiet workspace in its stream', async () => {
  const server = await startServer({ env: { EXPIRY_SWEEP_INTERVAL_MS: '100' } });
  servers.push(server);
  const workspaceId = 'ws-swept';
  const expiresAt = Date.now() + 1000;
  await grantExpiringSoon(server, workspaceId, expiresAt);
  await sleepUntil(expiresAt + 500);

  const store = openSqliteEventStore({ file: join(server.dataDir, 'events.sqlite') });
  const events = [];
  for await (const event of store.readStream(workspaceStreamName(workspaceId))) events.push(event);
  await store.close();
  const expired = events.filter((event) => event.type === 'CreditsExpired');
  expect(expired).toHaveLength(1);
  expect(expired[0]?.data).toMatchObject({
    credits: 300,
    reason: 'EXPIRED',
    expiredAt: new Date(expiresAt).toISOString(),
  });
  expect(expired[0]?.metadata).toMatchObject({ actorId: 'expiry-sweeper' });
  const balance = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken()))
    .workspaceCredits;
  expect(balance).toMatchObject({ available: 50, promotional: { expired: 300, remaining: 50 } });
});
