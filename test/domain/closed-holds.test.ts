/**
 * Closed holds kept as text: each reads back as the record it was, in the order they closed, and is
 * forgotten oldest first; a fork is added to and forgotten from alone.
 */
import { asciiJson } from '../../src/domain/ascii-json';
import { ClosedHolds } from '../../src/domain/closed-holds';
import { encodeHold } from '../../src/domain/holds-json';
import type { HoldRecord } from '../../src/domain/holds';

const T0 = Date.parse('2026-12-01T00:00:00.000Z');

const closedHold = (n: number, closedAt: number, overrides: Partial<HoldRecord> = {}): HoldRecord => ({
  holdId: `hold-${n}`,
  idempotencyKey: `key-${n}`,
  action: 'ORG_CHART_GENERATION',
  units: 2,
  creditsPerUnit: 50,
  credits: 100,
  drawdown: [{ grantId: 'purchase-1', source: 'PURCHASED', credits: 100 }],
  initialExpiresAt: T0 + 3_600_000,
  expiresAt: T0 + 7_200_000,
  reference: n % 2 === 0 ? `crm sync ${n} ✓` : undefined,
  actorId: 'service-1',
  availableAfter: 900 - n,
  createdAt: T0,
  status: 'SETTLED',
  closedAt,
  settlement: {
    idempotencyKey: `settle-${n}`,
    consumptionId: `spend-${n}`,
    units: 1,
    credits: 50,
    drawdown: [{ grantId: 'purchase-1', source: 'PURCHASED', credits: 50 }],
    availableAfter: 950 - n,
    settledAt: closedAt,
  },
  ...overrides,
});

const released = (n: number, closedAt: number) =>
  closedHold(n, closedAt, { status: 'RELEASED', settlement: undefined, reference: 'naïve "quoted"\n' });

