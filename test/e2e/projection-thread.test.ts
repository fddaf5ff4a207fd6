/**
 * The server projects on a thread of its own: appends made by this process reach it at once, and
 * an event a projection cannot apply stops the projections (never skipped), readiness says so, and
 * the server goes on answering without serving numbers past that event.
 */
import { join } from 'node:path';
import { ApplyPlanAllowanceDocument, ConsumeCreditsDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { execute, expectData } from '../support/graphql-client';
import { adminToken, newDataDir, startServer, tokenFor, type ServerProcess } from '../support/server-process';

const DAY = 24 * 60 * 60 * 1000;
let server: ServerProcess;
afterEach(async () => {
  await server.stop('SIGKILL');
});

async function readiness(): Promise<{ status: number; body: { status: string; lag: number | null } }> {
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; lag: number | null } };
}

it('answers a spend only once its own thread has projected it, with the projections caught up', async () => {
  server = await startServer();
  const workspaceId = 'ws-thread';
  await expectData(
    server.url,
    ApplyPlanAllowanceDocument,
    {
      input: {
        workspaceId,
        planId: 'starter',
        periodStart: new Date(Date.now() - DAY).toISOString(),
        periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
      },
    },
    adminToken(),
  );
  const member = tokenFor(workspaceId, 'MEMBER');
  const spends = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      expectData(
        server.url,
        ConsumeCreditsDocument,
        { input: { workspaceId, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: `t${i}` } },
        member,
      ),
    ),
  );
  const available = spends.map((spend) => spend.consumeCredits.available).sort((a, b) => b - a);
  // Each answer was read after its spend was projected: the 20 balances are 20 different steps.
  expect(new Set(available).size).toBe(20);
  const balance = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, member)).workspaceCredits;
  expect(balance.available).toBe(available[19]);
  expect(await readiness()).toMatchObject({ status: 200, body: { status: 'ready', lag: 0 } });
});

it('stops projecting at an event it cannot apply, says so at /readyz, and keeps serving', async () => {
  const dataDir = newDataDir();
  server = await startServer({ dataDir });
  // Another writer records the same spend twice, which no decider would: the ledger refuses the
  // second (one entry per spend), and a read model that skipped it would be wrong.
  const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  const workspaceId = 'ws-broken';
  const spend = (revision: number) => ({
    type: 'CreditsConsumed',
    data: {
      workspaceId,
      consumptionId: 'the-same-spend',
      idempotencyKey: `key-${revision}`,
      action: 'PERSON_ENRICHMENT',
      units: 1,
      creditsPerUnit: 7,
      credits: 7,
      drawdown: [{ grantId: 'no-such-grant', source: 'PROMOTIONAL', credits: 7 }],
      availableAfter: 0,
      actorId: 'importer',
      consumedAt: new Date().toISOString(),
    },
  });
  await store.appendToStream(workspaceStreamName(workspaceId), [spend(0), spend(1)], { expectedRevision: 'no_stream' });
  await store.close();

  let ready = await readiness();
  for (let tries = 0; ready.status === 200 && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    ready = await readiness();
  }
  expect(ready).toMatchObject({ status: 503, body: { status: 'projection-failed' } });
  expect(server.logs.some((line) => line.msg === 'projection thread stopped')).toBe(true);

  // The process still answers; a write is still durable, but it cannot be read back as projected.
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  const allowance = await execute(
    server.url,
    ApplyPlanAllowanceDocument,
    {
      input: {
        workspaceId: 'ws-other',
        planId: 'starter',
        periodStart: new Date(Date.now() - DAY).toISOString(),
        periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
      },
    },
    adminToken(),
  );
  expect(allowance.errors?.[0]).toMatchObject({
    message: expect.stringContaining('Projection stopped') as unknown,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
  const log = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  expect(await log.streamRevision(workspaceStreamName('ws-other'))).toBe(0n);
  await log.close();
});
