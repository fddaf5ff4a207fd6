/**
 * ReserveCredits: a hold draws its credits from the live grants in drawdown order into `held`, at
 * the rate of the moment, refused whole like a spend; what it holds nothing else can spend.
 */
import { at, allowance, consumed, DAY, draw, expired, granted, HOUR, purchased, spend } from '../builders';
import { reserve, reserved } from '../hold-builders';
import { disputeOpened } from '../payment-builders';
import { given, stateOf } from '../spec';

const allowance300 = allowance({ credits: 300 });
const purchase500 = purchased({ credits: 500 });
const bothHeld = [draw('allowance-1', 'INCLUDED', 300), draw('purchase-1', 'PURCHASED', 200)];

describe('ReserveCredits: what a hold takes', () => {
  it('holds units × creditsPerUnit credits drawn in drawdown order, for an hour by default', () =>
    given(allowance300, purchase500)
      .when(reserve())
      .then(reserved({ drawdown: bothHeld, availableAfter: 300, expiresAt: at(HOUR) })));

  it('moves the credits from the grants’ remaining into held, out of what can be spent', () => {
    const state = stateOf([allowance300, purchase500, reserved({ drawdown: bothHeld, availableAfter: 300 })]);
    expect(state.grants.get('allowance-1')).toMatchObject({ remaining: 0, held: 300 });
    expect(state.grants.get('purchase-1')).toMatchObject({ remaining: 300, held: 200 });
    expect(state.activeHolds.get('hold-1')).toMatchObject({ status: 'ACTIVE', credits: 500, creditsPerUnit: 100 });
  });

  it('carries the caller’s reference and keeps the expiry it was asked for', () =>
    given(purchase500)
      .when(reserve({ reference: 'org-chart-run-7', expiresAt: at(6 * HOUR) }))
      .then(
        reserved({
          reference: 'org-chart-run-7',
          drawdown: [draw('purchase-1', 'PURCHASED', 500)],
          availableAfter: 0,
          expiresAt: at(6 * HOUR),
        }),
      ));

  it('writes the grant expiries that are due first, and holds nothing of an expired grant', () =>
    given(granted({ credits: 100, expiresAt: at(DAY) }), purchase500)
      .when(reserve({ units: 1, now: at(2 * DAY) }))
      .then(
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: at(DAY) }),
        reserved({
          units: 1,
          drawdown: [draw('purchase-1', 'PURCHASED', 100)],
          availableAfter: 400,
          reservedAt: at(2 * DAY),
        }),
      ));

  it('holds nothing of a purchase frozen by a dispute', () =>
    given(purchase500, granted({ credits: 100 }), disputeOpened({ creditsHeld: 500 }))
      .when(reserve({ units: 2, now: at(2 * DAY) }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 200, available: 100 }));
});

describe('ReserveCredits: no overdraft, held credits included', () => {
  it('is refused whole, with what was required and available, when the balance cannot cover it', () =>
    given(allowance300).when(reserve()).thenThrows('INSUFFICIENT_CREDITS', { required: 500, available: 300 }));

  it('counts credits other holds hold as unavailable to a second hold', () =>
    given(purchase500, reserved({ units: 3, drawdown: [draw('purchase-1', 'PURCHASED', 300)], availableAfter: 200 }))
      .when(reserve({ holdId: 'hold-2', idempotencyKey: 'hold-key-2', units: 3 }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 300, available: 200 }));

  it('leaves held credits to the hold: a spend that only they could cover is refused', () =>
    given(purchase500, reserved({ drawdown: [draw('purchase-1', 'PURCHASED', 500)], availableAfter: 0 }))
      .when(spend({ now: at(1000) }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 8, available: 0 }));

  it('counts spends made before it', () =>
    given(
      purchase500,
      consumed({ credits: 400, drawdown: [draw('purchase-1', 'PURCHASED', 400)], availableAfter: 100 }),
    )
      .when(reserve({ units: 2 }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 200, available: 100 }));
});

describe('ReserveCredits: expiry bounds', () => {
  it('reserves for at most 24 hours ahead', () =>
    given(purchase500)
      .when(reserve({ expiresAt: at(24 * HOUR) }))
      .then(reserved({ drawdown: [draw('purchase-1', 'PURCHASED', 500)], availableAfter: 0, expiresAt: at(DAY) })));

  it.each([
    ['one millisecond past 24 hours', at(DAY + 1)],
    ['now', at(0)],
    ['in the past', at(-HOUR)],
  ])('refuses an expiresAt %s', (_what, expiresAt) =>
    given(purchase500).when(reserve({ expiresAt })).thenThrows('BAD_USER_INPUT'),
  );

  it.each([0, -1, 1.5, Number.NaN])('refuses units = %p', (units) =>
    given(purchase500).when(reserve({ units })).thenThrows('BAD_USER_INPUT'),
  );
});

describe('ReserveCredits: once per idempotency key', () => {
  const first = reserved({ reference: 'run-1', drawdown: [draw('purchase-1', 'PURCHASED', 500)], availableAfter: 0 });

  it('returns the first hold for a retry (the caller gets it back, nothing is held twice)', () =>
    given(purchase500, first)
      .when(reserve({ holdId: 'hold-retry', reference: 'run-1', now: at(5000) }))
      .thenNothing());

  it('recognises a retry that names the expiry the hold was made with', () =>
    given(purchase500, first)
      .when(reserve({ holdId: 'hold-retry', reference: 'run-1', expiresAt: at(HOUR) }))
      .thenNothing());

  it.each([
    ['other units', { units: 4 }],
    ['another action', { action: 'ORG_CHART_SYNC' as const }],
    ['another reference', { reference: 'run-2' }],
    ['another expiry', { reference: 'run-1', expiresAt: at(2 * HOUR) }],
  ])('refuses the same key with %s', (_what, change) =>
    given(purchase500, first)
      .when(reserve({ holdId: 'hold-2', reference: 'run-1', ...change }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED', { idempotencyKey: 'hold-key-1' }),
  );

  it('returns the first hold for a retry even after it has expired', () =>
    given(purchase500, first)
      .when(reserve({ holdId: 'hold-retry', reference: 'run-1', now: at(2 * HOUR) }))
      .thenNothing());
});
