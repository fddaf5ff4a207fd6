/**
 * The auto top-up read model: settings with consent, the card on file, the pause and why, each
 * top-up's attempts, and the month's use (every top-up requested that did not fail for good).
 */
import type { Database } from 'better-sqlite3';
import { autoTopUpProjection } from '../../projections/auto-top-up';
import { AutoTopUpReader } from '../../projections/auto-top-up-reader';
import type { WorkspaceCreditsEvent } from '../../src/domain/events';
import {
  CARD,
  cardReplaced,
  cardSaved,
  charge,
  declined,
  succeeded,
  rearmed,
  skipped,
  topUpConfigured,
  topUpFailed,
  topUpPurchased,
  topUpRequested,
} from '../domain/auto-top-up-builders';
import { at, DAY, HOUR, purchased, WORKSPACE } from '../domain/builders';
import { given } from '../domain/spec';
import { decide } from '../../src/domain/decide';
import { evolve } from '../../src/domain/evolve';
import { chargedInMonth } from '../../src/domain/auto-top-up';
import type { RecordAutoTopUpCharge } from '../../src/domain/commands';
import { projection } from './spec';

const model = projection(autoTopUpProjection);
const month = at(0).toISOString().slice(0, 7);

const paused: WorkspaceCreditsEvent = {
  type: 'AutoTopUpPaused',
  data: { workspaceId: WORKSPACE, topUpId: 'topup-1', reason: '3 attempts failed', pausedAt: at(HOUR).toISOString() },
};

