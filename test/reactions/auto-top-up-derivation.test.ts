/**
 * The payments reaction's auto top-up work: a card setup to open, each requested top-up to charge
 * (again, with the next attempt's key, at the time a failure set), a removed card to forget at the
 * provider; each completed once its outcome is in the log.
 */
import { reactionStream } from '../../reactions/attempt-events';
import { paymentsDerivation } from '../../reactions/payments/derivation';
import { reactionProjection } from '../../reactions/reaction-projection';
import type { WorkspaceCreditsEvent } from '../../src/domain/events';
import { cardReplaced, cardSaved, topUpFailed, topUpPurchased, topUpRequested } from '../domain/auto-top-up-builders';
import { at, HOUR, WORKSPACE } from '../domain/builders';
import { projection, recorded } from '../projections/spec';

const payments = projection(reactionProjection(paymentsDerivation));
const WORK = 'SELECT key, payload, due_at FROM reaction_work ORDER BY key';
const TOP_UP = `topup:${WORKSPACE}:topup-1`;
const SETUP = `setup:${WORKSPACE}:setup-1`;

const charge = (attempt: number, dueAt: number) => ({
  key: TOP_UP,
  payload: JSON.stringify({
    kind: 'charge-top-up',
    workspaceId: WORKSPACE,
    topUpId: 'topup-1',
    attempt,
    customerId: 'cus_1',
    paymentMethodId: 'pm_1',
    amount: 5000,
    currency: 'USD',
  }),
  due_at: dueAt,
});

const setupStarted: WorkspaceCreditsEvent = {
  type: 'PaymentMethodSetupStarted',
  data: {
    workspaceId: WORKSPACE,
    setupId: 'setup-1',
    customerId: null,
    startedBy: 'manager-1',
    startedAt: at(0).toISOString(),
  },
};

describe('payments derivation: saving a card', () => {
  it('schedules opening the setup page at once, and completes it once opened or refused', () => {
    payments.given(setupStarted).thenRows(WORK, [
      {
        key: SETUP,
        payload: JSON.stringify({
          kind: 'setup-payment-method',
          workspaceId: WORKSPACE,
          setupId: 'setup-1',
          customerId: null,
        }),
        due_at: at(0).getTime(),
      },
    ]);
    const opened: WorkspaceCreditsEvent = {
      type: 'PaymentMethodSetupOpened',
      data: {
        workspaceId: WORKSPACE,
        setupId: 'setup-1',
        sessionId: 'cs_setup_1',
        url: 'https://checkout.example/setup',
        expiresAt: at(HOUR).toISOString(),
        openedAt: at(0).toISOString(),
      },
    };
    const failed: WorkspaceCreditsEvent = {
      type: 'PaymentMethodSetupFailed',
      data: { workspaceId: WORKSPACE, setupId: 'setup-1', error: 'no', failedAt: at(0).toISOString() },
    };
    payments.given(setupStarted, opened).thenRows(WORK, []);
    payments.given(setupStarted, failed).thenRows(WORK, []);
  });

  it('schedules forgetting a removed or replaced card at the provider, until the reaction says it is done', () => {
    const detach = {
      key: `detach:${WORKSPACE}:pm_1`,
      payload: JSON.stringify({ kind: 'detach-payment-method', workspaceId: WORKSPACE, paymentMethodId: 'pm_1' }),
      due_at: at(0).getTime(),
    };
    payments.given(cardSaved(), cardReplaced('pm_1'), cardSaved({ paymentMethodId: 'pm_2' })).thenRows(WORK, [detach]);
    const done = recorded(reactionStream('payments'), 'ReactionWorkDone', {
      reaction: 'payments',
      key: `detach:${WORKSPACE}:pm_1`,
      doneAt: at(0).toISOString(),
    });
    payments.given(cardSaved(), cardReplaced('pm_1'), done).thenRows(WORK, []);
  });
});

describe('payments derivation: charging top-ups', () => {
  it('schedules the first attempt at once for each top-up requested', () => {
    payments.given(topUpRequested()).thenRows(WORK, [charge(1, at(0).getTime())]);
  });

  it('schedules the next attempt, with its own number, at the time a failure set', () => {
    const retryAt = at(HOUR);
    payments
      .given(topUpRequested(), topUpFailed({ attempt: 1, retryAt: retryAt.toISOString() }))
      .thenRows(WORK, [charge(2, retryAt.getTime())]);
  });

  it('does not go back to an earlier attempt when a late webhook reports it again', () => {
    const first = topUpFailed({ attempt: 1, retryAt: at(HOUR).toISOString() });
    const second = topUpFailed({ attempt: 2, retryAt: at(3 * HOUR).toISOString() });
    payments.given(topUpRequested(), first, second, first).thenRows(WORK, [charge(3, at(3 * HOUR).getTime())]);
  });

  it('looks later at the charge still processing, then makes the next attempt’s own charge if it failed', () => {
    const first = JSON.parse(charge(1, 0).payload) as object;
    const looked = { ...first, paymentIntentId: 'pi_processing' };
    const processing = recorded(reactionStream('payments'), 'ReactionWorkDeferred', {
      reaction: 'payments',
      key: TOP_UP,
      dueAt: at(HOUR).toISOString(),
      deferredAt: at(0).toISOString(),
      payload: looked,
      performed: first,
    });
    payments
      .given(topUpRequested(), processing)
      .thenRows(WORK, [{ ...charge(1, at(HOUR).getTime()), payload: JSON.stringify(looked) }]);
    const retryAt = at(2 * HOUR);
    const failed = topUpFailed({ attempt: 1, retryAt: retryAt.toISOString() });
    payments.given(topUpRequested(), processing, failed).thenRows(WORK, [charge(2, retryAt.getTime())]);
    // The failure's webhook came before the look was recorded: the next attempt stands.
    payments.given(topUpRequested(), failed, processing).thenRows(WORK, [charge(2, retryAt.getTime())]);
  });

  it('lets a late failure of an attempt change nothing once the next attempt is scheduled', () => {
    const retryAt = at(HOUR);
    const firstPayload = JSON.parse(charge(1, 0).payload) as object;
    // The call timed out (its answer lost) while the provider's webhook reported the decline first.
    const lateFailure = recorded(reactionStream('payments'), 'ReactionAttemptFailed', {
      reaction: 'payments',
      key: TOP_UP,
      attempt: 1,
      error: 'the answer was lost',
      nextAttemptAt: at(1000).toISOString(),
      failedAt: at(0).toISOString(),
      performed: firstPayload,
    });
    const declined = topUpFailed({ attempt: 1, retryAt: retryAt.toISOString() });
    payments.given(topUpRequested(), declined, lateFailure).thenRows(WORK, [charge(2, retryAt.getTime())]);
    // The failure of the work as it still is moves it, as before; so does one recorded before failures named their work.
    payments.given(topUpRequested(), lateFailure).thenRows(WORK, [charge(1, at(1000).getTime())]);
    const legacyData = Object.fromEntries(Object.entries(lateFailure.data).filter(([key]) => key !== 'performed'));
    const legacy = recorded(reactionStream('payments'), 'ReactionAttemptFailed', legacyData);
    payments.given(topUpRequested(), declined, legacy).thenRows(WORK, [charge(2, at(1000).getTime())]);
  });

  it('completes the work once the top-up is credited, or given up', () => {
    payments.given(topUpRequested(), topUpPurchased()).thenRows(WORK, []);
    payments.given(topUpRequested(), topUpFailed({ attempt: 3, retryAt: null })).thenRows(WORK, []);
  });
});
