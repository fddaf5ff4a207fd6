/**
 * How much of a purchase a refund takes back. Only unspent credits can be taken back, and money
 * follows credits pro rata on the cumulative totals, so a series of partial refunds that takes back
 * every credit returns exactly the price paid, never a cent more.
 */
import type { Money } from './credits';
import { isDueToExpire } from './drawdown';
import { conflict, invalidCommand, notFound } from './errors';
import type { PurchaseRecord, WorkspaceCreditsState } from './state';

export interface PlannedRefund {
  purchase: PurchaseRecord;
  credits: number;
  amount: Money;
}

/** Credits of the purchase that can still be taken back at `now` (unspent and not expired). */
export function unspentCredits(state: WorkspaceCreditsState, purchase: PurchaseRecord, now: number): number {
  const grant = state.grants.get(purchase.grantId);
  if (!grant || isDueToExpire(grant, now)) return 0;
  return grant.remaining;
}

function purchaseOf(state: WorkspaceCreditsState, purchaseId: string): PurchaseRecord {
  const purchase = state.purchases.get(purchaseId);
  if (!purchase) throw notFound('Purchase', purchaseId);
  return purchase;
}

/** Money owed back when the purchase's refunded credits grow by `credits`. */
function amountFor(purchase: PurchaseRecord, credits: number): number {
  const cumulative = Math.floor((purchase.price.amount * (purchase.refundedCredits + credits)) / purchase.credits);
  return Math.min(cumulative, purchase.price.amount) - purchase.refundedAmount;
}

/**
 * The refund an admin asks for: `requested` credits, or by default every unspent credit. Refused
 * when nothing is left to take back or more is asked than is left.
 */
export function planPurchaseRefund(
  state: WorkspaceCreditsState,
  purchaseId: string,
  requested: number | undefined,
  now: number,
): PlannedRefund {
  const purchase = purchaseOf(state, purchaseId);
  const unspent = unspentCredits(state, purchase, now);
  if (unspent === 0) {
    throw conflict(`Purchase ${purchaseId} has no unspent credits left to refund.`);
  }
  const credits = requested ?? unspent;
  if (!Number.isSafeInteger(credits) || credits <= 0) {
    throw invalidCommand(`credits must be a positive whole number, got ${credits}.`);
  }
  if (credits > unspent) {
    throw invalidCommand(
      `Only ${unspent} credits of purchase ${purchaseId} are unspent; ${credits} cannot be refunded.`,
    );
  }
  return { purchase, credits, amount: { amount: amountFor(purchase, credits), currency: purchase.price.currency } };
}

/**
 * A refund made at the provider directly (the Stripe dashboard): the credits its money paid for,
 * pro rata, taken back as far as they are still unspent.
 */
export function planProviderRefund(
  state: WorkspaceCreditsState,
  purchaseId: string,
  amount: number,
  now: number,
): PlannedRefund {
  const purchase = purchaseOf(state, purchaseId);
  const paidFor =
    Math.floor((purchase.credits * (purchase.refundedAmount + amount)) / purchase.price.amount) -
    purchase.refundedCredits;
  const credits = Math.max(0, Math.min(paidFor, unspentCredits(state, purchase, now)));
  return { purchase, credits, amount: { amount, currency: purchase.price.currency } };
}
