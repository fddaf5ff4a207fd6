/**
 * Where a purchase's money and credits stand when money goes back to the buyer.
 *
 * Credits and money move together on the purchase's running totals: `creditsRepaid` are the
 * credits the returned money pays for. An admin's refund names credits and the money follows them
 * pro rata, rounded down, so a series of partial refunds that takes back every credit returns
 * exactly the price and never a cent more. Money returned at the provider (a dashboard refund, a
 * lost dispute) names an amount and the credits follow it: taken back from the purchase's grant as
 * far as they are unspent, and recorded as owed where they were already spent.
 */
import type { Money } from './credits';
import { isDueToExpire } from './drawdown';
import { conflict, invalidCommand, notFound } from './errors';
import type { PurchaseRecord, WorkspaceCreditsState } from './state';

/** Credits of the purchase its grant still has at `now` (spent, expired and refunded ones are not). */
export function creditsLeft(state: WorkspaceCreditsState, purchase: PurchaseRecord, now: number): number {
  const grant = state.grants.get(purchase.grantId);
  if (!grant || isDueToExpire(grant, now)) return 0;
  return grant.remaining;
}

/** Money owed back when `credits` more of the purchase's credits are refunded. */
export function refundAmountFor(purchase: PurchaseRecord, credits: number): number {
  const price = purchase.price.amount;
  const cumulative = Math.floor((price * (purchase.creditsRepaid + credits)) / purchase.credits);
  return Math.max(0, Math.min(cumulative, price) - purchase.amountReturned);
}

export interface CreditsPaidBack {
  /** Credits the money pays for that earlier money did not. */
  creditsRepaid: number;
  /** Of those, unspent ones taken back from the grant. */
  takenBack: number;
  /** Of those, ones already spent. */
  owed: number;
}

/** What `amount` more money back pays for, given `unspent` credits that can be taken back. */
export function creditsPaidBackBy(purchase: PurchaseRecord, amount: number, unspent: number): CreditsPaidBack {
  const price = purchase.price.amount;
  const covered =
    price === 0
      ? purchase.credits
      : Math.min(purchase.credits, Math.floor((purchase.credits * (purchase.amountReturned + amount)) / price));
  const creditsRepaid = Math.max(0, covered - purchase.creditsRepaid);
  const takenBack = Math.min(creditsRepaid, unspent);
  return { creditsRepaid, takenBack, owed: creditsRepaid - takenBack };
}

/** Whether every cent of the purchase has gone back: none of its credits may be spendable again. */
export const isFullyRepaid = (purchase: Pick<PurchaseRecord, 'amountReturned' | 'price'>): boolean =>
  purchase.price.amount > 0 && purchase.amountReturned >= purchase.price.amount;

export interface PlannedRefund {
  purchase: PurchaseRecord;
  credits: number;
  amount: Money;
}

/**
 * The refund an admin asks for: `requested` credits, or by default every credit the purchase has
 * left. Refused when nothing is left to take back, more is asked than is left, or the payment is
 * under dispute (the bank decides its money then).
 */
export function planAdminRefund(
  state: WorkspaceCreditsState,
  purchaseId: string,
  requested: number | undefined,
  now: number,
): PlannedRefund {
  const purchase = state.purchases.get(purchaseId);
  if (!purchase) throw notFound('Purchase', purchaseId);
  if (purchase.openDisputeId !== undefined) {
    throw conflict(`Purchase ${purchaseId} is under dispute ${purchase.openDisputeId}; it cannot be refunded now.`);
  }
  const left = creditsLeft(state, purchase, now);
  if (left === 0) throw conflict(`Purchase ${purchaseId} has no unspent credits left to refund.`);
  const credits = requested ?? left;
  if (!Number.isSafeInteger(credits) || credits <= 0) {
    throw invalidCommand(`credits must be a positive whole number, got ${credits}.`);
  }
  if (credits > left) {
    throw invalidCommand(`Only ${left} credits of purchase ${purchaseId} are unspent; ${credits} cannot be refunded.`);
  }
  return {
    purchase,
    credits,
    amount: { amount: refundAmountFor(purchase, credits), currency: purchase.price.currency },
  };
}
