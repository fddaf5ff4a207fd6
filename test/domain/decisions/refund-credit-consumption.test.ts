/**
 * RefundCreditConsumption: a spend's credits go back to the grants that paid for it, once, and only
 * where they can still be spent: credits coming back to an expired grant, an allowance replaced by
 * a newer period, or a purchase whose money went back, lapse at once.
 */
import { availableCredits } from '../../../src/domain/drawdown';
import { allowance, at, consumed, DAY, draw, expired, granted, purchased } from '../builders';
import { refundRequested, refundSpend, spendRefunded } from '../payment-builders';
import { given, stateOf } from '../spec';

const promo = granted({ grantId: 'promo', credits: 100, expiresAt: at(2 * DAY) });
const spentPromo = consumed({ credits: 60, drawdown: [draw('promo', 'PROMOTIONAL', 60)], availableAfter: 40 });
const promoParts = [draw('promo', 'PROMOTIONAL', 60)];
const lapse = (
  grantId: string,
  source: 'INCLUDED' | 'PROMOTIONAL' | 'PURCHASED',
  credits: number,
  reason: string,
  when = at(DAY),
) => ({
  type: 'CreditsExpired' as const,
  data: {
    workspaceId: 'ws-1',
    grantId,
    source,
    credits,
    reason: reason as 'EXPIRED',
    expiredAt: when.toISOString(),
  },
});

