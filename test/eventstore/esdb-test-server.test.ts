/**
 * The gRPC test server behaves like EventStoreDB where the adapter relies on it. These tests talk
 * to it with the real client directly, no adapter in between, and pin down what EventStoreDB does:
 * reads of `$all` include the event at their start position (forwards) or stop before it
 * (backwards), subscriptions start strictly after it, catch up and then go live; server-side
 * filters; WrongExpectedVersion; stream_not_found; system events in `$all`.
 */
import { randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  MaxAppendSizeExceededError,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type Filter,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { startEsdbTestServer, type EsdbTestServer } from '../support/esdb-test-server/server';

let server: EsdbTestServer;
let client: EventStoreDBClient;
beforeAll(async () => {
  server = await startEsdbTestServer({ chatterIntervalMs: 0 });
  client = EventStoreDBClient.connectionString(server.url);
});
afterAll(async () => {
  await client.dispose();
  await server?.close();
});

const events = (count: number, type = 'Numbered') =>
  Array.from({ length: count }, (_, n) => jsonEvent({ type, data: { n } }));

async function collect<T>(read: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

const streamsOf = (resolved: (ResolvedEvent | AllStreamResolvedEvent)[]) => resolved.map((r) => r.event!.streamId);

it('writes system events to $all before and between client appends', async () => {
  const all = await collect(client.readAll({ fromPosition: START }));
  expect(streamsOf(all).slice(0, 3)).toEqual(['$users', '$user-admin', '$settings']);
  server.log.systemChatter();
  const tail = await collect(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 3 }));
  expect(tail.map((r) => [r.event!.streamId, r.event!.type])).toEqual([
    ['$monitoring-heartbeat', 'Heartbeat'],
    ['$ce-workspace', '$>'],
    ['$stats-127.0.0.1:2113', '$statsCollected'],
  ]);
});

it('numbers revisions from 0 and places each appended event at its own position, commit = prepare', async () => {
  const stream = `s-${randomUUID()}`;
  const result = await client.appendToStream(stream, events(3), { expectedRevision: 'no_stream' });
  const read = await collect(client.readStream(stream));
  expect(read.map((r) => r.event!.revision)).toEqual([0n, 1n, 2n]);
  for (const r of read) expect(r.event!.position!.commit).toBe(r.event!.position!.prepare);
  expect(result.nextExpectedRevision).toBe(2n);
  expect(result.position).toEqual(read[2]!.event!.position);
  expect(read[2]!.event!.created.getTime()).toBeGreaterThan(Date.now() - 5000);
});

it('answers a wrong expected version with the current revision', async () => {
  const stream = `wev-${randomUUID()}`;
  await client.appendToStream(stream, events(2));
  const refused = client.appendToStream(stream, events(1), { expectedRevision: 0n });
  await expect(refused).rejects.toBeInstanceOf(WrongExpectedVersionError);
  await expect(refused).rejects.toMatchObject({ streamName: stream, expectedVersion: 0n, actualVersion: 1n });
  await expect(
    client.appendToStream(`missing-${randomUUID()}`, events(1), { expectedRevision: 'stream_exists' }),
  ).rejects.toMatchObject({ actualVersion: 'no_stream' });
});

it('answers stream_not_found for a stream without events, and reads streams backwards from the end', async () => {
  await expect(collect(client.readStream(`none-${randomUUID()}`))).rejects.toBeInstanceOf(StreamNotFoundError);
  const stream = `back-${randomUUID()}`;
  await client.appendToStream(stream, events(4));
  const back = await collect(client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 2 }));
  expect(back.map((r) => r.event!.revision)).toEqual([3n, 2n]);
  const forwards = await collect(client.readStream(stream, { direction: FORWARDS, fromRevision: 2n }));
  expect(forwards.map((r) => r.event!.revision)).toEqual([2n, 3n]);
});

it('reads $all forwards from a position including it, backwards from a position excluding it', async () => {
  const stream = `all-${randomUUID()}`;
  await client.appendToStream(stream, events(3));
  const mine = (await collect(client.readAll({ fromPosition: START }))).filter((r) => r.event!.streamId === stream);
  const middle = mine[1]!.event!.position;
  const forwards = await collect(client.readAll({ fromPosition: middle, maxCount: 2 }));
  expect(forwards.map((r) => r.event!.revision)).toEqual([1n, 2n]);
  const backwards = await collect(client.readAll({ direction: BACKWARDS, fromPosition: middle, maxCount: 1 }));
  expect(backwards.map((r) => r.event!.revision)).toEqual([0n]);
});

/** An event of `dataBytes` of data and `metadataBytes` of metadata, as JSON. */
const sized = (type: string, dataBytes: number, metadataBytes: number) =>
  jsonEvent({
    type,
    data: { x: 'd'.repeat(dataBytes - '{"x":""}'.length) },
    metadata: { m: 'm'.repeat(metadataBytes - '{"m":""}'.length) },
  });