describe('auto top-up read model', () => {
  it('shows the settings and consent in force, and the card on file', () => {
    model.given(cardSaved(), topUpConfigured()).then(
      (db) => {
        const view = new AutoTopUpReader(db).autoTopUp(WORKSPACE);
        return {
          enabled: view.settings?.enabled,
          consentBy: view.consent?.acceptedBy,
          card: view.card,
          paused: view.paused,
        };
      },
      {
        enabled: true,
        consentBy: 'manager-1',
        card: { paymentMethodId: 'pm_1', ...CARD, savedAt: at(0) },
        paused: false,
      },
    );
  });

  it('keeps the new card when one replaces another, and none once removed', () => {
    model
      .given(cardSaved(), cardReplaced('pm_1'), cardSaved({ paymentMethodId: 'pm_2' }))
      .then((db) => new AutoTopUpReader(db).autoTopUp(WORKSPACE).card?.paymentMethodId, 'pm_2');
    model
      .given(cardSaved(), cardReplaced('pm_1'))
      .then((db) => new AutoTopUpReader(db).autoTopUp(WORKSPACE).card, undefined);
  });

  it('counts requested and paid top-ups against the month, not failed ones', () => {
    const second = topUpRequested({ topUpId: 'topup-2', amount: { amount: 2500, currency: 'USD' } });
    const third = topUpRequested({ topUpId: 'topup-3' });
    model
      .given(
        topUpRequested(),
        topUpPurchased(),
        second,
        third,
        topUpFailed({ topUpId: 'topup-3', attempt: 3, retryAt: null }),
      )
      .then(
        (db) => {
          const reader = new AutoTopUpReader(db);
          return {
            charged: reader.chargedInMonth(WORKSPACE, month, 'USD'),
            statuses: reader
              .recentTopUps(WORKSPACE, 10)
              .map((topUp) => [topUp.topUpId, topUp.status, topUp.failedAttempts]),
          };
        },
        {
          charged: 7500,
          statuses: [
            ['topup-3', 'FAILED', 3],
            ['topup-2', 'REQUESTED', 0],
            ['topup-1', 'SUCCEEDED', 0],
          ],
        },
      );
  });

  it('counts a canceled top-up in the month until an outcome of it is recorded, as the decider does', () => {
    const canceled: WorkspaceCreditsEvent = {
      type: 'AutoTopUpCanceled',
      data: { workspaceId: WORKSPACE, topUpId: 'topup-1', reason: 'TURNED_OFF', canceledAt: at(HOUR).toISOString() },
    };
    const charged = (db: Database) => new AutoTopUpReader(db).chargedInMonth(WORKSPACE, month, 'USD');
    // Its first attempt on its way when canceled: it may yet be paid.
    model.given(topUpRequested(), canceled).then(charged, 5000);
    // Known not charged (or failed) after the cancel: out of the month.
    model.given(topUpRequested(), canceled, topUpFailed({ attempt: 1, retryAt: null })).then(charged, 0);
    // Paid after all: in it.
    model.given(topUpRequested(), canceled, topUpPurchased()).then(charged, 5000);
  });

  it('counts money taken for a top-up that could not be credited in its month, as the decider does', () => {
    const charged = (currency: string) => (db: Database) =>
      new AutoTopUpReader(db).chargedInMonth(WORKSPACE, month, currency);
    const taken = (amount: number, currency: string) =>
      topUpFailed({ attempt: 1, retryAt: null, code: 'not_credited', collected: { amount, currency } });
    model.given(topUpRequested(), taken(5001, 'USD')).then(charged('USD'), 5001);
    // Taken in another currency than the top-up's: in that currency's total, not the limit's.
    model.given(topUpRequested(), taken(4700, 'EUR')).then(charged('USD'), 0);
    model.given(topUpRequested(), taken(4700, 'EUR')).then(charged('EUR'), 4700);
    // A failure with nothing taken stays out.
    model.given(topUpRequested(), topUpFailed({ attempt: 1, retryAt: null })).then(charged('USD'), 0);
    // Taken in a later month than it was asked for in: counted in the month it was taken.
    const next = (db: Database) => new AutoTopUpReader(db).chargedInMonth(WORKSPACE, '2025-02', 'USD');
    const lateTaken = topUpFailed({
      attempt: 1,
      retryAt: null,
      code: 'not_credited',
      collected: { amount: 5001, currency: 'USD' },
      when: new Date('2025-02-01T00:00:00Z'),
    });
    model.given(topUpRequested(), lateTaken).then(charged('USD'), 0);
    model.given(topUpRequested(), lateTaken).then(next, 5001);
  });

  it('counts money taken but not credited beside a later payment of the same top-up, as the decider does', () => {
    /** The decider's count and the read model's, for each month, after `commands` on a requested top-up. */
    const counted = (commands: RecordAutoTopUpCharge[], between: WorkspaceCreditsEvent[] = []) => {
      const log: WorkspaceCreditsEvent[] = [
        purchased({ credits: 50 }),
        cardSaved(),
        topUpConfigured(),
        topUpRequested(),
      ];
      const state = given(...log).state();
      const apply = (event: WorkspaceCreditsEvent) => {
        evolve(state, event);
        log.push(event);
      };
      decide(commands[0]!, state).forEach(apply);
      between.forEach(apply);
      for (const command of commands.slice(1)) decide(command, state).forEach(apply);
      // The read model's count is checked against the decider's; the decider's is returned.
      return (target: string) => {
        const decider = chargedInMonth(state, target, 'USD');
        model
          .given(...log)
          .then((db: Database) => new AutoTopUpReader(db).chargedInMonth(WORKSPACE, target, 'USD'), decider);
        return decider;
      };
    };
    // Attempt 1 declined, then paid short after all (not credited); attempt 2 paid and credited.
    const both = counted([
      charge(declined('pi_a'), { attempt: 1 }),
      charge(succeeded('pi_a', 5001), { attempt: 1, now: at(1000) }),
      charge(succeeded('pi_b', 5000), { attempt: 2, now: at(2000), grantId: 'topup-grant-2' }),
    ]);
    expect(both('2025-01')).toBe(10001);
    // Canceled after a decline, paid short for that attempt, then paid by the next one in February.
    const canceled: WorkspaceCreditsEvent = {
      type: 'AutoTopUpCanceled',
      data: { workspaceId: WORKSPACE, topUpId: 'topup-1', reason: 'TURNED_OFF', canceledAt: at(500).toISOString() },
    };
    const late = counted(
      [
        charge(declined('pi_a'), { attempt: 1 }),
        charge(succeeded('pi_a', 5001), { attempt: 1, now: at(1000) }),
        charge(succeeded('pi_b', 5000), {
          attempt: 2,
          now: new Date('2025-02-10T00:00:00Z'),
          grantId: 'topup-grant-2',
        }),
      ],
      [canceled],
    );
    // Both counted where the top-up's payment moved it, by the decider and the read model alike.
    expect(late('2025-01') + late('2025-02')).toBe(10001);
    // Attempt 1 declined, attempt 2 paid, then attempt 1's charge paid after all: both taken.
    const afterPaid = counted([
      charge(declined('pi_a'), { attempt: 1 }),
      charge(succeeded('pi_b', 5000), { attempt: 2, now: at(2000) }),
      charge(succeeded('pi_a', 5000), { attempt: 1, now: at(3000) }),
    ]);
    expect(afterPaid('2025-01')).toBe(10000);
    // Paid in January, attempt 1's charge paid after all in February: each month its own.
    const nextMonth = counted([
      charge(declined('pi_a'), { attempt: 1 }),
      charge(succeeded('pi_b', 5000), { attempt: 2, now: at(2000) }),
      charge(succeeded('pi_a', 5000), { attempt: 1, now: new Date('2025-02-02T00:00:00Z') }),
    ]);
    expect([nextMonth('2025-01'), nextMonth('2025-02')]).toEqual([5000, 5000]);
    // Given up on, then paid short in February: counted there.
    const afterEnd = counted(
      [charge(declined('pi_a'), { attempt: 1 })],
      [topUpFailed({ attempt: 3, retryAt: null, paymentIntentId: 'pi_c' })],
    );
    expect(afterEnd('2025-02')).toBe(0);
    const shortAfterEnd = counted([
      charge(declined('pi_a'), { attempt: 1 }),
      charge(declined('pi_b'), { attempt: 2, now: at(DAY) }),
      charge(declined('pi_c'), { attempt: 3, now: at(2 * DAY) }),
      charge(succeeded('pi_a', 4000), { attempt: 1, now: new Date('2025-02-03T00:00:00Z') }),
    ]);
    expect(shortAfterEnd('2025-02')).toBe(4000);
  });

  it('moves a top-up to the month its retry falls in, as the decider does', () => {
    const next = '2099-12';
    const charged = (db: Database) => {
      const reader = new AutoTopUpReader(db);
      return [reader.chargedInMonth(WORKSPACE, month, 'USD'), reader.chargedInMonth(WORKSPACE, next, 'USD')];
    };
    const retriedNextMonth = topUpFailed({ attempt: 1, retryAt: at(DAY).toISOString(), retryMonth: next });
    model.given(topUpRequested(), retriedNextMonth).then(charged, [0, 5000]);
    model.given(topUpRequested(), retriedNextMonth, topUpPurchased()).then(charged, [0, 5000]);
    model
      .given(topUpRequested(), topUpFailed({ attempt: 1, retryAt: at(HOUR).toISOString() }))
      .then(charged, [5000, 0]);
  });

  it('moves a top-up paid in a later month to that month, as the decider does', () => {
    const paidAt = new Date(at(0).getTime() + 40 * DAY);
    const paidMonth = paidAt.toISOString().slice(0, 7);
    const charged = (db: Database) => {
      const reader = new AutoTopUpReader(db);
      return [reader.chargedInMonth(WORKSPACE, month, 'USD'), reader.chargedInMonth(WORKSPACE, paidMonth, 'USD')];
    };
    model.given(topUpRequested()).then(charged, [5000, 0]);
    model.given(topUpRequested(), topUpPurchased({ when: paidAt })).then(charged, [0, 5000]);
    model.given(topUpRequested(), topUpPurchased({ when: at(HOUR) })).then(charged, [5000, 0]);
    // One that had failed stopped counting: paid late, it goes back to its own month.
    model
      .given(topUpRequested(), topUpFailed({ attempt: 3, retryAt: null }), topUpPurchased({ when: paidAt }))
      .then(charged, [5000, 0]);
  });

  it('names the workspaces a new month should top up after a skip for the limit, until they top up or recover', () => {
    const nextMonth = '2025-02';
    const toTopUp = (db: Database) => {
      const reader = new AutoTopUpReader(db);
      return [reader.workspacesToTopUpAfterLimit(month, 10), reader.workspacesToTopUpAfterLimit(nextMonth, 10)];
    };
    const skippedForLimit = skipped('MONTHLY_LIMIT', 94);
    model.given(cardSaved(), topUpConfigured(), skippedForLimit).then(toTopUp, [[], [WORKSPACE]]);
    model.given(cardSaved(), topUpConfigured(), skipped('NO_PAYMENT_METHOD', 94)).then(toTopUp, [[], []]);
    model.given(cardSaved(), topUpConfigured(), skippedForLimit, topUpRequested()).then(toTopUp, [[], []]);
    model.given(cardSaved(), topUpConfigured(), skippedForLimit, rearmed(150)).then(toTopUp, [[], []]);
    model.given(cardSaved(), topUpConfigured(), skippedForLimit, paused).then(toTopUp, [[], []]);
    // A billing manager saving settings or a card re-arms it (the decider tops up then if it is due).
    model.given(cardSaved(), topUpConfigured(), skippedForLimit, topUpConfigured()).then(toTopUp, [[], []]);
    model
      .given(cardSaved(), topUpConfigured(), skippedForLimit, cardSaved({ paymentMethodId: 'pm_2' }))
      .then(toTopUp, [[], []]);
    model
      .given(cardSaved(), topUpConfigured(), skippedForLimit, topUpConfigured({ enabled: false }))
      .then(toTopUp, [[], []]);
  });

  it('shows the pause with its reason until settings or a new card resume it', () => {
    const pausedView = (db: Database) => {
      const view = new AutoTopUpReader(db).autoTopUp(WORKSPACE);
      return [view.paused, view.pauseReason];
    };
    model.given(cardSaved(), topUpConfigured(), paused).then(pausedView, [true, '3 attempts failed']);
    model
      .given(cardSaved(), topUpConfigured(), paused, topUpConfigured({}, at(DAY)))
      .then(pausedView, [false, undefined]);
    model
      .given(cardSaved(), topUpConfigured(), paused, cardSaved({ paymentMethodId: 'pm_2' }))
      .then(pausedView, [false, undefined]);
  });

  it('keeps the last failure of a top-up, with the time of its next attempt', () => {
    const retryAt = at(HOUR).toISOString();
    model
      .given(topUpRequested(), topUpFailed({ attempt: 1, retryAt }))
      .then((db) => new AutoTopUpReader(db).recentTopUps(WORKSPACE, 1)[0]?.lastFailure?.retryAt, retryAt);
  });
});
