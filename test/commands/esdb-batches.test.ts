/**
 * The command handler on EventStoreDB's adapter, against the gRPC test server, which refuses appends
 * over MaxAppendSize (1 MiB) as EventStoreDB does: a burst whose events would exceed it in one append
 * is split into appends within the adapter's budget, and every caller gets its answer; a command
 * too large alone is refused, LIMIT_EXCEEDED, with nothing recorded.
 */
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import type { ConsumeCredits } from '../../src/domain/commands';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { openEsdbEventStore } from '../../src/eventstore/esdb/esdb-event-store';
import { startEsdbTestServer, type EsdbTestServer } from '../support/esdb-test-server/server';
import { appendSize } from '../support/esdb-test-server/streams-service';
import { grantOn, reserveOn, spendOn } from './commands';

let server: EsdbTestServer;
beforeAll(async () => {
  server = await startEsdbTestServer({ chatterIntervalMs: 0 });
});
afterAll(async () => {
  await server?.close();
});

const now = new Date('2026-06-01T00:00:00Z');
const metadata = { actorId: 'member' };

/** A spend with the longest key the API takes and a long reference: about 1.2 KiB of events. */
const largeSpend = (workspaceId: string, i: number): ConsumeCredits => {
  const spend = spendOn(workspaceId, i, 1, now);
  const idempotencyKey = `${i}-`.padEnd(200, 'k');
  return { ...spend, data: { ...spend.data, idempotencyKey, reference: 'r'.repeat(700) } };
};

async function burst(workspaceId: string, maxAppendBytes?: number) {
  const store = openEsdbEventStore({ connectionString: server.url, ...(maxAppendBytes && { maxAppendBytes }) });
  const handler = new WorkspaceCreditsCommandHandler(store);
  try {
    await handler.handle(grantOn(workspaceId, 10_000, 'seed', now), metadata, () => undefined);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 1_000 }, (_, i) => handler.handle(largeSpend(workspaceId, i), metadata, () => i)),
    );
    return { outcomes };
  } finally {
    await handler.close();
    await store.close();
  }
}

it('splits a burst of 1,000 large spends that would exceed 1 MiB in one append: all recorded, in order', async () => {
  const workspaceId = 'ws-large-burst';
  const refusedBefore = server.streams.appendsTooLarge;
  const { outcomes } = await burst(workspaceId);

  expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
  expect(server.streams.appendsTooLarge).toBe(refusedBefore);
  const spends = server.log.stream(workspaceStreamName(workspaceId))!.filter((e) => e.type === 'CreditsConsumed');
  expect(spends).toHaveLength(1_000);
  // One append would have been refused: the events take more than the server's MaxAppendSize.
  expect(appendSize(spends)).toBeGreaterThan(server.streams.maxAppendSize);
  const keys = spends.map(
    (event) => (JSON.parse(Buffer.from(event.data).toString()) as { idempotencyKey: string }).idempotencyKey,
  );
  expect(keys).toEqual(Array.from({ length: 1_000 }, (_, i) => largeSpend(workspaceId, i).data.idempotencyKey));
});

it('without a budget below MaxAppendSize, the same burst is refused by the server for every caller', async () => {
  const workspaceId = 'ws-large-burst-unsplit';
  const refusedBefore = server.streams.appendsTooLarge;
  const { outcomes } = await burst(workspaceId, 64 * 1024 * 1024);
  expect(server.streams.appendsTooLarge).toBe(refusedBefore + 1);
  expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
  // No one command is to blame: each is told that nothing was recorded for the append's size.
  const reason = (outcomes[0] as PromiseRejectedResult).reason as Error;
  expect(reason).toMatchObject({ code: 'LIMIT_EXCEEDED' });
  expect(reason.message).toMatch(/too large to record in one event on this event store.*nothing was recorded/);
});

it('refuses a single command too large for one append (a spend on a thousand one-credit grants), LIMIT_EXCEEDED, and decides the rest again', async () => {
  const node = await startEsdbTestServer({ chatterIntervalMs: 0, maxAppendSize: 16 * 1024 });
  const store = openEsdbEventStore({ connectionString: node.url, maxAppendBytes: 8 * 1024 });
  const handler = new WorkspaceCreditsCommandHandler(store);
  const workspaceId = 'ws-spend-on-many-grants';
  const GRANTS = 1_000;
  try {
    await Promise.all(
      Array.from({ length: GRANTS }, (_, i) =>
        handler.handle(grantOn(workspaceId, 1, `g${i}`, now), metadata, () => undefined),
      ),
    );
    // Queued together: the small spend is decided after the large one, on the credits it took.
    const [large, small] = await Promise.allSettled([
      handler.handle(spendOn(workspaceId, 0, GRANTS, now), metadata, () => 'large'),
      handler.handle(spendOn(workspaceId, 1, 1, now), metadata, () => 'small'),
    ]);
    expect(node.streams.appendsTooLarge).toBe(1);
    expect(large).toMatchObject({
      status: 'rejected',
      reason: { code: 'LIMIT_EXCEEDED', details: { limit: 16 * 1024 } },
    });
    expect(((large as PromiseRejectedResult).reason as Error).message).toMatch(
      /too large to record in one event on this event store.*nothing was recorded/,
    );
    // Not recorded, so the small spend, decided again without it, goes through.
    expect(small).toMatchObject({ status: 'fulfilled', value: { result: 'small' } });
    const spends = node.log.stream(workspaceStreamName(workspaceId))!.filter((e) => e.type === 'CreditsConsumed');
    expect(spends).toHaveLength(1);
  } finally {
    await handler.close();
    await store.close();
    await node.close();
  }
});

it('writes the expiries of thousands of holds due at once in appends within MaxAppendSize, then decides the command', async () => {
  const workspaceId = 'ws-holds-due-together';
  const store = openEsdbEventStore({ connectionString: server.url });
  const handler = new WorkspaceCreditsCommandHandler(store);
  const deadline = new Date(now.getTime() + 30 * 60_000);
  const HOLDS = 4_500;
  try {
    await handler.handle(grantOn(workspaceId, 10_000, 'seed', now), metadata, () => undefined);
    // Jobs sharing one deadline: every hold is due at the same instant.
    await Promise.all(
      Array.from({ length: HOLDS }, (_, i) =>
        handler.handle(reserveOn(workspaceId, i, deadline, now), metadata, () => undefined),
      ),
    );
    const refusedBefore = server.streams.appendsTooLarge;
    const after = new Date(deadline.getTime() + 60_000);
    // The next command after the deadline: its decision starts with 4,500 expiries, over 1 MiB.
    const answer = await handler.handle(spendOn(workspaceId, 0, 9_000, after), metadata, (state) => state);
    expect(answer.events.map((event) => event.type)).toContain('CreditsConsumed');
    expect(server.streams.appendsTooLarge).toBe(refusedBefore);
    const stream = server.log.stream(workspaceStreamName(workspaceId))!;
    const expiries = stream.filter((event) => event.type === 'CreditHoldExpired');
    expect(expiries).toHaveLength(HOLDS);
    expect(appendSize(expiries)).toBeGreaterThan(server.streams.maxAppendSize);
    // Every expiry is written before the spend that was decided on the credits they gave back.
    const spendAt = stream.findIndex((event) => event.type === 'CreditsConsumed');
    expect(stream.findLastIndex((event) => event.type === 'CreditHoldExpired')).toBeLessThan(spendAt);
  } finally {
    await handler.close();
    await store.close();
  }
});
