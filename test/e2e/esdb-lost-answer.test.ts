/**
 * An append to EventStoreDB whose answer is lost (the node commits it, then the call fails with
 * UNAVAILABLE, INTERNAL, UNKNOWN or RESOURCE_EXHAUSTED) reaches the GraphQL client as STORE_UNAVAILABLE, retryable, not as an internal error;
 * the retry with the same idempotency key answers the spend that was recorded, and records nothing
 * more. One real server process (`node dist/src/main.js`) on the gRPC test server.
 */
import { status } from '@grpc/grpc-js';
import { ConsumeCreditsDocument } from '../generated/graphql';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { applyAllowance, execute, expectData } from '../support/graphql-client';
import { startEsdbTestServer, type EsdbTestServer } from '../support/esdb-test-server/server';
import { startServer, tokenFor, type ServerProcess } from '../support/server-process';

let eventStore: EsdbTestServer;
let server: ServerProcess;

beforeAll(async () => {
  eventStore = await startEsdbTestServer();
  server = await startServer({ env: { EVENTSTORE_URL: eventStore.url, EXPIRY_SWEEP_INTERVAL_MS: '3600000' } });
});
afterAll(async () => {
  await server?.stop();
  await eventStore?.close();
});

it.each([
  ['UNAVAILABLE', status.UNAVAILABLE],
  ['INTERNAL', status.INTERNAL],
  ['UNKNOWN', status.UNKNOWN],
  ['RESOURCE_EXHAUSTED', status.RESOURCE_EXHAUSTED],
])(
  'answers STORE_UNAVAILABLE, retryable, and the retry with the same key gives the one spend recorded (%s)',
  async (name, code) => {
    const workspaceId = `ws-lost-answer-${name.toLowerCase()}-${process.pid}`;
    await applyAllowance(server.url, workspaceId, 'starter');
    const member = tokenFor(workspaceId, 'MEMBER');
    const variables = {
      input: { workspaceId, action: 'ORG_CHART_SYNC' as const, units: 1, idempotencyKey: 'lost-answer' },
    };

    eventStore.streams.failAfterCommit(1, code);
    const first = await execute(server.url, ConsumeCreditsDocument, variables, member);
    expect(first.data).toBeFalsy();
    expect(first.errors?.[0]?.extensions).toEqual({ code: 'STORE_UNAVAILABLE', retryable: true });
    expect(first.errors?.[0]?.message).toMatch(/may or may not have been recorded.*same idempotency key is safe/);

    const retried = await expectData(server.url, ConsumeCreditsDocument, variables, member);
    expect(retried.consumeCredits).toMatchObject({ workspaceId, credits: 100, available: 900 });
    const again = await expectData(server.url, ConsumeCreditsDocument, variables, member);
    expect(again.consumeCredits).toEqual(retried.consumeCredits);

    const spends = (eventStore.log.stream(workspaceStreamName(workspaceId)) ?? []).filter(
      (event) => event.type === 'CreditsConsumed',
    );
    expect(spends).toHaveLength(1);
  },
);
