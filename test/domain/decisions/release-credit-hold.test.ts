/**
 * ReleaseCreditHold: an action that will not run gives every held credit back at once, where it
 * can still be spent; releasing twice, or after the hold expired, changes nothing.
 */
import { at, draw, granted, HOUR, purchased } from '../builders';
import { holdExpired, lapsed, release, released, reserved, settled } from '../hold-builders';
import { given, stateOf } from '../spec';

const MINUTE = 60_000;
const purchase500 = purchased({ credits: 500 });
const p300 = [draw('purchase-1', 'PURCHASED', 300)];
const hold300 = reserved({ units: 3, drawdown: p300, availableAfter: 200 });

describe('ReleaseCreditHold', () => {
  it('gives every held credit back, with the reason given', () =>
    given(purchase500, hold300)
      .when(release({ reason: 'run cancelled', now: at(5 * MINUTE) }))
      .then(released(p300, { reason: 'run cancelled', at: at(5 * MINUTE) })));

  it('makes the credits spendable again', () => {
    const state = stateOf([purchase500, hold300, released(p300)]);
    expect(state.grants.get('purchase-1')).toMatchObject({ remaining: 500, held: 0 });
    expect(state.closedHolds.get('hold-1')).toMatchObject({ status: 'RELEASED' });
  });

  it('lets credits given back to a grant that expired meanwhile lapse at once', () => {
    const promo = granted({ credits: 300, expiresAt: at(30 * MINUTE) });
    const parts = [draw('promo-1', 'PROMOTIONAL', 300)];
    given(promo, reserved({ units: 3, drawdown: parts, availableAfter: 0 }))
      .when(release({ now: at(40 * MINUTE) }))
      .then(
        released(parts, { at: at(40 * MINUTE) }),
        lapsed('promo-1', 'PROMOTIONAL', 300, 'EXPIRED', at(40 * MINUTE)),
      );
  });

  it('changes nothing for a hold already released (a retry)', () =>
    given(purchase500, hold300, released(p300))
      .when(release({ now: at(MINUTE) }))
      .thenNothing());

  it('changes nothing for a hold whose expiry is written: its credits are back already', () =>
    given(purchase500, hold300, holdExpired(p300, at(HOUR)))
      .when(release({ now: at(2 * HOUR) }))
      .thenNothing());

  it('changes nothing, and writes nothing, for a hold past its expiry that nobody wrote yet', () =>
    given(purchase500, hold300)
      .when(release({ now: at(HOUR) }))
      .thenNothing());

  it('refuses a settled hold with HOLD_SETTLED: its credits were spent', () =>
    given(purchase500, hold300, settled({ fromHold: p300, returned: [], availableAfter: 200 }))
      .when(release())
      .thenThrows('HOLD_SETTLED', { holdId: 'hold-1' }));

  it('refuses a hold it does not know with NOT_FOUND', () =>
    given(purchase500)
      .when(release({ holdId: 'no-such-hold' }))
      .thenThrows('NOT_FOUND'));

  it('refuses a blank reason', () =>
    given(purchase500, hold300)
      .when(release({ reason: '  ' }))
      .thenThrows('BAD_USER_INPUT'));
});
