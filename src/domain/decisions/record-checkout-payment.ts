/**
 * RecordCheckoutPayment: a checkout's payment is still processing (a delayed method), failed, or
 * its session expired unpaid. Nothing is credited; the Billing page can say what happened. Ignored
 * for a checkout already paid, and never moves a finished one back to processing.
 */
import type { RecordCheckoutPayment } from '../commands';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';

const FINISHED = new Set(['PAID', 'PAYMENT_FAILED', 'EXPIRED']);

export function recordCheckoutPayment(
  command: RecordCheckoutPayment,
  state: WorkspaceCreditsState,
): WorkspaceCreditsEvent[] {
  const { workspaceId, checkoutId, sessionId, status, now } = command.data;
  const checkout = state.checkouts.get(checkoutId);
  if (!checkout || FINISHED.has(checkout.status)) return [];
  if (status === 'PROCESSING' && checkout.status === 'PROCESSING') return [];
  return [
    {
      type: 'CheckoutPaymentUpdated',
      data: { workspaceId, checkoutId, sessionId, status, updatedAt: iso(now.getTime()) },
    },
  ];
}
