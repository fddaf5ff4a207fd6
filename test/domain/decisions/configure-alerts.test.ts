/**
 * ConfigureAlerts: the workspace's alert rules, replaced whole, and the crossing a new threshold makes.
 */
import type { AlertRules } from '../../../src/domain/events';
import { purchased } from '../builders';
import { configure, configured, low, recovered } from '../alert-builders';
import { given } from '../spec';

describe('ConfigureAlerts', () => {
  it('records the rules, and the crossing a new threshold makes at once', () =>
    given(purchased({ credits: 500 }))
      .when(configure({ lowBalanceCredits: 600 }))
      .then(configured({ lowBalanceCredits: 600 }), low(500, 600)));

  it('records a recovery when a lower threshold puts the balance above it', () =>
    given(purchased({ credits: 50 }), low(50, 100))
      .when(configure({ lowBalanceCredits: 20 }))
      .then(configured({ lowBalanceCredits: 20 }), recovered(50, 20)));

  it('records nothing when the rules are the ones in force', () =>
    given(configured({ lowBalanceCredits: 20 }))
      .when(configure({ lowBalanceCredits: 20 }))
      .thenNothing());

  it('records nothing when a workspace sets the defaults it has', () => given().when(configure({})).thenNothing());

  it.each<[string, Partial<AlertRules>]>([
    ['both a credit and a percent threshold', { lowBalanceCredits: 10, lowBalancePercent: 10 }],
    ['a negative threshold', { lowBalanceCredits: -1 }],
    ['a fractional threshold', { lowBalanceCredits: 1.5 }],
    ['a percentage over 100', { lowBalancePercent: 101 }],
    ['a notice period of 0 days', { expiringSoonDays: 0 }],
    ['a notice period of 91 days', { expiringSoonDays: 91 }],
  ])('refuses %s', (_what, rules) => given().when(configure(rules)).thenThrows('BAD_USER_INPUT'));
});
