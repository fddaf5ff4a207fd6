/**
 * Where a purchase's money and credits stand when money goes back: an admin's refund names credits
 * and the money follows them pro rata on the running totals; money returned at the provider names
 * an amount and the credits follow it, taken back as far as unspent and owed where spent.
 */
import type { WorkspaceCreditsCommand } from '../../src/domain/commands';
import { decide } from '../../src/domain/decide';
import { availableCredits } from '../../src/domain/drawdown';
import { evolve } from '../../src/domain/evolve';
import {
  paidBackBy,
  paysFor,
  planAdminRefund,
  refundAmountFor,
  repaidBy,
  unpaidBy,
} from '../../src/domain/purchase-money';
import { at, consumed, DAY, draw, purchased } from './builders';
import { providerRefund, refundFact, refundRequested, refundSpend } from './payment-builders';
import { stateOf } from './spec';

// 2,000 credits bought for $180.00.
const bought = purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' } });
const spent = (credits: number) =>
  consumed({ credits, drawdown: [draw('purchase-1', 'PURCHASED', credits)], availableAfter: 2000 - credits });
const now = at(DAY).getTime();

describe('an admin refund', () => {
  it('takes every unspent credit by default, with the money in proportion', () => {
    expect(planAdminRefund(stateOf([bought, spent(500)]), 'cs_pay_1', undefined, now)).toMatchObject({
      credits: 1500,
      amount: { amount: 13500, currency: 'USD' },
    });
  });

  it('returns exactly the price over a series of partial refunds, never a cent more', () => {
    const state = stateOf([bought]);
    const amounts: number[] = [];
    for (const [i, credits] of [333, 333, 1334].entries()) {
      const plan = planAdminRefund(state, 'cs_pay_1', credits, now);
      amounts.push(plan.amount.amount);
      evolve(
        state,
        refundRequested({ refundId: `r${i}`, credits, creditsRepaid: credits, paysFor: credits, amount: plan.amount }),
      );
    }
    expect(amounts).toEqual([2997, 2997, 12006]);
    expect(amounts.reduce((sum, amount) => sum + amount, 0)).toBe(18000);
  });

  it('refuses more than is unspent, a non-positive amount, and a purchase with nothing left', () => {
    expect(() => planAdminRefund(stateOf([bought, spent(500)]), 'cs_pay_1', 1501, now)).toThrow(/Only 1500 credits/);
    expect(() => planAdminRefund(stateOf([bought]), 'cs_pay_1', 0, now)).toThrow(/positive whole number/);
    expect(() => planAdminRefund(stateOf([bought, spent(2000)]), 'cs_pay_1', undefined, now)).toThrow(
      /no unspent credits/,
    );
    expect(() => planAdminRefund(stateOf([bought]), 'cs_nope', undefined, now)).toThrow(/does not exist/);
  });

  it('prices what is left after a dashboard refund on the credits that refund paid for', () => {
    // $45 back at the provider paid for 500 credits; 100 more cost 900 cents, not a negative amount.
    const dashboard = refundRequested({
      origin: 'PROVIDER',
      refundId: 'provider-re_9',
      credits: 500,
      creditsRepaid: 500,
      amount: { amount: 4500, currency: 'USD' },
    });
    expect(planAdminRefund(stateOf([bought, dashboard]), 'cs_pay_1', 100, now).amount.amount).toBe(900);
  });

  it('never owes back less than nothing', () => {
    const purchase = stateOf([bought]).purchases.get('cs_pay_1');
    if (!purchase) throw new Error('no purchase');
    expect(refundAmountFor({ ...purchase, amountReturned: 18000, creditsRepaid: 1000 }, 10)).toBe(0);
  });
});

