/**
 * SettleCreditHold: the real cost is recorded as a spend at the hold's rate, paid from the held
 * credits first, and the rest comes back at once where it can still be spent. Up to what it holds,
 * a hold settles whatever happened meanwhile; more needs the caller's leave and the balance.
 */
import type { WorkspaceCreditsEvent } from '../../../src/domain/events';
import { decide } from '../../../src/domain/decide';
import { depleted, low } from '../alert-builders';
import { allowance, applyAllowance, at, consumed, DAY, draw, expired, granted, HOUR, purchased } from '../builders';
import { holdExpired, lapsed, released, reserved, settle, settled } from '../hold-builders';
import { disputeFact, disputeOpened, providerDispute, providerRefund, refundFact } from '../payment-builders';
import { given, stateOf } from '../spec';

const MINUTE = 60_000;
const allowance300 = allowance({ credits: 300 });
const purchase500 = purchased({ credits: 500 });
const aHeld = draw('allowance-1', 'INCLUDED', 300);
const pHeld = draw('purchase-1', 'PURCHASED', 200);
const hold500 = reserved({ drawdown: [aHeld, pHeld], availableAfter: 300 });

/** The events the real decider records for `command` after `history`. */
const decided = (history: WorkspaceCreditsEvent[], command: Parameters<typeof decide>[0]) =>
  decide(command, stateOf(history));

describe('SettleCreditHold: the real cost, as a spend at the hold’s rate', () => {
  it('pays the cost from the held credits in their order and gives the rest back at once', () =>
    given(allowance300, purchase500, hold500)
      .when(settle({ units: 3, now: at(10 * MINUTE) }))
      .then(
        settled({
          units: 3,
          fromHold: [aHeld],
          returned: [pHeld],
          availableAfter: 500,
          settledAt: at(10 * MINUTE),
        }),
      ));

  it('leaves the grants as if the cost had been spent and the rest never held', () => {
    const state = stateOf([
      allowance300,
      purchase500,
      hold500,
      settled({ units: 3, fromHold: [aHeld], returned: [pHeld], availableAfter: 500 }),
    ]);
    expect(state.grants.get('allowance-1')).toMatchObject({ remaining: 0, held: 0, consumed: 300 });
    expect(state.grants.get('purchase-1')).toMatchObject({ remaining: 500, held: 0, consumed: 0 });
    expect(state.closedHolds.get('hold-1')).toMatchObject({ status: 'SETTLED', settlement: { credits: 300 } });
  });

  it('returns nothing when the action cost exactly what it held', () =>
    given(allowance300, purchase500, hold500)
      .when(settle({ units: 5 }))
      .then(settled({ units: 5, fromHold: [aHeld, pHeld], returned: [], availableAfter: 300 })));

  it('charges the rate fixed when the hold was made, not the one of the settle', () =>
    given(
      purchase500,
      reserved({ units: 10, creditsPerUnit: 7, drawdown: [draw('purchase-1', 'PURCHASED', 70)], availableAfter: 430 }),
    )
      .when(settle({ units: 4 }))
      .then(
        settled({
          units: 4,
          creditsPerUnit: 7,
          fromHold: [draw('purchase-1', 'PURCHASED', 28)],
          returned: [draw('purchase-1', 'PURCHASED', 42)],
          availableAfter: 472,
        }),
      ));

  it('carries the hold’s reference into the spend', () =>
    given(
      purchase500,
      reserved({ reference: 'run-9', drawdown: [draw('purchase-1', 'PURCHASED', 500)], availableAfter: 0 }),
    )
      .when(settle({ units: 5 }))
      .then(
        settled({
          units: 5,
          reference: 'run-9',
          fromHold: [draw('purchase-1', 'PURCHASED', 500)],
          returned: [],
          availableAfter: 0,
        }),
      ));

  it('writes the grant expiries that are due first', () => {
    const promo = granted({ credits: 600, expiresAt: at(30 * MINUTE) });
    const held = reserved({ drawdown: [draw('promo-1', 'PROMOTIONAL', 500)], availableAfter: 100 });
    given(promo, held)
      .when(settle({ units: 3, now: at(45 * MINUTE) }))
      .then(
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: at(30 * MINUTE) }),
        settled({
          units: 3,
          fromHold: [draw('promo-1', 'PROMOTIONAL', 300)],
          returned: [draw('promo-1', 'PROMOTIONAL', 200)],
          availableAfter: 0,
          settledAt: at(45 * MINUTE),
        }),
        lapsed('promo-1', 'PROMOTIONAL', 200, 'EXPIRED', at(45 * MINUTE)),
      );
  });
});

