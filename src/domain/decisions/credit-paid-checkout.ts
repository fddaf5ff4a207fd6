/**
 * CreditPaidCheckout: the provider collected a checkout's payment. The workspace is credited the
 * offer the checkout started with, once per session, when the amount collected is exactly the
 * offer's price; facts the provider sent earlier about the payment (refunds, disputes) follow in
 * the same append. A payment that cannot be credited is recorded as such, never dropped.
 */
import type { CreditPaidCheckout } from '../commands';
import type { CheckoutOffer, WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { expireDueGrants } from './expiries';
import { applyDeferredFacts } from './payment-facts';

const DAY_MS = 24 * 60 * 60 * 1000;

export function creditPaidCheckout(command: CreditPaidCheckout, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const data = command.data;
  if (state.purchases.has(data.sessionId) || state.uncreditedSessions.has(data.sessionId)) return [];
  const now = data.now.getTime();
  const offer = data.checkoutId === undefined ? data.legacyOffer : state.checkouts.get(data.checkoutId)?.offer;
  const refusal = whyNotCredited(offer, data);
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

function whyNotCredited(offer: CheckoutOffer | undefined, data: CreditPaidCheckout['data']): string | undefined {
  if (!offer) return `no checkout ${data.checkoutId ?? '(none named)'} was started in this workspace`;
  const paid = data.amountPaid;
  if (paid.amount !== offer.price.amount || paid.currency !== offer.price.currency) {
    return `collected ${paid.amount} ${paid.currency} for an offer of ${offer.price.amount} ${offer.price.currency}`;
  }
  return undefined;
}
