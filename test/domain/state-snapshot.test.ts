/**
 * A snapshot restores the state exactly: every grant, purchase, refund and remembered spend, with
 * the spends restored lazily from their text.
 */
import type { CreditConsumptionRefunded, CreditPurchaseRefunded, WorkspaceCreditsEvent } from '../../src/domain/events';
import { keyHash, RecentConsumptions, type EvictedConsumption } from '../../src/domain/recent-consumptions';
import { evolve } from '../../src/domain/evolve';
import { IDEMPOTENCY_RETENTION_MS, type ConsumptionRecord } from '../../src/domain/state';
import { isAscii } from '../../src/domain/ascii-json';
import { decodeState, encodeState } from '../../src/domain/state-snapshot';
import { allowance, at, consumed, DAY, draw, expired, granted, HOUR, purchased, WORKSPACE } from './builders';
import {
  checkoutOpened,
  checkoutStarted,
  disputeOpened,
  refundFact,
  refundPending,
  refundRequested,
} from './payment-builders';
import { stateOf } from './spec';
import { cardSaved, topUpConfigured, topUpRequested } from './auto-top-up-builders';

// Keys a client may send: the encoding must survive tabs, newlines, quotes, escapes and non-ASCII.
const KEYS = ['plain', 'tab\there', 'line\nbreak', 'quote"d', 'back\\slash', 'ünïcødé ✓', '\u2028sep', ''];

const purchaseRefunded = (providerRefundId: string | undefined): CreditPurchaseRefunded => ({
  type: 'CreditPurchaseRefunded',
  data: {
    workspaceId: WORKSPACE,
    purchaseId: 'cs_pay_1',
    grantId: 'purchase-1',
    refundId: `refund-${providerRefundId ?? 'manual'}`,
    ...(providerRefundId !== undefined && { providerRefundId }),
    credits: 10,
    amount: { amount: 90, currency: 'USD' },
    reason: 'customer request',
    origin: 'ADMIN',
    refundedBy: 'admin-1',
    refundedAt: at(2 * DAY).toISOString(),
  },
});

const consumptionRefunded: CreditConsumptionRefunded = {
  type: 'CreditConsumptionRefunded',
  data: {
    workspaceId: WORKSPACE,
    consumptionId: 'spend-0',
    credits: 5,
    drawdown: [draw('allowance-1', 'INCLUDED', 5)],
    reason: 'failed run',
    refundedBy: 'admin-1',
    refundedAt: at(2 * DAY).toISOString(),
  },
};

const history: WorkspaceCreditsEvent[] = [
  allowance({ credits: 1000 }),
  purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' } }),
  granted({ credits: 100, expiresAt: at(10 * DAY) }),
  granted({ grantId: 'promo-2', idempotencyKey: 'promo-key-2', credits: 50 }),
  ...KEYS.map((idempotencyKey, i) =>
    consumed({
      consumptionId: `spend-${i}`,
      idempotencyKey,
      credits: 5,
      drawdown: [draw('allowance-1', 'INCLUDED', 3), draw('promo-1', 'PROMOTIONAL', 2)],
      availableAfter: 3150 - 5 * (i + 1),
      consumedAt: at(i * HOUR),
      ...(i % 2 === 0 && { reference: `chart-${i}` }),
    }),
  ),
  purchaseRefunded('re_1'),
  purchaseRefunded(undefined),
  consumptionRefunded,
  expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 90, expiredAt: at(10 * DAY) }),
  // Every other part of the state: refunds by key and pending, disputes, checkouts, facts kept
  // for a payment not recorded yet, payments not credited, and a replaced allowance.
  refundRequested({ refundId: 'refund-k', idempotencyKey: 'ticket-1', credits: 10, creditsRepaid: 10 }),
  refundPending({ refundId: 'refund-k', providerRefundId: 're_k' }),
  disputeOpened({ creditsHeld: 1000 }),
  checkoutStarted(),
  checkoutOpened({ sessionId: 'cs_open' }),
  {
    type: 'ProviderEventDeferred',
    data: {
      workspaceId: WORKSPACE,
      paymentIntentId: 'pi_later',
      fact: { kind: 'REFUND', refund: refundFact({ refundId: undefined }) },
      recordedBy: 'stripe',
      receivedAt: at(DAY).toISOString(),
    },
  },
  {
    type: 'PaidCheckoutNotCredited',
    data: {
      workspaceId: WORKSPACE,
      sessionId: 'cs_odd',
      paymentIntentId: null,
      amountPaid: { amount: 1, currency: 'USD' },
      reason: 'test',
      receivedAt: at(DAY).toISOString(),
    },
  },
  allowance({ grantId: 'allowance-2', periodStart: at(20 * DAY), periodEnd: at(50 * DAY), appliedAt: at(20 * DAY) }),
  // Alert rules (null means "not set" and must come back null) and the side of each line.
  {
    type: 'AlertRulesConfigured',
    data: {
      workspaceId: WORKSPACE,
      rules: {
        lowBalanceCredits: null,
        lowBalancePercent: 15,
        notify: { low: true, depleted: false, recovered: true },
        expiringSoonDays: null,
      },
      configuredBy: 'manager-1',
      configuredAt: at(21 * DAY).toISOString(),
    },
  },
  {
    type: 'CreditsLow',
    data: {
      workspaceId: WORKSPACE,
      available: 40,
      threshold: 150,
      notify: true,
      crossedAt: at(22 * DAY).toISOString(),
    },
  },
  {
    type: 'CreditsExpiringSoon',
    data: {
      workspaceId: WORKSPACE,
      grantId: 'allowance-2',
      source: 'INCLUDED',
      credits: 40,
      expiresAt: at(50 * DAY).toISOString(),
      noticedAt: at(45 * DAY).toISOString(),
    },
  },
  // Auto top-up: a saved card, settings without a target (null must come back null), a request.
  cardSaved(),
  topUpConfigured(),
  topUpRequested({ when: at(46 * DAY) }),
];

