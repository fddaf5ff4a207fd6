/**
 * Refunds: of a purchase (unspent credits taken back, money pro rata) and of a spend (credits given
 * back to the grants that paid, once).
 */
import type { RefundCreditConsumption, RefundCreditPurchase } from '../../src/domain/commands';
import type { CreditConsumptionRefunded, CreditPurchaseRefunded } from '../../src/domain/events';
import { planProviderRefund, planPurchaseRefund } from '../../src/domain/refunds';
import { evolve } from '../../src/domain/state';
import { at, consumed, DAY, draw, expired, granted, purchased, WORKSPACE } from './builders';
import { given, stateOf } from './spec';

// 2,000 credits bought for $180.00.
const bought = purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' } });
const spent500 = consumed({ credits: 500, drawdown: [draw('purchase-1', 'PURCHASED', 500)], availableAfter: 1500 });

const refundPurchase = (f: Partial<RefundCreditPurchase['data']> = {}): RefundCreditPurchase => ({
  type: 'RefundCreditPurchase',
  data: {
    workspaceId: WORKSPACE,
    purchaseId: 'cs_pay_1',
    refundId: 'refund-1',
    providerRefundId: 're_1',
    credits: 1000,
    amount: { amount: 9000, currency: 'USD' },
    reason: 'customer request',
    origin: 'ADMIN',
    refundedBy: 'admin-1',
    now: at(DAY),
    ...f,
  },
});

const purchaseRefunded = (f: Partial<CreditPurchaseRefunded['data']> = {}): CreditPurchaseRefunded => ({
  type: 'CreditPurchaseRefunded',
  data: {
    workspaceId: WORKSPACE,
    purchaseId: 'cs_pay_1',
    grantId: 'purchase-1',
    refundId: 'refund-1',
    providerRefundId: 're_1',
    credits: 1000,
    amount: { amount: 9000, currency: 'USD' },
    reason: 'customer request',
    origin: 'ADMIN',
    refundedBy: 'admin-1',
    refundedAt: at(DAY).toISOString(),
    ...f,
  },
});

describe('planning a purchase refund', () => {
  it('takes every unspent credit by default, with the money in proportion', () => {
    const plan = planPurchaseRefund(stateOf([bought, spent500]), 'cs_pay_1', undefined, at(DAY).getTime());
    expect(plan).toMatchObject({ credits: 1500, amount: { amount: 13500, currency: 'USD' } });
  });

  it('returns exactly the price over a series of partial refunds', () => {
    const state = stateOf([bought]);
    const amounts: number[] = [];
    for (const credits of [333, 333, 1334]) {
      const plan = planPurchaseRefund(state, 'cs_pay_1', credits, at(DAY).getTime());
      amounts.push(plan.amount.amount);
      const refundId = `r${amounts.length}`;
      evolve(state, purchaseRefunded({ refundId, providerRefundId: `re_${refundId}`, credits, amount: plan.amount }));
    }
    expect(amounts).toEqual([2997, 2997, 12006]);
    expect(amounts.reduce((sum, amount) => sum + amount, 0)).toBe(18000);
  });

  it('refuses more than is unspent, a non-positive amount, and a purchase with nothing left', () => {
    const now = at(DAY).getTime();
    expect(() => planPurchaseRefund(stateOf([bought, spent500]), 'cs_pay_1', 1501, now)).toThrow(/Only 1500 credits/);
    expect(() => planPurchaseRefund(stateOf([bought]), 'cs_pay_1', 0, now)).toThrow(/positive whole number/);
    const allSpent = consumed({ credits: 2000, drawdown: [draw('purchase-1', 'PURCHASED', 2000)], availableAfter: 0 });
    expect(() => planPurchaseRefund(stateOf([bought, allSpent]), 'cs_pay_1', undefined, now)).toThrow(
      /no unspent credits/,
    );
    expect(() => planPurchaseRefund(stateOf([bought]), 'cs_nope', undefined, now)).toThrow(/does not exist/);
  });

  it('gives a dashboard refund the credits its money paid for, as far as they are unspent', () => {
    const now = at(DAY).getTime();
    expect(planProviderRefund(stateOf([bought]), 'cs_pay_1', 4500, now).credits).toBe(500);
    expect(planProviderRefund(stateOf([bought, spent500]), 'cs_pay_1', 18000, now).credits).toBe(1500);
  });
});

