/**
 * ExtendCreditHold: a heartbeat keeps a running action's hold, at most 24 hours ahead of each
 * heartbeat and 7 days from when it was made, so a hold whose action stopped still ends; a hold that
 * is over stays over.
 */
import { at, DAY, draw, HOUR, purchased } from '../builders';
import { extend, extended, holdExpired, released, reserved, settle, settled } from '../hold-builders';
import { given } from '../spec';

const purchase500 = purchased({ credits: 500 });
const p300 = [draw('purchase-1', 'PURCHASED', 300)];
const hold300 = reserved({ units: 3, drawdown: p300, availableAfter: 200 });

describe('ExtendCreditHold', () => {
  it('moves the expiry later', () =>
    given(purchase500, hold300)
      .when(extend(at(3 * HOUR), { now: at(30 * 60_000) }))
      .then(extended(at(3 * HOUR), at(HOUR), { at: at(30 * 60_000) })));

  it('keeps the hold reserving past its first expiry', () =>
    given(purchase500, hold300, extended(at(3 * HOUR), at(HOUR)))
      .when(settle({ units: 3, now: at(2 * HOUR) }))
      .then(settled({ units: 3, fromHold: p300, returned: [], availableAfter: 200, settledAt: at(2 * HOUR) })));

  it('lets heartbeats keep a hold longer than 24 hours in all, each at most 24 hours ahead', () =>
    given(purchase500, hold300, extended(at(DAY), at(HOUR), { at: at(0) }))
      .when(extend(at(DAY + 20 * HOUR), { now: at(20 * HOUR) }))
      .then(extended(at(DAY + 20 * HOUR), at(DAY), { at: at(20 * HOUR) })));

  it('keeps a hold at most 7 days from when it was made, heartbeats or not', () => {
    // Made at 0 and kept alive since: six and a half days on, a heartbeat may reach day 7, not past it.
    const kept = extended(at(6 * DAY + 20 * HOUR), at(HOUR), { at: at(6 * DAY) });
    const now = at(6 * DAY + 12 * HOUR);
    given(purchase500, hold300, kept)
      .when(extend(at(7 * DAY), { now }))
      .then(extended(at(7 * DAY), at(6 * DAY + 20 * HOUR), { at: now }));
    given(purchase500, hold300, kept)
      .when(extend(at(7 * DAY + 1), { now }))
      .thenThrows('BAD_USER_INPUT');
  });

  it('refuses an expiry more than 24 hours ahead of now', () =>
    given(purchase500, hold300)
      .when(extend(at(DAY + 1)))
      .thenThrows('BAD_USER_INPUT'));

  it('refuses an expiry that is not in the future', () =>
    given(purchase500, hold300)
      .when(extend(at(0), { now: at(0) }))
      .thenThrows('BAD_USER_INPUT'));

  it('changes nothing when the hold already reserves that long (a retried or late heartbeat)', () => {
    given(purchase500, hold300)
      .when(extend(at(HOUR)))
      .thenNothing();
    given(purchase500, hold300)
      .when(extend(at(HOUR / 2)))
      .thenNothing();
  });

  it('refuses a hold past its expiry with HOLD_EXPIRED, written or not', () => {
    given(purchase500, hold300)
      .when(extend(at(3 * HOUR), { now: at(HOUR) }))
      .thenThrows('HOLD_EXPIRED');
    given(purchase500, hold300, holdExpired(p300, at(HOUR)))
      .when(extend(at(3 * HOUR), { now: at(2 * HOUR) }))
      .thenThrows('HOLD_EXPIRED');
  });

  it('refuses a settled hold with HOLD_SETTLED and a released one with HOLD_RELEASED', () => {
    given(purchase500, hold300, settled({ units: 3, fromHold: p300, returned: [], availableAfter: 200 }))
      .when(extend(at(2 * HOUR)))
      .thenThrows('HOLD_SETTLED');
    given(purchase500, hold300, released(p300))
      .when(extend(at(2 * HOUR)))
      .thenThrows('HOLD_RELEASED');
  });

  it('refuses a hold it does not know with NOT_FOUND', () =>
    given(purchase500)
      .when(extend(at(2 * HOUR), { holdId: 'no-such-hold' }))
      .thenThrows('NOT_FOUND'));
});
