/**
 * What the payments reaction must do, derived from the workspaces' streams: open the provider's
 * payment page for each checkout started (until its outcome is recorded), make each refund an
 * admin asked for (until the provider's answer is recorded), look again at refunds the provider
 * reports pending, in case its webhook never comes; for auto top-up, open the page where a card is
 * saved, charge each top-up requested (again at the time a failed attempt set, until it is paid or
 * given up), and forget a removed card at the provider.
 */
import type { ReactionDerivation } from '../reaction';
import { toWorkspaceCreditsEvent } from '../../src/events/workspace-stream';
import {
  checkoutKey,
  detachKey,
  PAYMENTS_REACTION,
  PENDING_REFUND_RECHECK_MS,
  refundKey,
  setupKey,
  topUpKey,
  type PaymentWork,
} from './work';

export const paymentsDerivation: ReactionDerivation = {
  name: PAYMENTS_REACTION,
  version: 2,
  prepare: (_db, work) => (recorded) => {
    const event = toWorkspaceCreditsEvent(recorded);
    if (!event) return;
    const at = recorded.recordedAt.getTime();
    switch (event.type) {
      case 'CheckoutStarted': {
        const { workspaceId, checkoutId, offer, startedBy } = event.data;
        const payload: PaymentWork = { kind: 'open-checkout', workspaceId, checkoutId, offer, startedBy };
        work.schedule(checkoutKey(workspaceId, checkoutId), payload, at);
        return;
      }
      case 'CheckoutSessionOpened':
      case 'CheckoutSessionFailed':
        work.complete(checkoutKey(event.data.workspaceId, event.data.checkoutId));
        return;
      case 'PurchaseRefundRequested': {
        const data = event.data;
        if (data.paymentIntentId === undefined) return;
        if (data.origin === 'PROVIDER' && data.providerRefundId !== undefined) {
          // Made in the provider's dashboard: watched until final, in case its webhooks never come.
          const payload: PaymentWork = {
            kind: 'check-refund',
            workspaceId: data.workspaceId,
            refundId: data.refundId,
            paymentIntentId: data.paymentIntentId,
            providerRefundId: data.providerRefundId,
          };
          work.schedule(refundKey(data.workspaceId, data.refundId), payload, at + PENDING_REFUND_RECHECK_MS);
          return;
        }
        if (data.origin !== 'ADMIN' || data.amount.amount === 0) return;
        const payload: PaymentWork = {
          kind: 'make-refund',
          workspaceId: data.workspaceId,
          refundId: data.refundId,
          purchaseId: data.purchaseId,
          paymentIntentId: data.paymentIntentId,
          amount: data.amount.amount,
          currency: data.amount.currency,
          credits: data.credits,
        };
        work.schedule(refundKey(data.workspaceId, data.refundId), payload, at);
        return;
      }
      case 'PurchaseRefundPending': {
        const { workspaceId, refundId, providerRefundId } = event.data;
        const key = refundKey(workspaceId, refundId);
        const earlier = work.payload<PaymentWork>(key);
        const paymentIntentId = earlier && 'paymentIntentId' in earlier ? earlier.paymentIntentId : undefined;
        if (paymentIntentId === undefined) return;
        const payload: PaymentWork = { kind: 'check-refund', workspaceId, refundId, paymentIntentId, providerRefundId };
        work.schedule(key, payload, at + PENDING_REFUND_RECHECK_MS);
        return;
      }
      case 'PurchaseRefundSucceeded':
      case 'PurchaseRefundFailed':
        work.complete(refundKey(event.data.workspaceId, event.data.refundId));
        return;
      case 'PaymentMethodSetupStarted': {
        const { workspaceId, setupId, customerId } = event.data;
        const payload: PaymentWork = { kind: 'setup-payment-method', workspaceId, setupId, customerId };
        work.schedule(setupKey(workspaceId, setupId), payload, at);
        return;
      }
      case 'PaymentMethodSetupOpened':
      case 'PaymentMethodSetupFailed':
        work.complete(setupKey(event.data.workspaceId, event.data.setupId));
        return;
      case 'PaymentMethodRemoved': {
        const { workspaceId, paymentMethodId } = event.data;
        const payload: PaymentWork = { kind: 'detach-payment-method', workspaceId, paymentMethodId };
        work.schedule(detachKey(workspaceId, paymentMethodId), payload, at);
        return;
      }
      case 'AutoTopUpRequested': {
        const { workspaceId, topUpId, customerId, paymentMethodId, amount } = event.data;
        const payload: PaymentWork = {
          kind: 'charge-top-up',
          workspaceId,
          topUpId,
          attempt: 1,
          customerId,
          paymentMethodId,
          amount: amount.amount,
          currency: amount.currency,
        };
        work.schedule(topUpKey(workspaceId, topUpId), payload, at);
        return;
      }
      case 'AutoTopUpFailed': {
        const { workspaceId, topUpId, attempt, retryAt } = event.data;
        const key = topUpKey(workspaceId, topUpId);
        const earlier = work.payload<PaymentWork>(key);
        if (retryAt === null || earlier?.kind !== 'charge-top-up') {
          work.complete(key);
          return;
        }
        // The next attempt, with a key of its own (the provider would replay the failed one), and a
        // charge of its own to make, not the failed one to look at.
        if (earlier.attempt <= attempt) {
          const next: PaymentWork = { ...earlier, attempt: attempt + 1 };
          delete next.paymentIntentId;
          work.schedule(key, next, Date.parse(retryAt));
        }
        return;
      }
      case 'AutoTopUpCanceled': {
        // Looked at now rather than at its retry's time, parked or not: the performer, finding it
        // canceled, records what came of the attempt (nothing charged, or a charge it finds at the
        // provider), so that a new card's top-up need not wait. A charge already made and still
        // processing is looked at when it was due.
        const key = topUpKey(event.data.workspaceId, event.data.topUpId);
        const earlier = work.payload<PaymentWork>(key);
        if (earlier?.kind === 'charge-top-up' && earlier.paymentIntentId === undefined) work.schedule(key, earlier, at);
        return;
      }
      case 'CreditsPurchased':
        if (event.data.payment.provider === 'STRIPE' && 'autoTopUpId' in event.data.payment) {
          work.complete(topUpKey(event.data.workspaceId, event.data.payment.autoTopUpId));
        }
        return;
      default:
        return;
    }
  },
};
