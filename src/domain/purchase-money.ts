/**
 * Where a purchase's money and credits stand when money goes back to the buyer.
 *
 * `creditsRepaid` are the credits the returned money pays for (repaidBy). An admin's refund names
 * credits and the money follows them pro rata on the running totals, rounded down, so a series of
 * partial refunds that takes back every credit returns exactly the price and never a cent more.
 * Money returned at the provider (a dashboard refund, a lost dispute) names an amount and the
 * credits follow it: taken back from the purchase's grant as far as they are unspent, and recorded
 * as owed where they were already spent (credits that expired unspent are neither). Credits are
 * taken back before any are owed, so owed credits mean the grant has nothing left to take.
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

/** Credits of the purchase held by active holds: unspent, but not refundable while they are held. */
function heldOf(state: WorkspaceCreditsState, purchase: PurchaseRecord, now: number): number {
  const grant = state.grants.get(purchase.grantId);
  return !grant || isDueToExpire(grant, now) ? 0 : grant.held;
}

/** Money owed back when `credits` more of the purchase's credits are refunded. */
export function refundAmountFor(purchase: PurchaseRecord, credits: number): number {
  const price = purchase.price.amount;
  const cumulative = Math.floor((price * (purchase.creditsRepaid + credits)) / purchase.credits);
  return Math.max(0, Math.min(cumulative, price) - purchase.amountReturned);
}

/** Credits `amount` of money pays for by itself: its share of the purchase, rounded down. */
export const paysFor = (purchase: Pick<PurchaseRecord, 'credits' | 'price'>, amount: number): number =>
  purchase.price.amount === 0
    ? 0
    : Math.min(purchase.credits, Math.floor((purchase.credits * amount) / purchase.price.amount));

/** One return of money: a refund that has not failed, or a lost dispute. */
export interface MoneyBack {
  amount: number;
  /** Credits it pays for by itself: an admin refund's credits, otherwise its money's share. */
  paysFor: number;
  /** An admin's refund, which names its credits (the money follows them); otherwise money named alone. */
  namesCredits?: boolean;
}

/**
 * The credits all the money returned pays for: the credits the admins' refunds named, with the
 * share of the purchase the money returned otherwise (Dashboard refunds, lost disputes) is worth
 * together, or the share all the money is worth, whichever is more; every credit once every cent
 * went back. The share of a sum, not the sum of each return's share rounded down: a hundred
 * refunds of 8 cents return $8.00, and take the credits $8.00 pays for, not none; and an admin's
 * refund after them still takes the credits it names. A function of the set of returns, not of the
 * order they came in, so that webhooks delivered in any order (a refund failing after another was
 * made) end the same.
 */
export function repaidBy(purchase: Pick<PurchaseRecord, 'credits' | 'price'>, backs: Iterable<MoneyBack>): number {
  let amount = 0;
  let named = 0;
  let moneyAlone = 0;
  for (const back of backs) {
    amount += back.amount;
    if (back.namesCredits) named += back.paysFor;
    else moneyAlone += back.amount;
  }
  if (purchase.price.amount > 0 && amount >= purchase.price.amount) return purchase.credits;
  return Math.min(purchase.credits, Math.max(named + paysFor(purchase, moneyAlone), paysFor(purchase, amount)));
}

/** The returns of money on a purchase now, with one more (`adding`) or one fewer (`dropping`). */
function moneyBacks(
  state: WorkspaceCreditsState,
  purchaseId: string,
  change: { adding?: MoneyBack; dropping?: string },
): MoneyBack[] {
  const backs: MoneyBack[] = [];
  for (const refund of state.purchaseRefunds.values()) {
    if (refund.purchaseId !== purchaseId || refund.refundId === change.dropping) continue;
    if (refund.status === 'FAILED' || refund.status === 'CANCELED') continue;
    backs.push({ amount: refund.amount.amount, paysFor: refund.paysFor, namesCredits: refund.origin === 'ADMIN' });
  }
  for (const dispute of state.disputes.values()) {
    if (dispute.purchaseId === purchaseId && dispute.status === 'LOST') backs.push(dispute.lost);
  }
  if (change.adding) backs.push(change.adding);
  return backs;
}

export interface CreditsPaidBack {
  /** How many more (or, for money that did not go back after all, fewer) credits the money pays for. */
  creditsRepaid: number;
  /** Of those, unspent ones taken back from the grant (or given back to it). */
  takenBack: number;
  /** Of those, ones already spent (or no longer owed). */
  owed: number;
}

