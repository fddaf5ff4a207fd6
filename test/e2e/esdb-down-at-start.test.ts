/**
 * A server started while its EventStoreDB node is down (a node still booting, a network not up
 * yet) listens rather than exiting: /healthz answers, /readyz answers 503 and says the store is
 * unreachable, a command answers STORE_UNAVAILABLE and records nothing; once the node answers, the
 * projections follow the log from where it stands, /readyz turns ready and commands are served.
 * One real server process (`node dist/src/main.js`) on the gRPC test server.
 */
import { ConsumeCreditsDocument } from '../generated/graphql';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { applyAllowance, execute, expectData } from '../support/graphql-client';
import { startEsdbTestServer, type EsdbTestServer } from '../support/esdb-test-server/server';
import { eventually } from '../support/eventually';
import { startServer, tokenFor, type ServerProcess } from '../support/server-process';

let eventStore: EsdbTestServer;
let server: ServerProcess | undefined;

beforeAll(async () => {
  eventStore = await startEsdbTestServer();
});
afterAll(async () => {
  await server?.stop();
  await eventStore?.close();
});

const readyz = async (url: string) => {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string } };
};

it('listens while the node is down, says so, and serves once the node answers', async () => {
  const workspaceId = `ws-down-at-start-${process.pid}`;
  await eventStore.stop();
  server = await startServer({ env: { EVENTSTORE_URL: eventStore.url, EXPIRY_SWEEP_INTERVAL_MS: '3600000' } });
  const { url } = server;

  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  expect(await readyz(url)).toMatchObject({ status: 503, body: { status: 'store-unreachable' } });
  expect(
    server.logs.some((entry) => entry.msg === 'the event store cannot be reached; trying again until it answers'),
  ).toBe(true);

  const member = tokenFor(workspaceId, 'MEMBER');
  const variables = {
    input: { workspaceId, action: 'ORG_CHART_SYNC' as const, units: 1, idempotencyKey: 'while-down' },
  };
  const refused = await execute(url, ConsumeCreditsDocument, variables, member);
  expect(refused.data).toBeFalsy();
  expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });

  await eventStore.restart();
  const ready = await eventually(
    () => readyz(url),
    (answer) => answer.status === 200,
    20_000,
  );
  expect(ready).toMatchObject({ status: 200, body: { status: 'ready', lag: 0 } });
  expect(server.logs.some((entry) => entry.msg === 'the event store answers: following the log')).toBe(true);

  // Nothing was recorded by the refused spend; the same key now spends once.
  expect(eventStore.log.stream(workspaceStreamName(workspaceId)) ?? []).toHaveLength(0);
  await applyAllowance(url, workspaceId, 'starter');
  const spent = await expectData(url, ConsumeCreditsDocument, variables, member);
  expect(spent.consumeCredits).toMatchObject({ workspaceId, credits: 100, available: 900 });
}, 60_000);
