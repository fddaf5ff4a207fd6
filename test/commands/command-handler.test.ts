/**
 * The command handler batches the commands queued on a workspace into one append, answers nothing
 * before that append commits, and decides the whole batch again when another writer got there first.
 */
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import { type CreditsError } from '../../src/domain/errors';
import { eventTypes, instrumentedStore } from './instrumented-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { grantOn, reserveOn, spendOn } from './commands';
import { appendBytes, type NewEvent } from '../../src/eventstore/port';
import { availableCredits } from '../../src/domain/drawdown';
import type { WorkspaceCreditsState } from '../../src/domain/state';

const WORKSPACE = 'ws-batch';
const STREAM = workspaceStreamName(WORKSPACE);
const now = new Date('2026-06-01T00:00:00Z');
const metadata = { actorId: 'test' };

const grant = (credits: number, key: string) => grantOn(WORKSPACE, credits, key, now);
const spend = (i: number, creditsPerUnit = 1) => spendOn(WORKSPACE, i, creditsPerUnit, now);

it('accepts exactly what the balance covers from a burst, in a few appends', async () => {
  const { store, wrapped, appends } = instrumentedStore();
  const handler = new WorkspaceCreditsCommandHandler(wrapped);
  await handler.handle(grant(150, 'seed'), metadata, () => undefined);
  const outcomes = await Promise.allSettled(
    Array.from({ length: 200 }, (_, i) => handler.handle(spend(i), metadata, () => undefined)),
  );
  const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
  expect(outcomes.length - refused.length).toBe(150);
  expect(refused.every((outcome) => (outcome.reason as CreditsError).code === 'INSUFFICIENT_CREDITS')).toBe(true);
  expect((await eventTypes(store, STREAM)).filter((type) => type === 'CreditsConsumed')).toHaveLength(150);
  expect(appends()).toBeLessThan(10); // one append per batch, not per command
  await store.close();
});

it('decides the whole batch again, refusals included, when another writer appended first', async () => {
  const { store, wrapped, interfereOnce } = instrumentedStore();
  const handler = new WorkspaceCreditsCommandHandler(wrapped);
  await handler.handle(grant(100, 'seed'), metadata, () => undefined);

  // While the batch [spend 100, spend 100] is on its way, another process grants 100 more.
  interfereOnce(async () => {
    const revision = await store.streamRevision(STREAM);
    await store.appendToStream(
      STREAM,
      [
        {
          type: 'CreditsGranted',
          data: {
            workspaceId: WORKSPACE,
            grantId: 'grant-other',
            idempotencyKey: 'other',
            credits: 100,
            reason: 'other',
            grantedBy: 'x',
            grantedAt: now.toISOString(),
          },
        },
      ],
      { expectedRevision: revision as bigint },
    );
  });
  const [first, second] = await Promise.allSettled([
    handler.handle(spend(1, 100), metadata, () => 'first'),
    handler.handle(spend(2, 100), metadata, () => 'second'),
  ]);
  // Decided alone, the second spend would have been refused; decided again it fits.
  expect(first).toMatchObject({ status: 'fulfilled', value: { result: 'first' } });
  expect(second).toMatchObject({ status: 'fulfilled', value: { result: 'second' } });
  // The second spend empties the balance: the crossings are recorded with it.
  expect(await eventTypes(store, STREAM)).toEqual([
    'CreditsGranted',
    'CreditsGranted',
    'CreditsConsumed',
    'CreditsConsumed',
    'CreditsLow',
    'CreditsDepleted',
  ]);
  await store.close();
});

it('refuses only on the stream as it is: credits another replica granted since the state was cached count', async () => {
  const { store } = instrumentedStore();
  const replicaA = new WorkspaceCreditsCommandHandler(store);
  const replicaB = new WorkspaceCreditsCommandHandler(store);
  await replicaA.handle(grant(50, 'seed'), metadata, () => undefined);
  await replicaA.handle(spend(1, 10), metadata, () => undefined); // A caches the workspace at 40
  await replicaB.handle(grant(100, 'more'), metadata, () => undefined); // B writes; A's cache is behind
  // Decided on A's cached state alone, 100 credits would be refused; on the stream they fit.
  const outcome = await replicaA.handle(spend(2, 100), metadata, () => 'spent');
  expect(outcome.result).toBe('spent');
  await expect(replicaA.handle(spend(3, 100), metadata, () => 'refused')).rejects.toMatchObject({
    code: 'INSUFFICIENT_CREDITS',
  });
  await replicaA.close();
  await replicaB.close();
  await store.close();
});