// EventStoreDB counts data + metadata + twice the event type's length of every event.
describe.each([
  ['BatchAppend', true],
  ['Append', false],
])('appends larger than MaxAppendSize (%s)', (_api, batchAppend) => {
  it('are refused whole with the error the client raises as MaxAppendSizeExceededError', async () => {
    const node = await startEsdbTestServer({ chatterIntervalMs: 0, batchAppend, maxAppendSize: 1_000 });
    const nodeClient = EventStoreDBClient.connectionString(node.url);
    try {
      // 2 × (300 + 190 + 2 × 5) = 1,000: at the limit, taken.
      const atLimit = [sized('Sized', 300, 190), sized('Sized', 300, 190)];
      await nodeClient.appendToStream('limit', atLimit);
      const over = [sized('Sized', 300, 190), sized('Sized', 301, 190)];
      const refusal = nodeClient.appendToStream('limit', over);
      await expect(refusal).rejects.toThrow(MaxAppendSizeExceededError);
      await expect(refusal).rejects.toMatchObject({ maxAppendSize: 1_000 });
      expect(node.log.stream('limit')).toHaveLength(2);
      expect(node.streams.appendsTooLarge).toBe(1);
      expect(node.streams.calls[batchAppend ? 'batchAppend' : 'append']).toBeGreaterThan(0);
    } finally {
      await nodeClient.dispose();
      await node.close();
    }
  });
});

it('refuses appends larger than 1 MiB by default, as EventStoreDB does', async () => {
  await client.appendToStream(`big-${randomUUID()}`, [sized('Big', 1_048_576 - 100 - 6, 100)]);
  const refusal = client.appendToStream(`big-${randomUUID()}`, [sized('Big', 1_048_576 - 100 - 5, 100)]);
  await expect(refusal).rejects.toThrow(MaxAppendSizeExceededError);
});

describe('subscriptions to $all', () => {
  async function subscribe(filter: Filter | undefined, count: number, after?: AllStreamResolvedEvent) {
    const subscription = client.subscribeToAll({
      fromPosition: after ? after.event!.position : START,
      ...(filter && { filter }),
    });
    const received: AllStreamResolvedEvent[] = [];
    let caughtUp = false;
    subscription.on('caughtUp', () => (caughtUp = true));
    for await (const resolved of subscription) {
      received.push(resolved);
      if (received.length === count) break;
    }
    await subscription.unsubscribe();
    return { received, caughtUp };
  }

  it('start strictly after their position, catch up, then go live', async () => {
    const stream = `live-${randomUUID()}`;
    await client.appendToStream(stream, events(2));
    const [first] = (await collect(client.readAll({ fromPosition: START }))).filter(
      (r) => r.event!.streamId === stream,
    );
    const subscription = subscribe(streamNameFilter({ prefixes: [stream] }), 3, first);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.appendToStream(stream, events(2));
    const { received, caughtUp } = await subscription;
    expect(received.map((r) => r.event!.revision)).toEqual([1n, 2n, 3n]);
    expect(caughtUp).toBe(true);
  });

  it('filter on the server by stream prefix, stream regex, event type prefix, event type regex', async () => {
    const tag = randomUUID().slice(0, 8);
    await client.appendToStream(`alpha-${tag}`, events(1, `TypeA${tag}`));
    await client.appendToStream(`beta-${tag}`, events(1, `TypeB${tag}`));
    await client.appendToStream(`alpha2-${tag}`, events(1, `TypeB${tag}`));
    const byPrefix = await subscribe(streamNameFilter({ prefixes: [`alpha-${tag}`, `beta-${tag}`] }), 2);
    expect(streamsOf(byPrefix.received)).toEqual([`alpha-${tag}`, `beta-${tag}`]);
    const byRegex = await subscribe(streamNameFilter({ regex: `^alpha2?-${tag}$` }), 2);
    expect(streamsOf(byRegex.received)).toEqual([`alpha-${tag}`, `alpha2-${tag}`]);
    const byTypePrefix = await subscribe(eventTypeFilter({ prefixes: [`TypeB${tag}`] }), 2);
    expect(streamsOf(byTypePrefix.received)).toEqual([`beta-${tag}`, `alpha2-${tag}`]);
    const byTypeRegex = await subscribe(eventTypeFilter({ regex: `^TypeA${tag}$` }), 1);
    expect(streamsOf(byTypeRegex.received)).toEqual([`alpha-${tag}`]);
  });

  it('leave out system event types with excludeSystemEvents, but not `$` streams of other types', async () => {
    server.log.systemChatter();
    const all = await collect(client.readAll({ fromPosition: START }));
    const expected = all.filter((r) => !r.event!.type.startsWith('$'));
    const { received } = await subscribe(excludeSystemEvents(), expected.length);
    expect(received.map((r) => r.event!.id)).toEqual(expected.map((r) => r.event!.id));
    // Why the adapter also checks stream names itself:
    expect(streamsOf(received)).toContain('$monitoring-heartbeat');
  });

  it('end with an error status when the server drops them', async () => {
    const subscription = client.subscribeToAll({ fromPosition: END });
    const failed = new Promise<Error>((resolve) => subscription.on('error', resolve));
    await new Promise((resolve) => subscription.once('confirmation', resolve));
    expect(server.dropSubscriptions()).toBe(1);
    expect((await failed).message).toMatch(/dropped by the test server/i);
  });
});
