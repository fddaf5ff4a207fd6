/**
 * Several API replicas on one EventStoreDB: two real server processes (`node dist/src/main.js`)
 * with EVENTSTORE_URL pointing at the gRPC test server (test/support/esdb-test-server), each with
 * its own read-model database. No real EventStoreDB runs here; the test server speaks its gRPC
 * protocol to the real client inside each process.
 */
import {
  ApplyPlanAllowanceDocument,
  ConsumeCreditsDocument,
  CreditLedgerDocument,
  ReserveCreditsDocument,
  SettleCreditHoldDocument,
  WorkspaceCreditsDocument,
  type ConsumeCreditsMutation,
} from '../generated/graphql';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { execute, expectData, type GraphQLResponse } from '../support/graphql-client';
import { startEsdbTestServer, type EsdbTestServer } from '../support/esdb-test-server/server';
import { adminToken, startServers, tokenFor, type ServerProcess } from '../support/server-process';
import { eventually } from '../support/eventually';
import { LOG_FOLLOWERS } from '../../src/server/log-followers';

let eventStore: EsdbTestServer;
let replicas: [ServerProcess, ServerProcess];

beforeAll(async () => {
  eventStore = await startEsdbTestServer();
  const env = { EVENTSTORE_URL: eventStore.url, EXPIRY_SWEEP_INTERVAL_MS: '3600000' };
  replicas = (await startServers([{ env }, { env }])) as [ServerProcess, ServerProcess];
});
afterAll(async () => {
  await Promise.all(replicas?.map((replica) => replica.stop()) ?? []);
  await eventStore?.close();
});

const DAY = 24 * 60 * 60 * 1000;
const currentPeriod = () => ({
  periodStart: new Date(Date.now() - DAY).toISOString(),
  periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
});

async function workspaceWithPlan(workspaceId: string, planId: 'starter' | 'growth'): Promise<void> {
  await expectData(
    replicas[0].url,
    ApplyPlanAllowanceDocument,
    { input: { workspaceId, planId, ...currentPeriod() } }, // starter 1,000 credits, growth 5,000
    adminToken(),
  );
}

/** A spend of 100 credits; a CONFLICT (the other replica kept winning) is retried with the same key. */
async function spend(
  replica: ServerProcess,
  workspaceId: string,
  key: string,
  token: string,
): Promise<GraphQLResponse<ConsumeCreditsMutation>> {
  const variables = { input: { workspaceId, action: 'ORG_CHART_SYNC' as const, units: 1, idempotencyKey: key } };
  for (let attempt = 1; ; attempt++) {
    const response = await execute(replica.url, ConsumeCreditsDocument, variables, token);
    if (response.errors?.[0]?.extensions?.code !== 'CONFLICT' || attempt === 10) return response;
  }
}

interface ReadyReport {
  status: string;
  store: { reachable: boolean };
  head: string | null;
  projected: string | null;
  lag: number | null;
  projections: { name: string; projected: string | null; lag: number | null }[];
}

async function readiness(replica: ServerProcess): Promise<{ status: number; body: ReadyReport }> {
  const response = await fetch(`${replica.url}/readyz`);
  return { status: response.status, body: (await response.json()) as ReadyReport };
}

const balanceOn = async (replica: ServerProcess, workspaceId: string) =>
  (await expectData(replica.url, WorkspaceCreditsDocument, { workspaceId }, adminToken())).workspaceCredits;

const ledgerOn = async (replica: ServerProcess, workspaceId: string) =>
  (
    await expectData(replica.url, CreditLedgerDocument, { workspaceId, first: 100 }, adminToken())
  ).creditLedger.edges.map((edge) => edge.node);

/** The workspace's events as the event store holds them. */
const storedEvents = (workspaceId: string) =>
  (eventStore.log.stream(workspaceStreamName(workspaceId)) ?? []).map((event) => ({
    type: event.type,
    data: JSON.parse(Buffer.from(event.data).toString('utf8')) as Record<string, unknown>,
  }));

it('takes a concurrent burst of spends on one workspace through both replicas: never overdrawn, nothing lost', async () => {
  const workspaceId = `ws-replicas-${process.pid}`;
  await workspaceWithPlan(workspaceId, 'growth');
  const member = tokenFor(workspaceId, 'MEMBER');
  // Replica 0 holds the workspace at the allowance's revision; a spend through replica 1 moves the
  // stream on, so replica 0's first append of the burst is sure to lose the race on the revision.
  expect((await spend(replicas[1], workspaceId, 'warm-up', member)).data).toBeTruthy();
  const conflictsBefore = eventStore.log.conflicts;

  // 80 × 100 credits asked for, 49 can still be paid. Each replica gets 40, so neither can take all 49.
  const attempts = 80;
  const responses = await Promise.all(
    Array.from({ length: attempts }, (_, i) => spend(replicas[i % 2]!, workspaceId, `burst-${i}`, member)),
  );

  const accepted = responses.filter((response) => response.data);
  const refused = responses.filter((response) => response.errors?.[0]?.extensions?.code === 'INSUFFICIENT_CREDITS');
  expect(accepted.length + refused.length).toBe(attempts);
  expect(accepted).toHaveLength(49);
  // Each accepted spend saw the balance right after it: the 49 answers are the 49 balances.
  const after = accepted.map((response) => response.data!.consumeCredits.available);
  expect(after.sort((a, b) => a - b)).toEqual(Array.from({ length: 49 }, (_, i) => i * 100));
  // Both replicas took part, and they really raced on the stream's revision.
  expect(new Set(accepted.map((response) => responses.indexOf(response) % 2)).size).toBe(2);
  expect(eventStore.log.conflicts).toBeGreaterThan(conflictsBefore);

  // The log holds exactly the 50 spends (the warm-up and the burst's 49), each key once.
  const spends = storedEvents(workspaceId).filter((event) => event.type === 'CreditsConsumed');
  expect(spends).toHaveLength(50);
  expect(new Set(spends.map((event) => event.data.idempotencyKey)).size).toBe(50);

  // Both replicas' read models end at the same, exact balance and the same ledger.
  for (const replica of replicas) {
    const balance = await eventually(
      () => balanceOn(replica, workspaceId),
      (value) => value.available === 0,
    );
    expect(balance).toMatchObject({ available: 0, included: { granted: 5000, consumed: 5000, remaining: 0 } });
  }
  const [ledgerA, ledgerB] = await Promise.all(replicas.map((replica) => ledgerOn(replica, workspaceId)));
  expect(ledgerA!.filter((entry) => entry.type === 'CONSUMPTION')).toHaveLength(50);
  expect(ledgerB).toEqual(ledgerA);
});