it('answers a repeated request only once the first one is durable', async () => {
  const { store, wrapped } = instrumentedStore();
  const handler = new WorkspaceCreditsCommandHandler(wrapped);
  await handler.handle(grant(10, 'seed'), metadata, () => undefined);
  const [original, repeat] = await Promise.all([
    handler.handle(spend(7), metadata, (state) => state.consumptions.get('k7')?.consumptionId),
    handler.handle(
      { ...spend(7), data: { ...spend(7).data, consumptionId: 'another-id' } },
      metadata,
      (state) => state.consumptions.get('k7')?.consumptionId,
    ),
  ]);
  expect(original.result).toBe('c7');
  expect(repeat).toEqual({ result: 'c7', events: [], position: undefined });
  // One spend (10 credits are below the threshold from the start: the grant recorded that).
  expect(await eventTypes(store, STREAM)).toEqual(['CreditsGranted', 'CreditsLow', 'CreditsConsumed']);
  await store.close();
});

it('gives up with CONFLICT when the stream keeps changing', async () => {
  const { store, wrapped, interfereOnce } = instrumentedStore();
  const handler = new WorkspaceCreditsCommandHandler(wrapped, { maxAttempts: 2 });
  await handler.handle(grant(10, 'seed'), metadata, () => undefined);
  const otherWrites = async () => {
    const revision = await store.streamRevision(STREAM);
    await store.appendToStream(STREAM, [{ type: 'Unrelated', data: {} }], { expectedRevision: revision as bigint });
  };
  interfereOnce(async () => {
    await otherWrites();
    interfereOnce(otherWrites);
  });
  await expect(handler.handle(spend(1), metadata, () => undefined)).rejects.toMatchObject({ code: 'CONFLICT' });
  await store.close();
});

