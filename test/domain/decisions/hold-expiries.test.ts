/**
 * Hold expiry at the instant: a hold stops reserving at its expiresAt whether or not its expiry is
 * written; every decision first writes the hold expiries that are due, at their instants, and
 * decides on the credits they gave back. ExpireCredits (the reaction's command) writes only them.
 */
import { at, consumed, draw, expireCredits, expired, granted, HOUR, purchased, spend } from '../builders';
import { holdExpired, lapsed, reserved } from '../hold-builders';
import { given } from '../spec';

const MINUTE = 60_000;
const purchase500 = purchased({ credits: 500 });
const p500 = [draw('purchase-1', 'PURCHASED', 500)];
const hold500 = reserved({ drawdown: p500, availableAfter: 0 });

describe('hold expiry, written by whatever decides next', () => {
  it('a spend after the instant writes the hold’s expiry first and spends the credits it gave back', () =>
    given(purchase500, hold500)
      .when(spend({ now: at(2 * HOUR) }))
      .then(
        holdExpired(p500, at(HOUR), 'hold-1', 500),
        consumed({
          credits: 8,
          drawdown: [draw('purchase-1', 'PURCHASED', 8)],
          availableAfter: 492,
          consumedAt: at(2 * HOUR),
        }),
      ));

  it('a spend a millisecond before the instant still finds the credits held', () =>
    given(purchase500, hold500)
      .when(spend({ now: at(HOUR - 1) }))
      .thenThrows('INSUFFICIENT_CREDITS', { available: 0 }));

  it('a refused command writes no expiry, but was decided on the credits given back', () =>
    given(purchase500, hold500)
      .when(spend({ units: 1, creditsPerUnit: 501, now: at(HOUR) }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 501, available: 500 }));

  it('a retry that records nothing appends nothing, not even a due hold expiry', () =>
    given(
      purchase500,
      consumed({ credits: 8, drawdown: [draw('purchase-1', 'PURCHASED', 8)], availableAfter: 492 }),
      reserved({ drawdown: [draw('purchase-1', 'PURCHASED', 492)], availableAfter: 0 }),
    )
      .when(spend({ now: at(2 * HOUR) }))
      .thenNothing());
});

describe('ExpireCredits writes hold and grant expiries in the order they happened', () => {
  it('writes each due hold’s expiry at its own instant, oldest first', () =>
    given(
      purchase500,
      reserved({ units: 2, drawdown: [draw('purchase-1', 'PURCHASED', 200)], availableAfter: 300 }),
      reserved({
        holdId: 'hold-2',
        idempotencyKey: 'hold-key-2',
        units: 1,
        drawdown: [draw('purchase-1', 'PURCHASED', 100)],
        availableAfter: 200,
        expiresAt: at(30 * MINUTE),
      }),
    )
      .when(expireCredits(at(2 * HOUR)))
      .then(
        holdExpired([draw('purchase-1', 'PURCHASED', 100)], at(30 * MINUTE), 'hold-2', 300),
        holdExpired([draw('purchase-1', 'PURCHASED', 200)], at(HOUR), 'hold-1', 500),
      ));

  it('gives credits back to a grant that expired later, which then expires with them', () => {
    const promo = granted({ credits: 500, expiresAt: at(2 * HOUR) });
    const parts = [draw('promo-1', 'PROMOTIONAL', 300)];
    given(promo, reserved({ units: 3, drawdown: parts, availableAfter: 200 }))
      .when(expireCredits(at(3 * HOUR)))
      .then(
        holdExpired(parts, at(HOUR), 'hold-1', 500),
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 500, expiredAt: at(2 * HOUR) }),
      );
  });

  it('lets credits given back to a grant that had already expired lapse at the hold’s instant', () => {
    const promo = granted({ credits: 500, expiresAt: at(30 * MINUTE) });
    const parts = [draw('promo-1', 'PROMOTIONAL', 300)];
    given(promo, reserved({ units: 3, drawdown: parts, availableAfter: 200 }))
      .when(expireCredits(at(2 * HOUR)))
      .then(
        // In the order they happened: the grant's end at 30 min, then the hold's at an hour, whose
        // 300 came back to the expired grant and lapsed at once: nothing could be spent.
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 200, expiredAt: at(30 * MINUTE) }),
        holdExpired(parts, at(HOUR), 'hold-1', 0),
        lapsed('promo-1', 'PROMOTIONAL', 300, 'EXPIRED', at(HOUR)),
      );
  });

  it('writes nothing for a hold not yet due, nor for one already written', () => {
    given(purchase500, hold500)
      .when(expireCredits(at(HOUR - 1)))
      .thenNothing();
    given(purchase500, hold500, holdExpired(p500, at(HOUR)))
      .when(expireCredits(at(2 * HOUR)))
      .thenNothing();
  });
});
