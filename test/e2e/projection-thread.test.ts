/**
 * The server projects on a thread of its own: appends made by this process reach it at once, and
 * an event a projection cannot apply stops that projection alone (never skipped): readiness names
 * it, the CLI shows the event and the error, its queries answer READ_MODEL_UNAVAILABLE, and
 * everything else, commands included, goes on.
 */
import { join } from 'node:path';
import {
  ApplyPlanAllowanceDocument,
  ConsumeCreditsDocument,
  CreditPurchasesDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { runCreditsCli } from '../support/cli';
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

it('stops only the read model that cannot apply an event, names it, and keeps everything else serving', async () => {
  const dataDir = newDataDir();
  server = await startServer({ dataDir });
  // Another writer records the same purchase twice in one workspace, which no decider would: the
  // purchases read model refuses the second (one row per purchase) and must not skip it.
  const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  const workspaceId = 'ws-broken';
  const purchase = (grantId: string) => ({
    type: 'CreditsPurchased',
    schemaVersion: 2,
    data: {
      workspaceId,
      grantId,
      purchaseId: 'INV-1',
      packageId: 'credits-500',
      packageName: '500 credits',
      credits: 500,
      price: { amount: 5000, currency: 'USD' },
      payment: { provider: 'MANUAL', reference: 'INV-1' },
      purchasedBy: 'importer',
      purchasedAt: new Date().toISOString(),
    },
  });
  const { position } = await store.appendToStream(
    workspaceStreamName(workspaceId),
    [purchase('grant-a'), purchase('grant-b')],
    { expectedRevision: 'no_stream' },
  );
  await store.close();

  let ready = await readiness();
  for (let tries = 0; ready.body.status === 'ready' && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    ready = await readiness();
  }
  expect(ready).toMatchObject({ status: 200, body: { status: 'degraded', failedProjections: ['credit-purchases'] } });
  const failed = (ready.body as unknown as { projections: { name: string; failed?: unknown }[] }).projections.find(
    (projection) => projection.name === 'credit-purchases',
  );
  expect(failed?.failed).toMatchObject({
    position: position.toString(),
    eventType: 'CreditsPurchased',
    streamName: workspaceStreamName(workspaceId),
    error: expect.stringContaining('UNIQUE constraint failed') as unknown,
  });
  expect(server.logs.some((line) => line.msg === 'projection stopped at an event it cannot apply')).toBe(true);

  // The other read models went on: both grants are in the balance.
  const owner = tokenFor(workspaceId, 'OWNER');
  expect(
    (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, owner)).workspaceCredits.available,
  ).toBe(1000);
  // Commands go on, and answer once the healthy read models include them.
  await expectData(
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
  const spend = await expectData(
    server.url,
    ConsumeCreditsDocument,
    { input: { workspaceId: 'ws-other', action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: 'after' } },
    tokenFor('ws-other', 'MEMBER'),
  );
  expect(spend.consumeCredits.available).toBe(993);
  // The stopped read model is not served with numbers past the event it stopped at.
  const purchases = await execute(server.url, CreditPurchasesDocument, { workspaceId }, owner);
  expect(purchases.errors?.[0]).toMatchObject({
    message: expect.stringContaining('credit-purchases read model stopped at event') as unknown,
    extensions: { code: 'READ_MODEL_UNAVAILABLE', readModel: 'credit-purchases' },
  });

  // An operator sees the event and the error from the CLI.
  const statuses = runCreditsCli(dataDir, ['projections'])
    .stdout.trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { name: string; failure: unknown });
  expect(statuses.find((status) => status.name === 'credit-purchases')?.failure).toMatchObject({
    position: position.toString(),
    eventType: 'CreditsPurchased',
    eventId: expect.any(String) as unknown,
  });
  expect(statuses.find((status) => status.name === 'workspace-balance')?.failure).toBeNull();
});