describe('money returned at the provider', () => {
  const purchaseOf = (state: ReturnType<typeof stateOf>) => {
    const purchase = state.purchases.get('cs_pay_1');
    if (!purchase) throw new Error('no purchase');
    return purchase;
  };
  const back = (amount: number) => ({
    amount,
    paysFor: paysFor({ credits: 2000, price: { amount: 18000, currency: 'USD' } }, amount),
  });

  it('takes back the credits its money paid for, as far as they are unspent, and the rest are owed', () => {
    const fresh = stateOf([bought]);
    expect(paidBackBy(fresh, purchaseOf(fresh), back(4500), 2000)).toEqual({
      creditsRepaid: 500,
      takenBack: 500,
      owed: 0,
    });
    const spentMost = stateOf([bought, spent(1800)]);
    expect(paidBackBy(spentMost, purchaseOf(spentMost), back(9000), 200)).toEqual({
      creditsRepaid: 1000,
      takenBack: 200,
      owed: 800,
    });
  });

  it('pays for every credit once every cent has gone back, and nothing more after that', () => {
    const all = refundRequested({
      credits: 2000,
      creditsRepaid: 2000,
      paysFor: 2000,
      amount: { amount: 18000, currency: 'USD' },
    });
    const state = stateOf([bought, all]);
    expect(paidBackBy(state, purchaseOf(state), back(100), 0)).toEqual({ creditsRepaid: 0, takenBack: 0, owed: 0 });
    // Returns whose shares round down still pay for everything once they add up to the price.
    expect(
      repaidBy({ credits: 3, price: { amount: 1000, currency: 'USD' } }, [
        { amount: 500, paysFor: 1 },
        { amount: 500, paysFor: 1 },
      ]),
    ).toBe(3);
  });

  it('gives back, when a refund fails, what the money left no longer pays for: owed credits first', () => {
    const dashboard = refundRequested({
      origin: 'PROVIDER',
      refundId: 'provider-re_9',
      credits: 200,
      creditsOwed: 800,
      creditsRepaid: 1000,
      paysFor: 1000,
      amount: { amount: 9000, currency: 'USD' },
    });
    const state = stateOf([bought, spent(1800), dashboard]);
    expect(unpaidBy(state, purchaseOf(state), 'provider-re_9', 200)).toEqual({
      creditsRepaid: 1000,
      takenBack: 200,
      owed: 800,
      restored: 0,
    });
  });
});

describe('a refund that fails after spent credits came back meanwhile', () => {
  // 100 credits bought for $10.00, 60 of them spent; Stripe reports a refund of everything pending.
  const history = [
    purchased({ credits: 100, price: { amount: 1000, currency: 'USD' } }),
    consumed({ credits: 60, drawdown: [draw('purchase-1', 'PURCHASED', 60)], availableAfter: 40 }),
  ];
  const pendingRefund = providerRefund(refundFact({ providerRefundId: 're_d', amount: 1000, status: 'PENDING' }));
  const giveSpendBack = refundSpend([draw('purchase-1', 'PURCHASED', 60)]);
  const refundFails = providerRefund(refundFact({ providerRefundId: 're_d', amount: 1000, status: 'FAILED' }));

  /** Decides each command on the state the ones before it left; the events and the state after. */
  function run(commands: WorkspaceCreditsCommand[]) {
    const state = stateOf(history);
    const events = commands.flatMap((command) => {
      const decided = decide(command, state);
      for (const event of decided) evolve(state, event);
      return decided;
    });
    return { events, state, available: availableCredits(state.grants.values(), now) };
  }

  it('gives back every credit, the lapsed ones included, whichever came first', () => {
    const spendFirst = run([pendingRefund, giveSpendBack, refundFails]);
    const failureFirst = run([pendingRefund, refundFails, giveSpendBack]);
    // The spend given back lapsed while its money was going back (MONEY_RETURNED)...
    expect(spendFirst.events).toContainEqual(
      expect.objectContaining({
        type: 'CreditsExpired',
        data: expect.objectContaining({ credits: 60, reason: 'MONEY_RETURNED' }) as unknown,
      }),
    );
    // ...and the failure makes those 60 spendable again, beside the 40 taken back.
    expect(spendFirst.events.find((event) => event.type === 'PurchaseRefundFailed')).toMatchObject({
      type: 'PurchaseRefundFailed',
      data: { credits: 40, creditsRestored: 60, creditsOwed: 0, creditsRepaid: 100 },
    });
    expect(spendFirst.available).toBe(100);
    expect(failureFirst.available).toBe(100);
    expect(spendFirst.state.grants.get('purchase-1')).toMatchObject({ remaining: 100, expired: 0, refunded: 0 });
    expect(spendFirst.state.purchases.get('cs_pay_1')).toMatchObject({
      amountReturned: 0,
      creditsRepaid: 0,
      creditsOwed: 0,
      creditsLapsed: 0,
    });
  });
});
