/**
 * The plan allowance: one INCLUDED grant per billing period, expiring at periodEnd; a new period
 * replaces what is left of the previous one. Re-applying the same period (a redelivered webhook)
 * changes nothing.
 */
import { allowance, applyAllowance, at, consumed, DAY, draw, expired, HOUR, purchased, spend } from '../builders';
import { given } from '../spec';

const january = { periodStart: at(0), periodEnd: at(31 * DAY) };
const february = { grantId: 'allowance-2', periodStart: at(31 * DAY), periodEnd: at(59 * DAY) };

describe('ApplyPlanAllowance: a fresh allowance', () => {
  it('grants the plan credits for the period, expiring at periodEnd', () =>
    given()
      .when(applyAllowance({ ...january, credits: 1000, now: at(HOUR) }))
      .then(allowance({ ...january, credits: 1000, appliedAt: at(HOUR) })));

  it('allows a free plan with no included credits', () =>
    given()
      .when(applyAllowance({ ...january, planId: 'free', planName: 'Free', credits: 0 }))
      .then(allowance({ ...january, planId: 'free', planName: 'Free', credits: 0 })));

  it('leaves purchased credits alone', () =>
    given(purchased({ credits: 500 }))
      .when(applyAllowance({ ...january, now: at(DAY) }))
      .then(allowance({ ...january, appliedAt: at(DAY) })));

  it('refuses a period whose end is not after its start', () =>
    given()
      .when(applyAllowance({ periodStart: at(DAY), periodEnd: at(DAY), now: at(0) }))
      .thenThrows('BAD_USER_INPUT'));

  it('refuses a period that ends before it starts', () =>
    given()
      .when(applyAllowance({ periodStart: at(DAY), periodEnd: at(0), now: at(0) }))
      .thenThrows('BAD_USER_INPUT'));

  it.each([-1, 1.5])('refuses an allowance of %p credits', (credits) =>
    given()
      .when(applyAllowance({ ...january, credits }))
      .thenThrows('BAD_USER_INPUT'),
  );

  it('refuses a period that has not started, but for clocks a few minutes apart', () => {
    const MINUTE = 60_000;
    given()
      .when(applyAllowance({ ...february, now: at(31 * DAY - 5 * MINUTE - 1) }))
      .thenThrows('BAD_USER_INPUT');
    // Sent at the period's start by a system whose clock runs up to 5 minutes ahead of ours.
    given()
      .when(applyAllowance({ ...february, now: at(31 * DAY - 5 * MINUTE) }))
      .then(allowance({ ...february, appliedAt: at(31 * DAY - 5 * MINUTE) }));
    given()
      .when(applyAllowance({ ...february, now: at(31 * DAY) }))
      .then(allowance({ ...february, appliedAt: at(31 * DAY) }));
  });

  it('answers a repeat of a period applied before with nothing changed, whatever the new checks say', () => {
    // Repeated through a replica whose clock is behind the period's start...
    given(allowance({ ...february, appliedAt: at(31 * DAY) }))
      .when(applyAllowance({ ...february, now: at(30 * DAY) }))
      .thenNothing();
    // ...or a period longer than a year, applied before such periods were refused.
    const long = { periodStart: at(0), periodEnd: at(400 * DAY) };
    given(allowance(long)).when(applyAllowance(long)).thenNothing();
  });

  it('leaves the current period whole when next month’s allowance comes early', () =>
    given(
      allowance({ ...january, credits: 5000 }),
      consumed({ credits: 1000, drawdown: [draw('allowance-1', 'INCLUDED', 1000)], availableAfter: 4000 }),
    )
      .when(applyAllowance({ ...february, credits: 5000, now: at(20 * DAY) }))
      .thenThrows('BAD_USER_INPUT'));

  it('refuses a period longer than a leap year, and takes one of 366 days', () => {
    given()
      .when(applyAllowance({ periodStart: at(0), periodEnd: at(366 * DAY + 1) }))
      .thenThrows('BAD_USER_INPUT');
    given()
      .when(applyAllowance({ periodStart: at(0), periodEnd: at(366 * DAY) }))
      .then(allowance({ periodStart: at(0), periodEnd: at(366 * DAY) }));
  });

  it('refuses a period that has already ended', () =>
    given()
      .when(applyAllowance({ ...january, now: at(32 * DAY) }))
      .thenThrows('CONFLICT'));

  it('refuses a period that ends exactly now', () =>
    given()
      .when(applyAllowance({ ...january, now: january.periodEnd }))
      .thenThrows('CONFLICT'));
});