describe('RefundCreditPurchase', () => {
  it('takes the credits out of the purchase grant', () => {
    given(bought, spent500).when(refundPurchase()).then(purchaseRefunded());
  });

  it('takes back only what is still unspent when spends came in meanwhile', () => {
    const spentMore = consumed({
      consumptionId: 's2',
      idempotencyKey: 'k2',
      credits: 1200,
      drawdown: [draw('purchase-1', 'PURCHASED', 1200)],
      availableAfter: 300,
    });
    given(bought, spent500, spentMore)
      .when(refundPurchase())
      .then(purchaseRefunded({ credits: 300 }));
  });

  it('records a refund once, by our id or by the provider id', () => {
    given(bought, purchaseRefunded()).when(refundPurchase()).thenNothing();
    given(bought, purchaseRefunded())
      .when(refundPurchase({ refundId: 'provider-re_1', origin: 'PROVIDER' }))
      .thenNothing();
  });

  it('refuses a refund of an unknown purchase', () => {
    given(bought)
      .when(refundPurchase({ purchaseId: 'cs_other' }))
      .thenThrows('NOT_FOUND');
  });
});

describe('RefundCreditConsumption', () => {
  const promo = granted({ grantId: 'promo', credits: 100, expiresAt: at(2 * DAY) });
  const spentPromo = consumed({ credits: 60, drawdown: [draw('promo', 'PROMOTIONAL', 60)], availableAfter: 40 });
  const refundSpend = (now = at(DAY)): RefundCreditConsumption => ({
    type: 'RefundCreditConsumption',
    data: {
      workspaceId: WORKSPACE,
      consumptionId: 'spend-1',
      consumption: { credits: 60, drawdown: [draw('promo', 'PROMOTIONAL', 60)] },
      reason: 'org chart run failed',
      refundedBy: 'admin-1',
      now,
    },
  });
  const refunded = (now = at(DAY)): CreditConsumptionRefunded => ({
    type: 'CreditConsumptionRefunded',
    data: {
      workspaceId: WORKSPACE,
      consumptionId: 'spend-1',
      credits: 60,
      drawdown: [draw('promo', 'PROMOTIONAL', 60)],
      reason: 'org chart run failed',
      refundedBy: 'admin-1',
      refundedAt: now.toISOString(),
    },
  });

  it('gives the credits back to the grants that paid', () => {
    given(promo, spentPromo).when(refundSpend()).then(refunded());
    const state = stateOf([promo, spentPromo, refunded()]);
    expect(state.grants.get('promo')).toMatchObject({ remaining: 100, consumed: 0 });
  });

  it('gives them back once', () => {
    given(promo, spentPromo, refunded()).when(refundSpend()).thenNothing();
  });

  it('lets credits given back to an expired grant expire again at once', () => {
    const later = at(3 * DAY);
    given(promo, spentPromo)
      .when(refundSpend(later))
      .then(
        expired({ grantId: 'promo', source: 'PROMOTIONAL', credits: 40, expiredAt: at(2 * DAY) }),
        refunded(later),
        expired({ grantId: 'promo', source: 'PROMOTIONAL', credits: 60, expiredAt: later }),
      );
  });

  it('refuses a spend whose grants this workspace does not have, and a blank reason', () => {
    const elsewhere = { credits: 5, drawdown: [draw('elsewhere', 'PURCHASED', 5)] };
    given(promo)
      .when({ ...refundSpend(), data: { ...refundSpend().data, consumption: elsewhere } })
      .thenThrows('NOT_FOUND');
    given(promo, spentPromo)
      .when({ ...refundSpend(), data: { ...refundSpend().data, reason: '  ' } })
      .thenThrows('BAD_USER_INPUT');
  });
});