describe('SettleCreditHold: more than was held', () => {
  it('is refused with HOLD_EXCEEDED unless the caller allows the excess from the balance', () =>
    given(allowance300, purchase500, hold500)
      .when(settle({ units: 6 }))
      .thenThrows('HOLD_EXCEEDED', { holdId: 'hold-1', held: 500, required: 600 }));

  it('takes the excess from the available balance when allowed, as a spend would', () =>
    given(allowance300, purchase500, hold500)
      .when(settle({ units: 6, takeExcessFromBalance: true }))
      .then(
        settled({
          units: 6,
          fromHold: [aHeld, pHeld],
          fromBalance: [draw('purchase-1', 'PURCHASED', 100)],
          drawdown: [aHeld, draw('purchase-1', 'PURCHASED', 300)],
          returned: [],
          availableAfter: 200,
        }),
      ));

  it('is refused whole when the balance cannot cover the excess: nothing is settled', () =>
    given(allowance300, purchase500, hold500)
      .when(settle({ units: 9, takeExcessFromBalance: true }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 400, available: 300 }));
});

describe('SettleCreditHold: once', () => {
  const done = settled({ units: 3, fromHold: [aHeld], returned: [pHeld], availableAfter: 500 });

  it('returns the first settle for a retry with the same key and units', () =>
    given(allowance300, purchase500, hold500, done)
      .when(settle({ units: 3, consumptionId: 'other' }))
      .thenNothing());

  it('refuses the same key with other units', () =>
    given(allowance300, purchase500, hold500, done)
      .when(settle({ units: 4 }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED', { idempotencyKey: 'settle-key-1' }));

  it('refuses a second settle with HOLD_SETTLED', () =>
    given(allowance300, purchase500, hold500, done)
      .when(settle({ idempotencyKey: 'settle-key-2', units: 1 }))
      .thenThrows('HOLD_SETTLED', { holdId: 'hold-1', status: 'SETTLED' }));

  it('refuses a released hold with HOLD_RELEASED', () =>
    given(allowance300, purchase500, hold500, released([aHeld, pHeld]))
      .when(settle())
      .thenThrows('HOLD_RELEASED', { holdId: 'hold-1', status: 'RELEASED' }));

  it('refuses a hold whose expiry is written with HOLD_EXPIRED', () =>
    given(allowance300, purchase500, hold500, holdExpired([aHeld, pHeld], at(HOUR)))
      .when(settle({ now: at(2 * HOUR) }))
      .thenThrows('HOLD_EXPIRED', { holdId: 'hold-1', at: at(HOUR).toISOString() }));

  it('refuses a hold at its expiry instant, before anyone wrote its expiry', () =>
    given(allowance300, purchase500, hold500)
      .when(settle({ now: at(HOUR) }))
      .thenThrows('HOLD_EXPIRED', { holdId: 'hold-1', at: at(HOUR).toISOString() }));

  it('settles a millisecond before the expiry', () =>
    given(allowance300, purchase500, hold500)
      .when(settle({ units: 5, now: at(HOUR - 1) }))
      .then(
        settled({ units: 5, fromHold: [aHeld, pHeld], returned: [], availableAfter: 300, settledAt: at(HOUR - 1) }),
      ));

  it('refuses a hold it does not know with NOT_FOUND', () =>
    given(purchase500)
      .when(settle({ holdId: 'no-such-hold' }))
      .thenThrows('NOT_FOUND'));

  it.each([0, -2, 2.5])('refuses units = %p', (units) =>
    given(allowance300, purchase500, hold500).when(settle({ units })).thenThrows('BAD_USER_INPUT'),
  );
});

describe('SettleCreditHold: the guarantee, whatever happened meanwhile', () => {
  const p500 = [draw('purchase-1', 'PURCHASED', 500)];

  it('settles although every other credit was spent', () =>
    given(
      purchase500,
      reserved({ units: 3, drawdown: [draw('purchase-1', 'PURCHASED', 300)], availableAfter: 200 }),
      consumed({ credits: 200, drawdown: [draw('purchase-1', 'PURCHASED', 200)], availableAfter: 0 }),
    )
      .when(settle({ units: 3 }))
      .then(settled({ units: 3, fromHold: [draw('purchase-1', 'PURCHASED', 300)], returned: [], availableAfter: 0 })));

  it('settles from a grant that expired meanwhile; what it gives back there lapses', () => {
    const promo = granted({ credits: 500, expiresAt: at(30 * MINUTE) });
    const parts = [draw('promo-1', 'PROMOTIONAL', 500)];
    given(promo, reserved({ drawdown: parts, availableAfter: 0 }))
      .when(settle({ units: 2, now: at(40 * MINUTE) }))
      .then(
        settled({
          units: 2,
          fromHold: [draw('promo-1', 'PROMOTIONAL', 200)],
          returned: [draw('promo-1', 'PROMOTIONAL', 300)],
          availableAfter: 0,
          settledAt: at(40 * MINUTE),
        }),
        lapsed('promo-1', 'PROMOTIONAL', 300, 'EXPIRED', at(40 * MINUTE)),
      );
  });

  it('settles from a purchase refunded in full meanwhile: the refund took only what was not held', () => {
    const history = [
      purchase500,
      reserved({ drawdown: p500.map((p) => ({ ...p, credits: 300 })), units: 3, availableAfter: 200 }),
    ];
    const refund = decided(history, providerRefund(refundFact({ amount: 4900 }), { now: at(10 * MINUTE) }));
    expect(refund[0]).toMatchObject({ type: 'PurchaseRefundRequested', data: { credits: 200, creditsOwed: 300 } });
    given(...history, ...refund)
      .when(settle({ units: 2, now: at(20 * MINUTE) }))
      .then(
        settled({
          units: 2,
          fromHold: [draw('purchase-1', 'PURCHASED', 200)],
          returned: [draw('purchase-1', 'PURCHASED', 100)],
          availableAfter: 0,
          settledAt: at(20 * MINUTE),
        }),
        lapsed('purchase-1', 'PURCHASED', 100, 'MONEY_RETURNED', at(20 * MINUTE)),
      );
  });

  it('settles from a purchase frozen by a dispute; what comes back stays frozen with it', () => {
    const history = [
      purchase500,
      reserved({ units: 3, drawdown: [draw('purchase-1', 'PURCHASED', 300)], availableAfter: 200 }),
    ];
    const opened = decided(history, providerDispute(disputeFact({ amount: 4900 }), { now: at(10 * MINUTE) }));
    expect(opened).toEqual([
      disputeOpened({
        amount: { amount: 4900, currency: 'USD' },
        creditsHeld: 200,
        openedAt: at(10 * MINUTE).toISOString(),
      }),
      // The 200 credits not held are frozen, the rest held: nothing is left to spend.
      low(0, 100, at(10 * MINUTE)),
      depleted(100, at(10 * MINUTE)),
    ]);
    given(...history, ...opened)
      .when(settle({ units: 1, now: at(20 * MINUTE) }))
      .then(
        settled({
          units: 1,
          fromHold: [draw('purchase-1', 'PURCHASED', 100)],
          returned: [draw('purchase-1', 'PURCHASED', 200)],
          availableAfter: 0,
          settledAt: at(20 * MINUTE),
        }),
      );
  });

  it('settles from an allowance a new period replaced; what it gives back there lapses', () => {
    const first = allowance({ credits: 1000 });
    const held = reserved({
      drawdown: [draw('allowance-1', 'INCLUDED', 500)],
      availableAfter: 500,
      expiresAt: at(DAY),
    });
    const renewal = decided(
      [first, held],
      applyAllowance({ grantId: 'allowance-2', credits: 1000, periodStart: at(12 * HOUR), periodEnd: at(30 * DAY) }),
    );
    expect(renewal[0]).toMatchObject({ type: 'CreditsExpired', data: { credits: 500, reason: 'PERIOD_REPLACED' } });
    given(first, held, ...renewal)
      .when(settle({ units: 2, now: at(13 * HOUR) }))
      .then(
        settled({
          units: 2,
          fromHold: [draw('allowance-1', 'INCLUDED', 200)],
          returned: [draw('allowance-1', 'INCLUDED', 300)],
          availableAfter: 1000,
          settledAt: at(13 * HOUR),
        }),
        lapsed('allowance-1', 'INCLUDED', 300, 'PERIOD_REPLACED', at(13 * HOUR)),
      );
  });

  it('settles after another hold on the same credits was released and reserved again', () =>
    given(
      purchase500,
      reserved({ units: 2, drawdown: [draw('purchase-1', 'PURCHASED', 200)], availableAfter: 300 }),
      released([draw('purchase-1', 'PURCHASED', 200)]),
      reserved({ holdId: 'hold-2', idempotencyKey: 'hold-key-2', drawdown: p500, availableAfter: 0 }),
    )
      .when(settle({ holdId: 'hold-2', units: 5 }))
      .then(settled({ holdId: 'hold-2', units: 5, fromHold: p500, returned: [], availableAfter: 0 })));
});