describe('closed holds', () => {
  it('reads every hold back as the record it closed as, the last one and the older ones alike', () => {
    const holds = [closedHold(1, T0 + 1), released(2, T0 + 2), closedHold(3, T0 + 3)];
    const closed = ClosedHolds.empty();
    for (const hold of holds) closed.add(hold);
    expect(closed.size).toBe(3);
    expect([...closed.keys()]).toEqual(['hold-1', 'hold-2', 'hold-3']);
    expect(closed.get('hold-3')).toBe(holds[2]); // the one just closed, as it was given
    expect(closed.get('hold-1')).toStrictEqual(holds[0]);
    expect(closed.get('hold-2')).toStrictEqual(holds[1]);
    expect([...closed.values()]).toStrictEqual(holds);
    expect(closed.has('hold-2')).toBe(true);
    expect(closed.get('hold-9')).toBeUndefined();
    expect(closed.has('hold-9')).toBe(false);
  });

  it('forgets the holds closed before the cutoff, oldest first, and tells of each', () => {
    const closed = ClosedHolds.empty();
    for (let n = 1; n <= 10; n++) closed.add(closedHold(n, T0 + n * 1_000));
    const forgotten: string[] = [];
    closed.forgetClosedBefore(T0 + 4_500, (hold) => forgotten.push(hold.idempotencyKey));
    expect(forgotten).toEqual(['key-1', 'key-2', 'key-3', 'key-4']);
    expect([...closed.keys()]).toEqual(['hold-5', 'hold-6', 'hold-7', 'hold-8', 'hold-9', 'hold-10']);
    // Later cutoffs go on from there, over and over, with holds added in between.
    closed.forgetClosedBefore(T0 + 4_500, () => forgotten.push('again'));
    closed.add(closedHold(11, T0 + 11_000));
    closed.forgetClosedBefore(T0 + 8_000, (hold) => forgotten.push(hold.idempotencyKey));
    closed.forgetClosedBefore(T0 + 10_500, (hold) => forgotten.push(hold.idempotencyKey));
    expect(forgotten).toEqual([
      'key-1',
      'key-2',
      'key-3',
      'key-4',
      'key-5',
      'key-6',
      'key-7',
      'key-8',
      'key-9',
      'key-10',
    ]);
    expect([...closed.keys()]).toEqual(['hold-11']);
    closed.forgetClosedBefore(T0 + 20_000, () => undefined);
    expect(closed.size).toBe(0);
    expect(closed.get('hold-11')).toBeUndefined(); // the last one closed goes too
    expect(closed.toJson()).toBe('[]');
  });

  it('stops at the first hold closed at or after the cutoff', () => {
    const closed = ClosedHolds.empty();
    closed.add(closedHold(1, T0 + 5_000));
    closed.add(closedHold(2, T0 + 1_000)); // an expiry written late, closed at an earlier instant
    closed.forgetClosedBefore(T0 + 5_000, () => undefined);
    expect([...closed.keys()]).toEqual(['hold-1', 'hold-2']);
  });

  it('keeps its times in step with the holds should one hold id close twice', () => {
    const closed = ClosedHolds.empty();
    for (let n = 1; n <= 4; n++) closed.add(closedHold(n, T0 + n * 1_000));
    closed.forgetClosedBefore(T0 + 1_500, () => undefined);
    closed.add(closedHold(3, T0 + 9_000));
    expect([...closed.keys()]).toEqual(['hold-2', 'hold-4', 'hold-3']);
    const forgotten: string[] = [];
    closed.forgetClosedBefore(T0 + 5_000, (hold) => forgotten.push(hold.holdId));
    expect(forgotten).toEqual(['hold-2', 'hold-4']);
    expect(closed.get('hold-3')?.closedAt).toBe(T0 + 9_000);
  });

  it('writes the holds as one JSON array that restores them, in order', () => {
    const holds = [closedHold(1, T0 + 1), released(2, T0 + 2)];
    const closed = ClosedHolds.empty();
    for (const hold of holds) closed.add(hold);
    const json = closed.toJson();
    expect(/^[\x20-\x7e]*$/.test(json)).toBe(true);
    expect((JSON.parse(json) as unknown[]).length).toBe(2);
    const restored = ClosedHolds.of([...closed.values()]);
    expect(restored.toJson()).toBe(json);
    expect([...restored.values()]).toStrictEqual(holds);
  });

  it('writes a hold as the JSON tuple snapshots have always held', () => {
    const settledHold = closedHold(2, T0 + 2, { reference: 'crm ✓ "sync"' });
    const tuple = [
      'hold-2',
      'key-2',
      'ORG_CHART_GENERATION',
      2,
      50,
      100,
      [['purchase-1', 2, 100]],
      T0 + 3_600_000,
      T0 + 7_200_000,
      'crm ✓ "sync"',
      'service-1',
      898,
      T0,
      'SETTLED',
      T0 + 2,
      ['settle-2', 'spend-2', 1, 50, [['purchase-1', 2, 50]], 948, T0 + 2],
    ];
    expect(encodeHold(settledHold)).toBe(asciiJson(tuple));
    const releasedHold = closedHold(3, T0 + 3, {
      status: 'RELEASED',
      settlement: undefined,
      drawdown: [
        { grantId: 'allowance-1', source: 'INCLUDED', credits: 40 },
        { grantId: 'promo-1', source: 'PROMOTIONAL', credits: 60 },
      ],
    });
    expect(JSON.parse(encodeHold(releasedHold))).toEqual([
      'hold-3',
      'key-3',
      'ORG_CHART_GENERATION',
      2,
      50,
      100,
      [
        ['allowance-1', 0, 40],
        ['promo-1', 1, 60],
      ],
      T0 + 3_600_000,
      T0 + 7_200_000,
      null,
      'service-1',
      897,
      T0,
      'RELEASED',
      T0 + 3,
      null,
    ]);
  });

  it('makes a fork that changes alone', () => {
    const closed = ClosedHolds.empty();
    closed.add(closedHold(1, T0 + 1_000));
    closed.add(closedHold(2, T0 + 2_000));
    const fork = closed.fork();
    fork.add(closedHold(3, T0 + 3_000));
    fork.forgetClosedBefore(T0 + 1_500, () => undefined);
    expect([...fork.keys()]).toEqual(['hold-2', 'hold-3']);
    expect([...closed.keys()]).toEqual(['hold-1', 'hold-2']);
    expect(closed.get('hold-2')).toStrictEqual(closedHold(2, T0 + 2_000));
    expect(closed.approximateBytes()).toBeGreaterThan(0);
  });
});
