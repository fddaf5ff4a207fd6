/**
 * NoticeExpiringCredits: one notice per grant with credits left whose expiry is within the notice period.
 */
import { allowance, at, consumed, DAY, draw, granted, HOUR } from '../builders';
import { configured, expiring, noticeExpiring } from '../alert-builders';
import { reserved } from '../hold-builders';
import { given } from '../spec';

describe('NoticeExpiringCredits', () => {
  it('notices a grant with credits left once its expiry is within the notice period', () =>
    given(granted({ credits: 300, expiresAt: at(10 * DAY) }))
      .when(noticeExpiring(at(3 * DAY)))
      .then(expiring('promo-1', 300, at(10 * DAY), at(3 * DAY))));

  it('does not notice it before the notice period begins', () =>
    given(granted({ credits: 300, expiresAt: at(10 * DAY) }))
      .when(noticeExpiring(at(3 * DAY - HOUR)))
      .thenNothing());

  it('notices each grant once', () =>
    given(granted({ credits: 300, expiresAt: at(10 * DAY) }), expiring('promo-1', 300, at(10 * DAY), at(3 * DAY)))
      .when(noticeExpiring(at(4 * DAY)))
      .thenNothing());

  it('uses the notice period the workspace set, and none when it turned notices off', () => {
    given(granted({ credits: 300, expiresAt: at(10 * DAY) }), configured({ expiringSoonDays: 30 }))
      .when(noticeExpiring(at(0)))
      .then(expiring('promo-1', 300, at(10 * DAY), at(0)));
    given(granted({ credits: 300, expiresAt: at(10 * DAY) }), configured({ expiringSoonDays: null }))
      .when(noticeExpiring(at(9 * DAY)))
      .thenNothing();
  });

  it('says nothing of a grant that was spent, or has already expired', () => {
    given(
      granted({ credits: 100, expiresAt: at(10 * DAY) }),
      consumed({ credits: 100, drawdown: [draw('promo-1', 'PROMOTIONAL', 100)], availableAfter: 0 }),
    )
      .when(noticeExpiring(at(5 * DAY)))
      .thenNothing();
    given(granted({ credits: 100, expiresAt: at(10 * DAY) }))
      .when(noticeExpiring(at(10 * DAY)))
      .thenNothing();
  });

  it('notices the credits left, not those granted, and the allowance too', () =>
    given(
      allowance({ credits: 1000, periodEnd: at(30 * DAY) }),
      consumed({ credits: 400, drawdown: [draw('allowance-1', 'INCLUDED', 400)], availableAfter: 600 }),
    )
      .when(noticeExpiring(at(25 * DAY)))
      .then(expiring('allowance-1', 600, at(30 * DAY), at(25 * DAY), 'INCLUDED')));

  it('counts the credits running actions hold in the grant apart: they expire with it unless settled', () => {
    const hold = (credits: number) =>
      reserved({
        drawdown: [draw('promo-1', 'PROMOTIONAL', credits)],
        availableAfter: 1000 - credits,
        expiresAt: at(6 * DAY),
      });
    given(granted({ credits: 1000, expiresAt: at(10 * DAY) }), hold(900))
      .when(noticeExpiring(at(5 * DAY)))
      .then(expiring('promo-1', 100, at(10 * DAY), at(5 * DAY), 'PROMOTIONAL', 900));
    // All of it held: still noticed.
    given(granted({ credits: 1000, expiresAt: at(10 * DAY) }), hold(1000))
      .when(noticeExpiring(at(5 * DAY)))
      .then(expiring('promo-1', 0, at(10 * DAY), at(5 * DAY), 'PROMOTIONAL', 1000));
  });
});
