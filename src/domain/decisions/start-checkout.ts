/**
 * StartCheckout: a billing manager starts buying a package. The offer (package, credits, price)
 * is recorded before the provider is asked for a payment page, so whatever is paid on that page is
 * credited as offered, even if the catalog changes in between. Once per checkout id.
 */
import type { StartCheckout } from '../commands';
import { idempotencyKeyReused } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { requirePositiveCredits } from './validation';
import { invalidCommand } from '../errors';

export function startCheckout(command: StartCheckout, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const { workspaceId, checkoutId, offer, startedBy, now } = command.data;
  const earlier = state.checkouts.get(checkoutId);
  if (earlier) {
    if (JSON.stringify(earlier.offer) === JSON.stringify(offer)) return [];
    throw idempotencyKeyReused(checkoutId);
  }
  requirePositiveCredits(offer.credits, 'A credit package');
  if (!Number.isSafeInteger(offer.price.amount) || offer.price.amount < 0) {
    throw invalidCommand('A package price must be a non-negative whole amount of minor units.');
  }
  return [
    { type: 'CheckoutStarted', data: { workspaceId, checkoutId, offer, startedBy, startedAt: iso(now.getTime()) } },
  ];
}