/** Every remembered spend, decoded: the way a command would see each of them. */
const remembered = (consumptions: RecentConsumptions): (ConsumptionRecord | undefined)[] =>
  [...consumptions.keys()].map((key) => consumptions.get(key));

describe('a state snapshot', () => {
  it('restores every part of the state', () => {
    const original = stateOf(history);
    const restored = decodeState(encodeState(original));
    expect(remembered(restored.consumptions)).toStrictEqual(remembered(original.consumptions));
    expect([...restored.consumptions.keys()]).toEqual(KEYS);
    expect({ ...restored, consumptions: undefined }).toStrictEqual({ ...original, consumptions: undefined });
    expect(restored.providerRefunds.get('re_1')).toBe('refund-re_1');
    expect(restored.refundKeys.get('ticket-1')).toBe('refund-k');
    expect(restored.deferredFacts.get('pi_later')).toHaveLength(1);
    expect(restored.replacedAllowances).toEqual(new Set(['allowance-1']));
    expect(restored.alerts.rules.lowBalanceCredits).toBeNull();
    expect(restored.alerts.rules.expiringSoonDays).toBeNull();
    expect(restored.alerts.low).toBe(true);
    expect(restored.alerts.expiringNoticed).toEqual(new Set(['allowance-2']));
    expect(restored.autoTopUp.settings?.targetCredits).toBeNull();
    expect(restored.autoTopUp.topUps.get('topup-1')).toMatchObject({ status: 'REQUESTED', expiresAfterDays: null });
    expect(restored.autoTopUp.card?.card.last4).toBe('4242');
    expect(restored.grants.get('purchase-1')?.frozen).toBe(true);
    expect(restored.purchaseRefunds.get('refund-re_1')).toMatchObject({
      status: 'SUCCEEDED',
      providerRefundId: 're_1',
    });
  });

  it('is ASCII text, whatever the keys and reasons hold', () => {
    const bytes = encodeState(
      stateOf([...history, granted({ grantId: 'promo-3', idempotencyKey: 'ключ', reason: 'спасибо ✓' })]),
    );
    expect(isAscii(bytes)).toBe(true);
    expect(decodeState(bytes).grantKeys.get('ключ')?.reason).toBe('спасибо ✓');
    expect(decodeState(bytes).consumptions.get('ünïcødé ✓')?.consumptionId).toBe('spend-5');
  });

  it('restores a state that has nothing yet', () => {
    const restored = decodeState(encodeState(stateOf([])));
    expect(restored).toStrictEqual(stateOf([]));
  });

  it('goes on evolving like the state it was taken of', () => {
    const later = consumed({
      consumptionId: 'spend-late',
      idempotencyKey: 'late',
      credits: 7,
      drawdown: [draw('allowance-1', 'INCLUDED', 7)],
      availableAfter: 1,
      consumedAt: at(IDEMPOTENCY_RETENTION_MS + 3 * HOUR + 1),
    });
    const original = evolve(stateOf(history), later);
    const restored = evolve(decodeState(encodeState(stateOf(history))), later);
    // The later spend pushed the first four keys out of the retention window in both.
    expect([...restored.consumptions.keys()]).toEqual([...KEYS.slice(4), 'late']);
    expect(remembered(restored.consumptions)).toStrictEqual(remembered(original.consumptions));
    expect(restored.grants).toStrictEqual(original.grants);
  });
});