describe('with a store that limits the size of an append', () => {
  const availableOf = (state: WorkspaceCreditsState) => availableCredits(state.grants.values(), now.getTime());
  const bytesOf = (events: readonly NewEvent[]) => events.reduce((sum, event) => sum + appendBytes(event), 0);

  it('splits a burst into appends within the budget, answering every caller, in order, without counting attempts', async () => {
    const budget = 2_000;
    const { store, wrapped, appended } = instrumentedStore({ maxAppendBytes: budget });
    // maxAttempts 1: a command sent back as if it had lost a race would be refused with CONFLICT.
    const handler = new WorkspaceCreditsCommandHandler(wrapped, { maxAttempts: 1 });
    await handler.handle(grant(1_000, 'seed'), metadata, () => undefined);
    appended.length = 0;

    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        handler.handle(spend(i, 10), metadata, (state) => ({ i, available: availableOf(state) })),
      ),
    );
    expect(answers.map(({ result }) => result)).toEqual(
      Array.from({ length: 40 }, (_, i) => ({ i, available: 1_000 - 10 * (i + 1) })),
    );
    // Several appends, each within the budget and as full as it could be, keys in the order sent.
    expect(appended.length).toBeGreaterThan(3);
    for (const [n, events] of appended.entries()) {
      expect(bytesOf(events)).toBeLessThanOrEqual(budget);
      const next = appended[n + 1];
      if (next) expect(bytesOf(events) + appendBytes(next[0]!)).toBeGreaterThan(budget);
    }
    const keys = appended.flat().map((event) => event.data.idempotencyKey);
    expect(keys).toEqual(Array.from({ length: 40 }, (_, i) => `k${i}`));
    expect((await eventTypes(store, STREAM)).filter((type) => type === 'CreditsConsumed')).toHaveLength(40);
    await store.close();
  });

  it('sends a command larger than the budget alone, and refusals along with the next command', async () => {
    const { store, wrapped, appended } = instrumentedStore({ maxAppendBytes: 10 });
    const handler = new WorkspaceCreditsCommandHandler(wrapped);
    await handler.handle(grant(25, 'seed'), metadata, () => undefined);
    appended.length = 0;
    const outcomes = await Promise.allSettled([
      handler.handle(spend(0, 10), metadata, () => 'spent 0'),
      handler.handle(spend(1, 100), metadata, () => 'refused 1'),
      handler.handle(spend(2, 10), metadata, () => 'spent 2'),
      handler.handle(spend(3, 10), metadata, () => 'refused 3'),
    ]);
    expect(
      outcomes.map((outcome) =>
        outcome.status === 'fulfilled' ? outcome.value.result : (outcome.reason as CreditsError).code,
      ),
    ).toEqual(['spent 0', 'INSUFFICIENT_CREDITS', 'spent 2', 'INSUFFICIENT_CREDITS']);
    expect(appended.map((events) => events.map((event) => event.data.idempotencyKey))).toEqual([['k0'], ['k2']]);
    await store.close();
  });

  describe('holds due by the dozen, more than one append takes', () => {
    const deadline = new Date(now.getTime() + 30 * 60_000);
    const after = new Date(deadline.getTime() + 60_000);

    async function heldThenDue(maxAppendBytes: number) {
      const instrumented = instrumentedStore({ maxAppendBytes });
      const handler = new WorkspaceCreditsCommandHandler(instrumented.wrapped);
      await handler.handle(grant(100, 'seed'), metadata, () => undefined);
      for (let i = 0; i < 40; i++) {
        await handler.handle(reserveOn(WORKSPACE, i, deadline, now), metadata, () => undefined);
      }
      instrumented.appended.length = 0;
      return { ...instrumented, handler };
    }

    it('appends their expiries first, a budget at a time, then the command decided on them', async () => {
      const { store, handler, appended } = await heldThenDue(6_000);
      // 100 granted, 40 held: only once every hold's credits are back does a spend of 90 pass.
      const answer = await handler.handle(spendOn(WORKSPACE, 0, 90, after), metadata, () => 'spent');
      expect(answer.result).toBe('spent');
      expect(appended.length).toBeGreaterThan(2);
      for (const events of appended) expect(bytesOf(events)).toBeLessThanOrEqual(6_000);
      const types = appended.flat().map((event) => event.type);
      expect(types.filter((type) => type === 'CreditHoldExpired')).toHaveLength(40);
      expect(types.at(-1)).toBe('CreditsConsumed');
      await store.close();
    });

    it('answers the command with the failure when its expiries cannot be appended, once', async () => {
      const { store, wrapped, handler } = await heldThenDue(6_000);
      let tries = 0;
      const failing = Object.assign(Object.create(wrapped) as typeof wrapped, {
        appendToStream: () => {
          tries += 1;
          return Promise.reject(new Error('the event store is unreachable'));
        },
      });
      const down = new WorkspaceCreditsCommandHandler(failing);
      await expect(down.handle(spendOn(WORKSPACE, 0, 90, after), metadata, () => 'spent')).rejects.toThrow(
        'the event store is unreachable',
      );
      // One try, answered: not the same expiries tried again and again while the store is down.
      expect(tries).toBe(1);
      await down.close();
      await handler.close();
      await store.close();
    });
  });

  it('tells only the callers of an append that failed; the commands it left out go on', async () => {
    const { store, wrapped, interfereOnce } = instrumentedStore({ maxAppendBytes: 10 });
    const handler = new WorkspaceCreditsCommandHandler(wrapped);
    await handler.handle(grant(100, 'seed'), metadata, () => undefined);
    interfereOnce(() => Promise.reject(new Error('disk on fire')));
    const outcomes = await Promise.allSettled([0, 1, 2].map((i) => handler.handle(spend(i, 10), metadata, () => i)));
    expect(
      outcomes.map((outcome) =>
        outcome.status === 'fulfilled' ? outcome.value.result : (outcome.reason as Error).message,
      ),
    ).toEqual(['disk on fire', 1, 2]);
    expect((await eventTypes(store, STREAM)).filter((type) => type === 'CreditsConsumed')).toHaveLength(2);
    await store.close();
  });
});
