/**
 * Where credits go when they come back to a grant (a spend given back, a refund that failed, a
 * hold's unused credits): back into the grant only while it can still be spent. They lapse at once,
 * recorded as an expiry, when the grant has expired, when a newer billing period replaced its
 * allowance, or when the purchase's money was returned for them: in full (nothing of it may be
 * spendable again) or in part while credits of it are owed (spent credits whose money went back).
 */
import type { Grant } from './credits';
import type { ExpiryReason } from './events';
import { isFullyRepaid } from './purchase-money';
import type { PurchaseRecord, WorkspaceCreditsState } from './state';

export interface Lapse {
  credits: number;
  reason: ExpiryReason;
}

/** A purchase's money as it stands, possibly after a change the decision is about to record. */
export type PurchaseMoney = Pick<PurchaseRecord, 'amountReturned' | 'price' | 'creditsOwed'>;

/**
 * The part of `credits` coming back to `grant` at `now` that lapses at once, and why; undefined
 * when all of them can be spent again. `money` is the grant's purchase, for purchased credits.
 */
export const lapseOnReturn = (
  state: WorkspaceCreditsState,
  grant: Grant,
  credits: number,
  now: number,
  money: PurchaseMoney | undefined = purchaseOfGrant(state, grant.id),
): Lapse | undefined => lapseOf({ replaced: state.replacedAllowances.has(grant.id), money }, grant, credits, now);

/**
 * What a grant's returning credits depend on besides the grant: whether a newer period replaced
 * its allowance, and its purchase's money. The read models keep the same, so the balance at an
 * instant can give a hold's credits back before its expiry is written (hold-returns.ts).
 */
export interface ReturnTerms {
  replaced: boolean;
  money: PurchaseMoney | undefined;
}

/** lapseOnReturn, on the terms as given. */
export function lapseOf(terms: ReturnTerms, grant: Grant, credits: number, now: number): Lapse | undefined {
  const { money } = terms;
  if (credits <= 0) return undefined;
  if (terms.replaced) return { credits, reason: 'PERIOD_REPLACED' };
  if (grant.expiresAt !== undefined && now >= grant.expiresAt) return { credits, reason: 'EXPIRED' };
  if (money && isFullyRepaid(money)) return { credits, reason: 'MONEY_RETURNED' };
  if (money && money.creditsOwed > 0)
    return { credits: Math.min(credits, money.creditsOwed), reason: 'MONEY_RETURNED' };
  return undefined;
}

export const purchaseOfGrant = (state: WorkspaceCreditsState, grantId: string): PurchaseRecord | undefined =>
  state.purchases.get(state.purchaseOfGrant.get(grantId) ?? '');