describe('the remembered spends', () => {
  const encoded = () => stateOf(history).consumptions.encode();

  it('encode back to the same text and hashes without decoding a spend', () => {
    const restored = RecentConsumptions.decode(encoded());
    expect(restored.encode()).toEqual(encoded());
    expect(restored.size).toBe(KEYS.length);
  });

  it('are found by key in the restored text, one at a time', () => {
    const restored = RecentConsumptions.decode(encoded());
    expect(restored.get('quote"d')).toMatchObject({ consumptionId: 'spend-3', idempotencyKey: 'quote"d', credits: 5 });
    expect(restored.get('line\nbreak')).toMatchObject({ consumptionId: 'spend-2', reference: 'chart-2' });
    expect(restored.get('tab\there')?.reference).toBeUndefined();
    expect(restored.get('')).toMatchObject({ consumptionId: `spend-${KEYS.length - 1}` });
    expect(restored.get('never used')).toBeUndefined();
  });

  it("search the text when a new key has a restored key's hash, and find nothing", () => {
    const { lines, keyHashes } = encoded();
    const hashes = Int32Array.from(keyHashes);
    hashes[KEYS.length - 1] = keyHash('absent');
    const restored = RecentConsumptions.decode({ lines, keyHashes: hashes });
    expect(restored.get('absent')).toBeUndefined();
    expect(restored.get('back\\slash')?.consumptionId).toBe('spend-4');
  });

  it('answer for a key with its newest restored spend, whatever lies behind it', () => {
    // A key used again after the retention window while its first spend was still encoded (kept,
    // say, behind a line recorded out of clock order): both lines travel in the next snapshot.
    const first = {
      ...(stateOf(history).consumptions.get('plain') as ConsumptionRecord),
      consumedAt: at(HOUR).getTime(),
    };
    const once = new RecentConsumptions();
    once.set(first);
    const restored = RecentConsumptions.decode(once.encode());
    restored.set({ ...first, consumptionId: 'spend-again', consumedAt: at(8 * DAY).getTime() });
    const twice = RecentConsumptions.decode(restored.encode());
    expect(twice.size).toBe(2);
    expect(twice.get('plain')?.consumptionId).toBe('spend-again');
  });

  it('forget by age while still encoded, restored and recent alike', () => {
    const restored = RecentConsumptions.decode(encoded());
    restored.set({
      ...(restored.get('plain') as ConsumptionRecord),
      idempotencyKey: 'new',
      consumedAt: at(DAY).getTime(),
    });
    restored.forgetBefore(at(3 * HOUR).getTime());
    expect([...restored.keys()]).toEqual([...KEYS.slice(3), 'new']);
    expect(restored.get('plain')).toBeUndefined();
    expect(restored.size).toBe(KEYS.length - 3 + 1);
    restored.forgetBefore(at(DAY).getTime());
    expect([...restored.keys()]).toEqual(['new']);
    expect(RecentConsumptions.decode(restored.encode()).get('new')).toMatchObject({ consumptionId: 'spend-0' });
    restored.forgetBefore(at(DAY).getTime() + 1);
    expect(restored.size).toBe(0);
    expect(restored.encode()).toEqual({ lines: Buffer.alloc(0), keyHashes: new Int32Array(0) });
  });

  it('leave memory oldest first, restored and recent alike, and come back when recalled', () => {
    const restored = RecentConsumptions.decode(encoded());
    const recent = {
      ...(restored.get('plain') as ConsumptionRecord),
      idempotencyKey: 'new',
      consumedAt: at(DAY).getTime(),
    };
    restored.set(recent);
    const stored: EvictedConsumption[] = [];
    // A store that fails takes nothing out.
    expect(() =>
      restored.evictOldest(2, () => {
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(restored.size).toBe(KEYS.length + 1);
    expect(restored.evictOldest(2, (spends) => stored.push(...spends))).toBe(KEYS.length - 1);
    expect(stored.map((spend) => spend.idempotencyKey)).toEqual(KEYS.slice(0, -1));
    expect([...restored.keys()]).toEqual([KEYS[KEYS.length - 1], 'new']);
    expect(restored.get('plain')).toBeUndefined();
    // The rest of the restored text, and the recent spend, go too; the snapshot's bytes with them.
    expect(restored.evictOldest(0, (spends) => stored.push(...spends))).toBe(2);
    expect(restored.size).toBe(0);
    expect(restored.encode()).toEqual({ lines: Buffer.alloc(0), keyHashes: new Int32Array(0) });
    expect(stored.map((spend) => spend.idempotencyKey)).toEqual([...KEYS, 'new']);

    // Brought back, each answers as it did, without being remembered again (snapshots leave it out).
    for (const spend of stored) restored.recall(spend);
    expect(restored.get('quote"d')).toMatchObject({ consumptionId: 'spend-3', credits: 5 });
    expect(restored.get('new')).toStrictEqual(recent);
    expect(restored.size).toBe(0);
    expect(restored.encode().lines).toHaveLength(0);
    // A spend in memory wins over a recalled one.
    restored.set({ ...recent, consumptionId: 'spend-newer' });
    expect(restored.get('new')?.consumptionId).toBe('spend-newer');
  });
});
