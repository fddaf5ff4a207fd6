/**
 * The payments reaction's derivation: the work it keeps from the log (a checkout to open, a refund
 * to make, a refund to look at again), completed once the outcome is recorded, and moved by the
 * reaction's own events (attempts that failed, retries an operator asked for, work deferred).
 */
import type { Database } from 'better-sqlite3';
import { reactionStream } from '../../reactions/attempt-events';
import { paymentsDerivation } from '../../reactions/payments/derivation';
import { PENDING_REFUND_RECHECK_MS } from '../../reactions/payments/work';
import { reactionProjection } from '../../reactions/reaction-projection';
import { WorkReader } from '../../reactions/work-reader';
import type { WorkspaceCreditsEvent } from '../../src/domain/events';
import { at, DAY, HOUR, purchased, WORKSPACE } from '../domain/builders';
import {
  checkoutOpened,
  checkoutStarted,
  OFFER_2000,
  refundFailed,
  refundPending,
  refundRequested,
  refundSucceeded,
} from '../domain/payment-builders';
import { projection, recorded } from '../projections/spec';

const payments = projection(reactionProjection(paymentsDerivation));
const WORK = 'SELECT key, payload, due_at, attempts, last_error, parked, requested_at FROM reaction_work ORDER BY key';

const CHECKOUT = `checkout:${WORKSPACE}:checkout-1`;
const REFUND = `refund:${WORKSPACE}:refund-1`;

const openCheckout = {
  kind: 'open-checkout',
  workspaceId: WORKSPACE,
  checkoutId: 'checkout-1',
  offer: OFFER_2000,
  startedBy: 'manager-1',
};
const makeRefund = {
  kind: 'make-refund',
  workspaceId: WORKSPACE,
  refundId: 'refund-1',
  purchaseId: 'cs_pay_1',
  paymentIntentId: 'pi_1',
  amount: 9000,
  currency: 'USD',
  credits: 1000,
};

/** Looking at refund-1 again, as the provider knows it. */
const checkRefundOf = (providerRefundId: string) => ({
  kind: 'check-refund',
  workspaceId: WORKSPACE,
  refundId: 'refund-1',
  paymentIntentId: 'pi_1',
  providerRefundId,
});

/** A row of work, as the derivation leaves it: due when asked for, never attempted. */
const work = (key: string, payload: object, dueAt: number, requestedAt = dueAt) => ({
  key,
  payload: JSON.stringify(payload),
  due_at: dueAt,
  attempts: 0,
  last_error: null,
  parked: 0,
  requested_at: requestedAt,
});

const checkoutFailed: WorkspaceCreditsEvent = {
  type: 'CheckoutSessionFailed',
  data: { workspaceId: WORKSPACE, checkoutId: 'checkout-1', error: 'card_declined', failedAt: at(0).toISOString() },
};

describe('payments derivation: checkouts', () => {
  it('schedules opening the provider’s page for a checkout started, at once', () => {
    payments.given(checkoutStarted()).thenRows(WORK, [work(CHECKOUT, openCheckout, at(0).getTime())]);
  });

  it('completes the work once the page is opened, or once opening it failed', () => {
    payments.given(checkoutStarted(), checkoutOpened()).thenRows(WORK, []);
    payments.given(checkoutStarted(), checkoutFailed).thenRows(WORK, []);
  });
});

