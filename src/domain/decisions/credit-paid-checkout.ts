/**
 * CreditPaidCheckout: the provider collected a checkout's payment. The workspace is credited the
 * offer the checkout started with, once per session, when the amount collected is exactly the
 * offer's price; facts the provider sent earlier about the payment (refunds, disputes) follow in
 * the same append. A payment that cannot be credited is recorded as such, never dropped.
 */
import type { CreditPaidCheckout } from '../commands';
import type { CheckoutOffer, PurchasePayment, WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { expireDueGrants } from './expiries';
import { applyDeferredFacts } from './payment-facts';

const DAY_MS = 24 * 60 * 60 * 1000;

export function creditPaidCheckout(command: CreditPaidCheckout, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const data = command.data;
  if (state.uncreditedSessions.has(data.sessionId)) return [];
  const taken = state.purchases.get(data.sessionId);
  // Credited already (a webhook delivered again): nothing more. A purchase of another kind under
  // the session's id (a manual one an admin gave that reference) must not hide this payment.
  if (taken && isPaidBy(taken.payment, data.sessionId)) return [];
  const now = data.now.getTime();
  const offer = data.checkoutId === undefined ? data.legacyOffer : state.checkouts.get(data.checkoutId)?.offer;
  const refusal = taken
    ? `the purchase id ${data.sessionId} is already a ${taken.payment.provider.toLowerCase()} purchase of this workspace`
    : whyNotCredited(offer, data);
  if (refusal !== undefined || !offer || data.paymentIntentId === null) {
    return [
      {
        type: 'PaidCheckoutNotCredited',
        data: {
          workspaceId: data.workspaceId,
          sessionId: data.sessionId,
          paymentIntentId: data.paymentIntentId,
          ...(data.checkoutId !== undefined && { checkoutId: data.checkoutId }),
          amountPaid: data.amountPaid,
          reason: refusal ?? 'the payment has no payment intent to refund against',
          receivedAt: iso(now),
        },
      },
    ];
  }
  const recorded: WorkspaceCreditsEvent[] = [
    ...expireDueGrants(state, data.workspaceId, now),
    {
      type: 'CreditsPurchased',
      data: {
        workspaceId: data.workspaceId,
        grantId: data.grantId,
        purchaseId: data.sessionId,
        packageId: offer.packageId,
        packageName: offer.packageName,
        credits: offer.credits,
        price: offer.price,
        payment: { provider: 'STRIPE', checkoutSessionId: data.sessionId, paymentIntentId: data.paymentIntentId },
        ...(data.checkoutId !== undefined && { checkoutId: data.checkoutId }),
        ...(offer.expiresAfterDays !== undefined && { expiresAt: iso(now + offer.expiresAfterDays * DAY_MS) }),
        purchasedBy: data.purchasedBy,
        purchasedAt: iso(now),
      },
    },
  ];
  return [...recorded, ...applyDeferredFacts(state, data.workspaceId, data.paymentIntentId, recorded, now)];
}

/** Whether a purchase is the one this Checkout session paid for. */
const isPaidBy = (payment: PurchasePayment, sessionId: string): boolean =>
  payment.provider === 'STRIPE' && 'checkoutSessionId' in payment && payment.checkoutSessionId === sessionId;

function whyNotCredited(offer: CheckoutOffer | undefined, data: CreditPaidCheckout['data']): string | undefined {
  if (!offer) return `no checkout ${data.checkoutId ?? '(none named)'} was started in this workspace`;
  const paid = data.amountPaid;
  if (paid.amount !== offer.price.amount || paid.currency !== offer.price.currency) {
    return `collected ${paid.amount} ${paid.currency} for an offer of ${offer.price.amount} ${offer.price.currency}`;
  }
  return undefined;
}
