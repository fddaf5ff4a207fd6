/**
 * RefundCreditPurchase: records a refund the payment provider accepted (or an admin made outside
 * Stripe), once per refund id, taking back at most the credits still unspent.
 */
import type { RefundCreditPurchase } from '../commands';
import { invalidCommand, notFound } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import { unspentCredits } from '../refunds';
import type { WorkspaceCreditsState } from '../state';
import { expireDueGrants } from './expiries';

export function refundCreditPurchase(
  command: RefundCreditPurchase,
  state: WorkspaceCreditsState,
): WorkspaceCreditsEvent[] {
  const data = command.data;
  const alreadyRecorded =
    state.purchaseRefunds.has(data.refundId) ||
    (data.providerRefundId !== undefined && state.providerRefunds.has(data.providerRefundId));
  if (alreadyRecorded) return [];
  const purchase = state.purchases.get(data.purchaseId);
  if (!purchase) throw notFound('Purchase', data.purchaseId);
  if (!Number.isSafeInteger(data.credits) || data.credits < 0 || !Number.isSafeInteger(data.amount.amount)) {
    throw invalidCommand('A refund needs whole, non-negative credits and amount.');
  }
  const now = data.now.getTime();
  // The money has left already; what can be taken back is whatever is still unspent now.
  const credits = Math.min(data.credits, unspentCredits(state, purchase, now));
  return [
    ...expireDueGrants(state, data.workspaceId, now),
    {
      type: 'CreditPurchaseRefunded',
      data: {
        workspaceId: data.workspaceId,
        purchaseId: data.purchaseId,
        grantId: purchase.grantId,
        refundId: data.refundId,
        ...(data.providerRefundId !== undefined && { providerRefundId: data.providerRefundId }),
        credits,
        amount: { amount: data.amount.amount, currency: data.amount.currency },
        reason: data.reason,
        origin: data.origin,
        refundedBy: data.refundedBy,
        refundedAt: iso(now),
      },
    },
  ];
}