describe('payments derivation: refunds', () => {
  it('schedules making a refund an admin asked for, at once', () => {
    payments.given(purchased(), refundRequested()).thenRows(WORK, [work(REFUND, makeRefund, at(DAY).getTime())]);
  });

  it('completes it once the provider’s answer is recorded, succeeded or failed', () => {
    payments.given(purchased(), refundRequested(), refundSucceeded()).thenRows(WORK, []);
    payments.given(purchased(), refundRequested(), refundFailed()).thenRows(WORK, []);
  });

  it('schedules nothing for a refund with no money to return or no provider payment to return it through', () => {
    payments.given(purchased(), refundRequested({ amount: { amount: 0, currency: 'USD' } })).thenRows(WORK, []);
    payments.given(purchased(), refundRequested({ paymentIntentId: undefined })).thenRows(WORK, []);
  });

  it('looks again an hour after the provider reports a refund pending, in case its webhook never comes', () => {
    const checkRefund = checkRefundOf('re_1');
    payments
      .given(purchased(), refundRequested(), refundPending({ updatedAt: at(DAY + HOUR).toISOString() }))
      .thenRows(WORK, [
        work(REFUND, checkRefund, at(DAY + HOUR).getTime() + PENDING_REFUND_RECHECK_MS, at(DAY).getTime()),
      ]);
  });

  it('looks at a pending refund even when making it was parked (the provider made it after all)', () => {
    const checkRefund = checkRefundOf('re_1');
    const parked = recorded(reactionStream('payments'), 'ReactionAttemptFailed', {
      reaction: 'payments',
      key: REFUND,
      attempt: 10,
      error: 'provider unavailable',
      nextAttemptAt: null,
      failedAt: at(DAY).toISOString(),
    });
    payments
      .given(purchased(), refundRequested(), parked, refundPending({ updatedAt: at(DAY + HOUR).toISOString() }))
      .thenRows(WORK, [
        work(REFUND, checkRefund, at(DAY + HOUR).getTime() + PENDING_REFUND_RECHECK_MS, at(DAY).getTime()),
      ]);
  });

  it('does not look at a pending refund it was never asked to make', () => {
    payments.given(purchased(), refundPending()).thenRows(WORK, []);
  });

  it('watches a refund made in the provider’s dashboard until it is final', () => {
    const fromDashboard = refundRequested({ origin: 'PROVIDER', providerRefundId: 're_9' });
    const checkRefund = checkRefundOf('re_9');
    const dueAt = at(DAY).getTime() + PENDING_REFUND_RECHECK_MS;
    payments.given(purchased(), fromDashboard).thenRows(WORK, [work(REFUND, checkRefund, dueAt)]);
    payments.given(purchased(), fromDashboard, refundSucceeded({ providerRefundId: 're_9' })).thenRows(WORK, []);
  });
});

describe('payments derivation: the reaction’s own events', () => {
  const own = (type: string, data: Record<string, unknown>) =>
    recorded(reactionStream('payments'), type, { reaction: 'payments', key: CHECKOUT, ...data });
  const failed = (attempt: number, nextAttemptAt: Date | null) =>
    own('ReactionAttemptFailed', {
      attempt,
      error: 'provider unavailable',
      nextAttemptAt: nextAttemptAt?.toISOString() ?? null,
      failedAt: at(0).toISOString(),
    });
  const requested = at(0).getTime();

  it('moves failed work to its next attempt, and parks it when retries are spent', () => {
    payments.given(checkoutStarted(), failed(1, at(HOUR))).thenRows(WORK, [
      {
        ...work(CHECKOUT, openCheckout, at(HOUR).getTime(), requested),
        attempts: 1,
        last_error: 'provider unavailable',
      },
    ]);
    payments
      .given(checkoutStarted(), failed(1, at(HOUR)), failed(2, null))
      .thenRows(WORK, [
        { ...work(CHECKOUT, openCheckout, 0, requested), attempts: 2, last_error: 'provider unavailable', parked: 1 },
      ]);
  });

  it('tries parked work afresh when an operator asks, and looks again later at deferred work', () => {
    const retried = own('ReactionWorkRetried', { requestedBy: 'admin-1', retriedAt: at(DAY).toISOString() });
    payments
      .given(checkoutStarted(), failed(1, null), retried)
      .thenRows(WORK, [
        { ...work(CHECKOUT, openCheckout, at(DAY).getTime(), requested), last_error: 'provider unavailable' },
      ]);
    const deferred = own('ReactionWorkDeferred', { dueAt: at(2 * DAY).toISOString(), deferredAt: at(0).toISOString() });
    payments
      .given(checkoutStarted(), deferred)
      .thenRows(WORK, [work(CHECKOUT, openCheckout, at(2 * DAY).getTime(), requested)]);
  });

  it('gives the performer what is due, most overdue first, and the operator what is parked', () => {
    const due = (db: Database) => {
      const reader = new WorkReader(db);
      const now = at(DAY).getTime();
      return {
        due: reader.due('payments', now, 10).map((item) => item.key),
        limited: reader.due('payments', now, 1).map((item) => item.key),
        // Payments keys have no '/': all of them are one partition, ''.
        partitions: reader.partitions('payments'),
        inPartition: reader.dueIn('payments', '', now, 10).map((item) => item.key),
        parked: reader.parked().map((item) => item.key),
        next: reader.nextDue(['payments']),
      };
    };
    payments.given(checkoutStarted(), purchased(), refundRequested()).then(due, {
      due: [CHECKOUT, REFUND],
      limited: [CHECKOUT],
      partitions: [''],
      inPartition: [CHECKOUT, REFUND],
      parked: [],
      next: at(0).getTime(),
    });
    payments.given(checkoutStarted(), failed(1, null), purchased(), refundRequested()).then(due, {
      due: [REFUND],
      limited: [REFUND],
      partitions: [''],
      inPartition: [REFUND],
      parked: [CHECKOUT],
      next: at(DAY).getTime(),
    });
  });
});
