/**
 * What the decider remembers of holds: active ones, closed ones for the idempotency window (then
 * forgotten with their keys), and all of it through a snapshot exactly.
 */
import { evolve } from '../../src/domain/evolve';
import { IDEMPOTENCY_RETENTION_MS } from '../../src/domain/state';
import { decodeState, encodeState } from '../../src/domain/state-snapshot';
import { at, draw, HOUR, purchased } from './builders';
import { extended, holdExpired, released, reserve, reserved, settle, settled } from './hold-builders';
import { given, stateOf } from './spec';

const p100 = [draw('purchase-1', 'PURCHASED', 100)];
const hold = (n: number, reservedAt = at(0)) =>
  reserved({
    holdId: `hold-${n}`,
    idempotencyKey: `key-${n}`,
    units: 1,
    drawdown: p100,
    availableAfter: 500 - 100 * n,
    reservedAt,
  });
const history = [
  purchased({ credits: 500 }),
  hold(1),
  hold(2),
  hold(3),
  hold(4, at(HOUR / 2)),
  settled({ holdId: 'hold-1', units: 1, fromHold: p100, returned: [], availableAfter: 100, settledAt: at(10_000) }),
  released(p100, { holdId: 'hold-2', at: at(20_000), reason: 'cancelled' }),
  holdExpired(p100, at(HOUR), 'hold-3'),
  extended(at(5 * HOUR), at(HOUR + HOUR / 2), { holdId: 'hold-4', at: at(HOUR) }),
];

describe('the state of holds', () => {
  it('survives a snapshot exactly, active and closed', () => {
    const original = stateOf(history);
    const restored = decodeState(encodeState(original));
    const rest = { consumptions: undefined, closedHolds: undefined };
    expect({ ...restored, ...rest }).toStrictEqual({ ...original, ...rest });
    expect([...restored.closedHolds.values()]).toStrictEqual([...original.closedHolds.values()]);
    expect([...restored.activeHolds.keys()]).toEqual(['hold-4']);
    expect([...restored.closedHolds.keys()]).toEqual(['hold-1', 'hold-2', 'hold-3']);
    expect(restored.activeHolds.get('hold-4')?.expiresAt).toBe(at(5 * HOUR).getTime());
    expect(restored.closedHolds.get('hold-1')?.settlement).toMatchObject({
      credits: 100,
      consumptionId: 'settle-spend-1',
    });
  });

  it('forgets closed holds and their keys once the idempotency window has passed', () => {
    const later = at(IDEMPOTENCY_RETENTION_MS + 15_000);
    const state = evolve(stateOf(history), released(p100, { holdId: 'hold-4', at: later }));
    expect([...state.closedHolds.keys()]).toEqual(['hold-2', 'hold-3', 'hold-4']);
    expect(state.holdKeys.has('key-1')).toBe(false);
    expect(state.holdKeys.get('key-2')).toBe('hold-2');
  });

  it('answers a key whose hold closed longer ago than the window as a new request', () =>
    given(...history)
      .when(
        reserve({ idempotencyKey: 'key-1', units: 1, holdId: 'hold-new', now: at(IDEMPOTENCY_RETENTION_MS + 20_000) }),
      )
      .then(
        holdExpired(p100, at(5 * HOUR), 'hold-4', 400),
        reserved({
          holdId: 'hold-new',
          idempotencyKey: 'key-1',
          units: 1,
          drawdown: [draw('purchase-1', 'PURCHASED', 100)],
          availableAfter: 300,
          reservedAt: at(IDEMPOTENCY_RETENTION_MS + 20_000),
        }),
      ));

  it('restores each key naming its last hold, a key used again after its window included', () => {
    const again = at(IDEMPOTENCY_RETENTION_MS + 20_000);
    const state = [
      holdExpired(p100, at(5 * HOUR), 'hold-4'),
      reserved({
        holdId: 'hold-new',
        idempotencyKey: 'key-1',
        units: 1,
        drawdown: p100,
        availableAfter: 300,
        reservedAt: again,
      }),
    ].reduce(evolve, stateOf(history));
    expect(state.closedHolds.has('hold-1')).toBe(true); // still remembered, its key used again
    const restored = decodeState(encodeState(state));
    expect(restored.holdKeys).toStrictEqual(state.holdKeys);
    expect(restored.holdKeys.get('key-1')).toBe('hold-new');
  });

  it('knows a forgotten hold no more', () => {
    const later = at(IDEMPOTENCY_RETENTION_MS + 15_000);
    given(...history, released(p100, { holdId: 'hold-4', at: later }))
      .when(settle({ holdId: 'hold-1', now: later }))
      .thenThrows('NOT_FOUND');
  });
});
