/**
 * Which grants pay for a spend: soonest expiry first (never-expiring last), then
 * INCLUDED → PROMOTIONAL → PURCHASED, then oldest first. The spend records every part.
 */
import { allowance, at, consumed, DAY, draw, granted, HOUR, purchased, spend } from './builders';
import { given } from './spec';

const now = at(DAY);

describe('Drawdown order: soonest expiry first', () => {
  it('takes the expiring plan allowance before never-expiring purchased credits, even when the purchase is older', () =>
    given(
      purchased({ credits: 500, purchasedAt: at(-10 * DAY) }),
      allowance({ credits: 1000, periodEnd: at(30 * DAY) }),
    )
      .when(spend({ units: 1, creditsPerUnit: 100, now }))
      .then(
        consumed({
          units: 1,
          creditsPerUnit: 100,
          credits: 100,
          drawdown: [draw('allowance-1', 'INCLUDED', 100)],
          availableAfter: 1400,
          consumedAt: now,
        }),
      ));

  it('takes a promotion that expires before the allowance ahead of the allowance', () =>
    given(allowance({ credits: 1000, periodEnd: at(30 * DAY) }), granted({ credits: 50, expiresAt: at(7 * DAY) }))
      .when(spend({ units: 1, creditsPerUnit: 21, now }))
      .then(
        consumed({
          units: 1,
          creditsPerUnit: 21,
          credits: 21,
          drawdown: [draw('promo-1', 'PROMOTIONAL', 21)],
          availableAfter: 1029,
          consumedAt: now,
        }),
      ));

  it('takes purchased credits that expire sooner ahead of the allowance: expiry beats source', () =>
    given(allowance({ credits: 1000, periodEnd: at(30 * DAY) }), purchased({ credits: 500, expiresAt: at(2 * DAY) }))
      .when(spend({ units: 1, creditsPerUnit: 100, now }))
      .then(
        consumed({
          units: 1,
          creditsPerUnit: 100,
          credits: 100,
          drawdown: [draw('purchase-1', 'PURCHASED', 100)],
          availableAfter: 1400,
          consumedAt: now,
        }),
      ));

  it('takes an expiring promotion before a never-expiring one', () =>
    given(
      granted({ grantId: 'promo-forever', idempotencyKey: 'k-forever', credits: 100, grantedAt: at(-DAY) }),
      granted({ grantId: 'promo-expiring', idempotencyKey: 'k-expiring', credits: 100, expiresAt: at(60 * DAY) }),
    )
      .when(spend({ now }))
      .then(
        consumed({
          credits: 8,
          drawdown: [draw('promo-expiring', 'PROMOTIONAL', 8)],
          availableAfter: 192,
          consumedAt: now,
        }),
      ));
});

describe('Drawdown order: among equal expiries, INCLUDED → PROMOTIONAL → PURCHASED', () => {
  const end = at(30 * DAY);

  it('orders by source when all three expire at the same instant, whatever their age', () =>
    given(
      purchased({ credits: 100, expiresAt: end, purchasedAt: at(-2 * DAY) }),
      granted({ credits: 100, expiresAt: end, grantedAt: at(-DAY) }),
      allowance({ credits: 100, periodEnd: end }),
    )
      .when(spend({ units: 5, creditsPerUnit: 50, now }))
      .then(
        consumed({
          units: 5,
          creditsPerUnit: 50,
          credits: 250,
          drawdown: [
            draw('allowance-1', 'INCLUDED', 100),
            draw('promo-1', 'PROMOTIONAL', 100),
            draw('purchase-1', 'PURCHASED', 50),
          ],
          availableAfter: 50,
          consumedAt: now,
        }),
      ));

  it('takes never-expiring promotional credits before never-expiring purchased ones, even when the purchase is older', () =>
    given(purchased({ credits: 100, purchasedAt: at(-2 * DAY) }), granted({ credits: 100 }))
      .when(spend({ units: 3, creditsPerUnit: 50, now }))
      .then(
        consumed({
          units: 3,
          creditsPerUnit: 50,
          credits: 150,
          drawdown: [draw('promo-1', 'PROMOTIONAL', 100), draw('purchase-1', 'PURCHASED', 50)],
          availableAfter: 50,
          consumedAt: now,
        }),
      ));
});

describe('Drawdown order: among equal expiry and source, oldest first', () => {
  it('takes the older of two never-expiring purchases first (not the alphabetically first id)', () =>
    given(
      purchased({ grantId: 'b-older', purchaseId: 'cs_1', credits: 100, purchasedAt: at(-2 * DAY) }),
      purchased({ grantId: 'a-newer', purchaseId: 'cs_2', credits: 100, purchasedAt: at(-HOUR) }),
    )
      .when(spend({ units: 3, creditsPerUnit: 50, now }))
      .then(
        consumed({
          units: 3,
          creditsPerUnit: 50,
          credits: 150,
          drawdown: [draw('b-older', 'PURCHASED', 100), draw('a-newer', 'PURCHASED', 50)],
          availableAfter: 50,
          consumedAt: now,
        }),
      ));

  it('falls back to the order the grants were recorded in when they were granted at the same instant', () =>
    given(
      granted({ grantId: 'z-first', idempotencyKey: 'k1', credits: 10 }),
      granted({ grantId: 'a-second', idempotencyKey: 'k2', credits: 10 }),
    )
      .when(spend({ units: 3, creditsPerUnit: 4, now }))
      .then(
        consumed({
          units: 3,
          creditsPerUnit: 4,
          credits: 12,
          drawdown: [draw('z-first', 'PROMOTIONAL', 10), draw('a-second', 'PROMOTIONAL', 2)],
          availableAfter: 8,
          consumedAt: now,
        }),
      ));
});

describe('Drawdown: split spends and used-up grants', () => {
  it('records each part of a spend split over three grants, and the balance left', () =>
    given(
      allowance({ credits: 30, periodEnd: at(30 * DAY) }),
      granted({ credits: 20, expiresAt: at(10 * DAY) }),
      purchased({ credits: 500 }),
    )
      .when(spend({ action: 'ORG_CHART_GENERATION', units: 1, creditsPerUnit: 100, now }))
      .then(
        consumed({
          action: 'ORG_CHART_GENERATION',
          units: 1,
          creditsPerUnit: 100,
          credits: 100,
          drawdown: [
            draw('promo-1', 'PROMOTIONAL', 20),
            draw('allowance-1', 'INCLUDED', 30),
            draw('purchase-1', 'PURCHASED', 50),
          ],
          availableAfter: 450,
          consumedAt: now,
        }),
      ));

  it('continues from what is left of a partly used grant and skips a used-up one', () =>
    given(
      granted({ credits: 8, expiresAt: at(5 * DAY) }),
      allowance({ credits: 100, periodEnd: at(30 * DAY) }),
      purchased({ credits: 500 }),
      consumed({
        units: 2,
        credits: 16,
        drawdown: [draw('promo-1', 'PROMOTIONAL', 8), draw('allowance-1', 'INCLUDED', 8)],
        availableAfter: 592,
      }),
    )
      .when(spend({ idempotencyKey: 'spend-key-2', consumptionId: 'spend-2', units: 2, creditsPerUnit: 50, now }))
      .then(
        consumed({
          idempotencyKey: 'spend-key-2',
          consumptionId: 'spend-2',
          units: 2,
          creditsPerUnit: 50,
          credits: 100,
          drawdown: [draw('allowance-1', 'INCLUDED', 92), draw('purchase-1', 'PURCHASED', 8)],
          availableAfter: 492,
          consumedAt: now,
        }),
      ));
});
