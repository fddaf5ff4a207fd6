/**
 * creditBalanceAt reads its slices before taking a turn (fold-turns.ts): a read that is slow to come
 * (EventStoreDB over the network) holds up its own fold, never another workspace's.
 */
import type { EventStore, RecordedEvent } from '../../src/eventstore/port';
import { CreditsQueries } from '../../src/queries/credits-queries';

/** The balance at an instant needs only the store, the catalog's low-balance rule and a clock. */
const queriesOver = (store: EventStore): CreditsQueries =>
  new CreditsQueries(
    {} as never,
    {} as never,
    {} as never,
    {} as never,
    store,
    { lowBalance: { percentOfIncluded: 10, minimumCredits: 0 } } as never,
    { now: () => new Date('2026-12-01T00:00:00Z') },
    {} as never,
  );
const at = new Date('2026-11-01T00:00:00Z');

it('answers the balance at an instant of one workspace while another workspace’s read is stalled', async () => {
  let unstall: () => void = () => undefined;
  const stalled = new Promise<void>((resolve) => (unstall = resolve));
  const store = {
    async *readStream(stream: string): AsyncIterable<RecordedEvent> {
      // The first page of ws-slow's stream does not come (a node that stalls; gRPC reads have no deadline).
      if (stream.includes('ws-slow')) await stalled;
      yield* []; // both streams are empty once read
    },
  } as unknown as EventStore;
  const queries = queriesOver(store);
  const slow = queries.creditBalanceAt('ws-slow', at);
  const other = queries.creditBalanceAt('ws-other', at).then((view) => view.available);
  const waiting = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 500));
  expect(await Promise.race([other, waiting])).toBe(0);
  unstall();
  expect((await slow).available).toBe(0);
});

it('starts the reads of a burst of these requests in passes of the event loop of their own', async () => {
  // Counts the passes of the event loop (each polls for I/O: another request's turn to be read).
  let pass = 0;
  let counting = true;
  const tick = (): void => {
    pass += 1;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  const readIn: number[] = [];
  const store = {
    // eslint-disable-next-line require-yield -- an empty stream: only when it is read matters
    async *readStream(): AsyncIterable<RecordedEvent> {
      readIn.push(pass);
    },
  } as unknown as EventStore;
  const queries = queriesOver(store);
  await Promise.all(['ws-a', 'ws-b', 'ws-c'].map((workspaceId) => queries.creditBalanceAt(workspaceId, at)));
  counting = false;
  expect(readIn).toHaveLength(3);
  expect(new Set(readIn).size).toBe(3);
});