/**
 * What one more return of money takes: the credits it adds to what the money pays for, taken back
 * from the grant as far as `takeable` allows, and owed where they were spent.
 */
export function paidBackBy(
  state: WorkspaceCreditsState,
  purchase: PurchaseRecord,
  back: MoneyBack,
  takeable: number,
): CreditsPaidBack {
  const creditsRepaid = Math.max(
    0,
    repaidBy(purchase, moneyBacks(state, purchase.purchaseId, { adding: back })) - purchase.creditsRepaid,
  );
  const takenBack = Math.min(creditsRepaid, takeable);
  // The money pays for unspent credits first, spent ones (consumed, or kept by a hold) after: the
  // purchase owes what it pays for beyond every unspent credit, whether those are still in the
  // grant (taken back), expired, or given back already. So owed credits do not depend on whether
  // the news of the money came before the package expired or after.
  const { spent, unspent } = spentAndUnspent(state, purchase);
  const owedInAll = Math.min(spent, Math.max(0, purchase.creditsRepaid + creditsRepaid - unspent));
  const owed = Math.min(creditsRepaid - takenBack, Math.max(0, owedInAll - purchase.creditsOwed));
  return { creditsRepaid, takenBack, owed };
}

/** The purchase's credits spent (consumed, or kept by a hold) and the rest. */
function spentAndUnspent(state: WorkspaceCreditsState, purchase: PurchaseRecord): { spent: number; unspent: number } {
  const grant = state.grants.get(purchase.grantId);
  const spent = grant ? grant.consumed + grant.held : 0;
  return { spent, unspent: Math.max(0, (grant?.granted ?? purchase.credits) - spent) };
}

/**
 * What a refund that failed after all gives back: the credits its money no longer pays for, owed
 * ones first (they stop being owed), then ones that lapsed for the money (spent ones given back
 * meanwhile: spendable again), then taken ones (back to the grant). Like paidBackBy, a function of
 * what is left, so a failure undoes the same whatever came between.
 */
export function unpaidBy(
  state: WorkspaceCreditsState,
  purchase: PurchaseRecord,
  refundId: string,
  takenBack: number,
): CreditsPaidBack & { restored: number } {
  const creditsRepaid = Math.max(
    0,
    purchase.creditsRepaid - repaidBy(purchase, moneyBacks(state, purchase.purchaseId, { dropping: refundId })),
  );
  // What the money still going back keeps paying for, in paidBackBy's order: unspent credits first
  // (taken back, then lapsed for it, then ones that expired unspent, neither taken back nor owed),
  // owed ones last. Only what falls outside that is undone.
  const stillRepaid = purchase.creditsRepaid - creditsRepaid;
  const expiredUnspent = Math.max(
    0,
    purchase.creditsRepaid - takenBack - purchase.creditsOwed - purchase.creditsLapsed,
  );
  const keptTaken = Math.min(takenBack, stillRepaid);
  const keptLapsed = Math.min(purchase.creditsLapsed, stillRepaid - keptTaken);
  const keptExpired = Math.min(expiredUnspent, stillRepaid - keptTaken - keptLapsed);
  const keptOwed = Math.min(purchase.creditsOwed, stillRepaid - keptTaken - keptLapsed - keptExpired);
  const owed = Math.min(creditsRepaid, purchase.creditsOwed - keptOwed);
  const restored = Math.min(creditsRepaid - owed, purchase.creditsLapsed - keptLapsed);
  return {
    creditsRepaid,
    takenBack: Math.min(creditsRepaid - owed - restored, takenBack - keptTaken),
    owed,
    restored,
  };
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
  const held = heldOf(state, purchase, now);
  const whileHeld = held > 0 ? ` ${held} more are held by running actions until their holds end.` : '';
  if (left === 0) throw conflict(`Purchase ${purchaseId} has no unspent credits left to refund.${whileHeld}`);
  const credits = requested ?? left;
  if (!Number.isSafeInteger(credits) || credits <= 0) {
    throw invalidCommand(`credits must be a positive whole number, got ${credits}.`);
  }
  if (credits > left) {
    throw invalidCommand(
      `Only ${left} credits of purchase ${purchaseId} are unspent; ${credits} cannot be refunded.${whileHeld}`,
    );
  }
  return {
    purchase,
    credits,
    amount: { amount: refundAmountFor(purchase, credits), currency: purchase.price.currency },
  };
}