it('keeps projecting across a dropped subscription and an event store restart, each event once', async () => {
  const workspaceId = `ws-restart-${process.pid}`;
  await workspaceWithPlan(workspaceId, 'starter');
  const member = tokenFor(workspaceId, 'MEMBER');
  const ready = await readiness(replicas[1]);
  expect(ready).toMatchObject({ status: 200, body: { status: 'ready', store: { reachable: true } } });
  expect(ready.body.projections.map((projection) => projection.name).sort()).toEqual(
    LOG_FOLLOWERS.map((follower) => follower.name).sort(),
  );

  // The server drops every subscription while spends go on.
  const opened = eventStore.streams.subscriptionsOpened;
  const firstSpends = Promise.all([0, 1, 2].map((i) => spend(replicas[0], workspaceId, `before-${i}`, member)));
  expect(eventStore.dropSubscriptions()).toBeGreaterThanOrEqual(2);
  expect((await firstSpends).every((response) => response.data)).toBe(true);
  // Both replicas resubscribe after the drop before the node goes away (else one new subscription
  // could serve for the drop and the restart alike).
  const resubscribed = await eventually(
    async () => eventStore.streams.subscriptionsOpened,
    (count) => count >= opened + 2,
  );
  expect(resubscribed).toBeGreaterThanOrEqual(opened + 2);

  // The node goes away: readiness says so, with each projection's position.
  await eventStore.stop();
  const down = await readiness(replicas[1]);
  expect(down.status).toBe(503);
  expect(down.body).toMatchObject({ status: 'store-unreachable', store: { reachable: false }, lag: null });
  expect(down.body.projections).toHaveLength(LOG_FOLLOWERS.length);

  // It comes back: the subscriptions resubscribe after their last event, with backoff.
  await eventStore.restart();
  const back = await eventually(
    () => readiness(replicas[1]),
    (report) => report.status === 200,
  );
  expect(back.body.store.reachable).toBe(true);
  // Each replica's projections resubscribed after the drop, and again after the restart.
  await eventually(
    async () => eventStore.streams.subscriptions.size,
    (size) => size === 2,
  );
  expect(eventStore.streams.subscriptionsOpened).toBeGreaterThanOrEqual(opened + 4);
  for (const replica of replicas) {
    expect(replica.logs.some((line) => String(line.msg).startsWith('EventStoreDB subscription to $all dropped'))).toBe(
      true,
    );
  }
  expect((await spend(replicas[0], workspaceId, 'after-restart', member)).data).toBeTruthy();

  const expectedAvailable = 1000 - 4 * 100;
  for (const replica of replicas) {
    const balance = await eventually(
      () => balanceOn(replica, workspaceId),
      (value) => value.available === expectedAvailable,
    );
    expect(balance.available).toBe(expectedAvailable);
    // The ledger has the allowance and the four spends: nothing applied twice, nothing skipped.
    const ledger = await ledgerOn(replica, workspaceId);
    expect(ledger.map((entry) => entry.type).sort()).toEqual([
      'CONSUMPTION',
      'CONSUMPTION',
      'CONSUMPTION',
      'CONSUMPTION',
      'PLAN_ALLOWANCE',
    ]);
    const report = await eventually(
      () => readiness(replica),
      (value) => value.body.lag === 0,
    );
    expect(report.body).toMatchObject({ status: 'ready', lag: 0 });
    expect(report.body.projections.every((projection) => projection.lag === 0)).toBe(true);
  }
});

it('settles on one replica the holds reserved a moment before on the other', async () => {
  const workspaceId = `replicas-holds-${Date.now()}`;
  await workspaceWithPlan(workspaceId, 'starter');
  const service = tokenFor(workspaceId, 'SERVICE');
  const settled = [];
  for (let i = 0; i < 10; i++) {
    const hold = (
      await expectData(
        replicas[0].url,
        ReserveCreditsDocument,
        { input: { workspaceId, action: 'PERSON_ENRICHMENT', units: 2, idempotencyKey: `hold-${i}` } },
        service,
      )
    ).reserveCredits;
    // At once, on the replica that has not projected the reserve yet: it catches up before looking.
    const response = await execute(
      replicas[1].url,
      SettleCreditHoldDocument,
      { input: { holdId: hold.id, units: 1, idempotencyKey: `settle-${i}` } },
      service,
    );
    expect(response.errors).toBeUndefined();
    settled.push(response.data?.settleCreditHold);
  }
  expect(settled).toHaveLength(10);
  expect(settled.every((consumption) => consumption?.workspaceId === workspaceId)).toBe(true);
  const balance = await expectData(replicas[1].url, WorkspaceCreditsDocument, { workspaceId }, adminToken());
  expect(balance.workspaceCredits.available).toBe(1000 - 10 * 7); // each settled 1 unit of 7 credits, released 1
});