describe('ApplyPlanAllowance: the same period again', () => {
  it('changes nothing when the same plan and end are applied again', () =>
    given(allowance(january))
      .when(applyAllowance({ ...january, now: at(2 * DAY) }))
      .thenNothing());

  it('changes nothing even after part of the allowance was spent', () =>
    given(
      allowance(january),
      consumed({ credits: 8, drawdown: [draw('allowance-1', 'INCLUDED', 8)], availableAfter: 992 }),
    )
      .when(applyAllowance({ ...january, now: at(DAY) }))
      .thenNothing());

  it('changes nothing when redelivered after the period ended and the next one began', () =>
    given(
      allowance(january),
      expired({ grantId: 'allowance-1', source: 'INCLUDED', credits: 1000, expiredAt: january.periodEnd }),
      allowance(february),
    )
      .when(applyAllowance({ ...january, now: at(40 * DAY) }))
      .thenNothing());

  it('is a conflict with a different plan for the same start', () =>
    given(allowance(january))
      .when(applyAllowance({ ...january, planId: 'business', planName: 'Business', now: at(DAY) }))
      .thenThrows('CONFLICT'));

  it('is a conflict with a different end for the same start', () =>
    given(allowance(january))
      .when(applyAllowance({ ...january, periodEnd: at(30 * DAY), now: at(DAY) }))
      .thenThrows('CONFLICT'));

  it('is a conflict to apply a period older than the current one', () =>
    given(allowance(february))
      .when(
        applyAllowance({ grantId: 'allowance-0', periodStart: at(-DAY), periodEnd: at(40 * DAY), now: at(32 * DAY) }),
      )
      .thenThrows('CONFLICT'));
});

describe('ApplyPlanAllowance: a new period replaces the previous allowance', () => {
  it('expires what is left of a previous allowance that has not ended yet, as PERIOD_REPLACED at now', () =>
    given(
      allowance(january),
      consumed({ units: 25, credits: 200, drawdown: [draw('allowance-1', 'INCLUDED', 200)], availableAfter: 800 }),
    )
      .when(
        applyAllowance({
          grantId: 'allowance-2',
          planId: 'business',
          planName: 'Business',
          credits: 5000,
          periodStart: at(10 * DAY),
          periodEnd: at(41 * DAY),
          now: at(10 * DAY),
        }),
      )
      .then(
        expired({
          grantId: 'allowance-1',
          source: 'INCLUDED',
          credits: 800,
          reason: 'PERIOD_REPLACED',
          expiredAt: at(10 * DAY),
        }),
        allowance({
          grantId: 'allowance-2',
          planId: 'business',
          planName: 'Business',
          credits: 5000,
          periodStart: at(10 * DAY),
          periodEnd: at(41 * DAY),
          appliedAt: at(10 * DAY),
        }),
      ));

  it('records no expiry when the previous allowance was fully spent', () =>
    given(
      allowance({ ...january, credits: 8 }),
      consumed({ credits: 8, drawdown: [draw('allowance-1', 'INCLUDED', 8)], availableAfter: 0 }),
    )
      .when(applyAllowance({ ...february, periodStart: at(10 * DAY), now: at(10 * DAY) }))
      .then(allowance({ ...february, periodStart: at(10 * DAY), appliedAt: at(10 * DAY) })));

  it('when the previous allowance already ended, expires it as EXPIRED at its periodEnd, and only once', () =>
    given(allowance(january))
      .when(applyAllowance({ ...february, now: at(31 * DAY + 5 * 60_000) }))
      .then(
        expired({ grantId: 'allowance-1', source: 'INCLUDED', credits: 1000, expiredAt: january.periodEnd }),
        allowance({ ...february, appliedAt: at(31 * DAY + 5 * 60_000) }),
      ));

  it('at the exact renewal instant the previous allowance has ended: EXPIRED, not PERIOD_REPLACED', () =>
    given(allowance(january))
      .when(applyAllowance({ ...february, now: february.periodStart }))
      .then(
        expired({ grantId: 'allowance-1', source: 'INCLUDED', credits: 1000, expiredAt: january.periodEnd }),
        allowance(february),
      ));

  it('records nothing more for a previous allowance whose expiry is already in the ledger', () =>
    given(
      allowance(january),
      expired({ grantId: 'allowance-1', source: 'INCLUDED', credits: 1000, expiredAt: january.periodEnd }),
    )
      .when(applyAllowance({ ...february, now: at(32 * DAY) }))
      .then(allowance({ ...february, appliedAt: at(32 * DAY) })));

  it('after a replacement, spends draw from the new allowance only', () =>
    given(
      allowance(january),
      expired({
        grantId: 'allowance-1',
        source: 'INCLUDED',
        credits: 1000,
        reason: 'PERIOD_REPLACED',
        expiredAt: at(10 * DAY),
      }),
      allowance({ grantId: 'allowance-2', credits: 300, periodStart: at(10 * DAY), periodEnd: at(41 * DAY) }),
    )
      .when(spend({ now: at(11 * DAY) }))
      .then(
        consumed({
          credits: 8,
          drawdown: [draw('allowance-2', 'INCLUDED', 8)],
          availableAfter: 292,
          consumedAt: at(11 * DAY),
        }),
      ));
});
