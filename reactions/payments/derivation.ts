/**
 * What the payments reaction must do, derived from the workspaces' streams: open the provider's
 * payment page for each checkout started (until its outcome is recorded), make each refund an
 * admin asked for (until the provider's answer is recorded), and look again at refunds the
 * provider reports pending, in case its webhook never comes.
 */
import type { ReactionDerivation } from '../reaction';
import { toWorkspaceCreditsEvent } from '../../src/events/workspace-stream';
import { checkoutKey, PAYMENTS_REACTION, PENDING_REFUND_RECHECK_MS, refundKey, type PaymentWork } from './work';

export const paymentsDerivation: ReactionDerivation = {
  name: PAYMENTS_REACTION,
  version: 1,
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
      default:
        return;
    }
  },
};