describe('RefundCreditConsumption', () => {
  it('gives the credits back to the grants that paid', () => {
    given(promo, spentPromo).when(refundSpend(promoParts)).then(spendRefunded(promoParts));
    expect(stateOf([promo, spentPromo, spendRefunded(promoParts)]).grants.get('promo')).toMatchObject({
      remaining: 100,
      consumed: 0,
    });
  });

  it('gives them back once', () =>
    given(promo, spentPromo, spendRefunded(promoParts)).when(refundSpend(promoParts)).thenNothing());

  it('refuses another reason for a spend already given back, rather than answer as if it were recorded', () =>
    given(promo, spentPromo, spendRefunded(promoParts))
      .when(refundSpend(promoParts, { reason: 'customer complained' }))
      .thenThrows('CONFLICT'));

  it('lets credits given back to an expired grant expire again at once', () => {
    const later = at(3 * DAY);
    given(promo, spentPromo)
      .when(refundSpend(promoParts, { now: later }))
      .then(
        expired({ grantId: 'promo', source: 'PROMOTIONAL', credits: 40, expiredAt: at(2 * DAY) }),
        spendRefunded(promoParts, { at: later }),
        lapse('promo', 'PROMOTIONAL', 60, 'EXPIRED', later),
      );
  });

  it('never gives credits back to an allowance a newer period replaced', () => {
    const first = allowance({ grantId: 'period-1', credits: 1000, periodStart: at(0), periodEnd: at(30 * DAY) });
    const spent = consumed({ credits: 300, drawdown: [draw('period-1', 'INCLUDED', 300)], availableAfter: 700 });
    const replaced = lapse('period-1', 'INCLUDED', 700, 'PERIOD_REPLACED', at(DAY));
    const second = allowance({
      grantId: 'period-2',
      credits: 1000,
      periodStart: at(DAY),
      periodEnd: at(31 * DAY),
      appliedAt: at(DAY),
    });
    const parts = [draw('period-1', 'INCLUDED', 300)];
    given(first, spent, replaced, second)
      .when(refundSpend(parts, { now: at(2 * DAY) }))
      .then(
        spendRefunded(parts, { at: at(2 * DAY) }),
        lapse('period-1', 'INCLUDED', 300, 'PERIOD_REPLACED', at(2 * DAY)),
      );
    const state = stateOf([
      first,
      spent,
      replaced,
      second,
      spendRefunded(parts),
      lapse('period-1', 'INCLUDED', 300, 'PERIOD_REPLACED'),
    ]);
    expect(availableCredits(state.grants.values(), at(2 * DAY).getTime())).toBe(1000);
  });

  it('never makes credits of a purchase whose money was all returned spendable again', () => {
    const bought = purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' } });
    const spent = consumed({ credits: 500, drawdown: [draw('purchase-1', 'PURCHASED', 500)], availableAfter: 1500 });
    const refundedAll = refundRequested({
      origin: 'PROVIDER',
      refundId: 'provider-re_9',
      credits: 1500,
      creditsOwed: 500,
      creditsRepaid: 2000,
      amount: { amount: 18000, currency: 'USD' },
    });
    const parts = [draw('purchase-1', 'PURCHASED', 500)];
    given(bought, spent, refundedAll)
      .when(refundSpend(parts))
      .then(spendRefunded(parts), lapse('purchase-1', 'PURCHASED', 500, 'MONEY_RETURNED'));
  });

  it('lets only as many credits lapse as are owed, and gives the rest back', () => {
    const bought = purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' } });
    const spent = consumed({ credits: 1800, drawdown: [draw('purchase-1', 'PURCHASED', 1800)], availableAfter: 200 });
    // $90 back paid for 1,000 credits: 200 unspent taken back, 800 spent ones owed.
    const half = refundRequested({ origin: 'PROVIDER', credits: 200, creditsOwed: 800, creditsRepaid: 1000 });
    const parts = [draw('purchase-1', 'PURCHASED', 1000)];
    given(bought, spent, half)
      .when(refundSpend(parts))
      .then(spendRefunded(parts), lapse('purchase-1', 'PURCHASED', 800, 'MONEY_RETURNED'));
    const state = stateOf([
      bought,
      spent,
      half,
      spendRefunded(parts),
      lapse('purchase-1', 'PURCHASED', 800, 'MONEY_RETURNED'),
    ]);
    expect(state.purchases.get('cs_pay_1')?.creditsOwed).toBe(0);
    expect(availableCredits(state.grants.values(), at(DAY).getTime())).toBe(200);
  });

  it('settles owed credits given back after their grant expired, and lets the rest lapse as expired', () => {
    const bought = purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' }, expiresAt: at(2 * DAY) });
    const spent = consumed({ credits: 1800, drawdown: [draw('purchase-1', 'PURCHASED', 1800)], availableAfter: 200 });
    // $90 back paid for 1,000 credits: 200 unspent taken back, 800 spent ones owed.
    const half = refundRequested({ origin: 'PROVIDER', credits: 200, creditsOwed: 800, creditsRepaid: 1000 });
    const parts = [draw('purchase-1', 'PURCHASED', 1000)];
    const later = at(3 * DAY);
    const givenBack = [
      spendRefunded(parts, { at: later }),
      lapse('purchase-1', 'PURCHASED', 800, 'MONEY_RETURNED', later),
      lapse('purchase-1', 'PURCHASED', 200, 'EXPIRED', later),
    ] as const;
    given(bought, spent, half)
      .when(refundSpend(parts, { now: later }))
      .then(...givenBack);
    const state = stateOf([bought, spent, half, ...givenBack]);
    expect(state.purchases.get('cs_pay_1')?.creditsOwed).toBe(0);
    expect(state.grants.get('purchase-1')).toMatchObject({ consumed: 800, remaining: 0 });
  });

  it('refuses a spend whose grants this workspace does not have, a blank reason, and a drawdown that does not add up', () => {
    given(promo)
      .when(refundSpend([draw('elsewhere', 'PURCHASED', 5)]))
      .thenThrows('NOT_FOUND');
    given(promo, spentPromo)
      .when(refundSpend(promoParts, { reason: '  ' }))
      .thenThrows('BAD_USER_INPUT');
    const wrong = refundSpend(promoParts);
    given(promo, spentPromo)
      .when({ ...wrong, data: { ...wrong.data, spend: { credits: 61, drawdown: promoParts } } })
      .thenThrows('BAD_USER_INPUT');
  });
});
