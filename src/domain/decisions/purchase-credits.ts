/** PurchaseCredits: a paid credit package becomes a PURCHASED grant, once per purchase id. */
import type { PurchaseCredits } from '../commands';
import { conflict, idempotencyKeyReused, invalidCommand } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { expireDueGrants } from './expiries';
import { requireFutureExpiry, requirePositiveCredits } from './validation';

export function purchaseCredits(command: PurchaseCredits, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const data = command.data;
  const first = state.purchases.get(data.purchaseId);
  if (first) {
    if (first.packageId === data.packageId && first.credits === data.credits) return [];
    throw idempotencyKeyReused(data.purchaseId);
  }
  if (data.payment.provider === 'MANUAL' && isProviderPayment(state, data.purchaseId)) {
    throw conflict(
      `${data.purchaseId} is a Stripe Checkout session of this workspace: Stripe's report of its payment credits it. Give a manual purchase its own reference.`,
    );
  }
  requirePositiveCredits(data.credits, 'A purchase');
  if (!Number.isSafeInteger(data.price.amount) || data.price.amount < 0) {
    throw invalidCommand('A purchase price must be a non-negative whole amount of minor units.');
  }
  requireFutureExpiry(data.expiresAt, data.now);
  const now = data.now.getTime();
  return [
    ...expireDueGrants(state, data.workspaceId, now),
    {
      type: 'CreditsPurchased',
      data: {
        workspaceId: data.workspaceId,
        grantId: data.grantId,
        purchaseId: data.purchaseId,
        packageId: data.packageId,
        packageName: data.packageName,
        credits: data.credits,
        price: { amount: data.price.amount, currency: data.price.currency },
        payment: data.payment,
        ...(data.expiresAt && { expiresAt: data.expiresAt.toISOString() }),
        purchasedBy: data.purchasedBy,
        purchasedAt: iso(now),
      },
    },
  ];
}

/**
 * Whether an id is a Checkout session of the workspace: its purchase's id once Stripe reports it
 * paid. (An auto top-up's payment intent is known here only once credited, under that id.)
 */
function isProviderPayment(state: WorkspaceCreditsState, id: string): boolean {
  for (const checkout of state.checkouts.values()) if (checkout.sessionId === id) return true;
  return false;
}
