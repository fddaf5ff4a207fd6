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
 * The parts of `credits` coming back to `grant` at `now` that lapse at once, and why; empty when
 * all of them can be spent again. `money` is the grant's purchase, for purchased credits.
 */
export const lapsesOnReturn = (
  state: WorkspaceCreditsState,
  grant: Grant,
  credits: number,
  now: number,
  money: PurchaseMoney | undefined = purchaseOfGrant(state, grant.id),
): Lapse[] => lapsesOf({ replaced: state.replacedAllowances.has(grant.id), money }, grant, credits, now);

/**
 * What a grant's returning credits depend on besides the grant: whether a newer period replaced
 * its allowance, and its purchase's money. The read models keep the same, so the balance at an
 * instant can give a hold's credits back before its expiry is written (hold-returns.ts).
 */
export interface ReturnTerms {
  replaced: boolean;
  money: PurchaseMoney | undefined;
}

/**
 * lapsesOnReturn, on the terms as given. On a grant that can no longer be spent everything lapses,
 * and the part that was owed (spent credits whose money went back) lapses for the money: given
 * back, they are no longer spent, so no longer owed. The rest lapses for the grant's end.
 */
export function lapsesOf(terms: ReturnTerms, grant: Grant, credits: number, now: number): Lapse[] {
  const { money } = terms;
  if (credits <= 0) return [];
  const ended: ExpiryReason | undefined = terms.replaced
    ? 'PERIOD_REPLACED'
    : grant.expiresAt !== undefined && now >= grant.expiresAt
      ? 'EXPIRED'
      : undefined;
  const owed = Math.min(credits, money?.creditsOwed ?? 0);
  if (ended) {
    const lapses: Lapse[] = owed > 0 ? [{ credits: owed, reason: 'MONEY_RETURNED' }] : [];
    if (credits > owed) lapses.push({ credits: credits - owed, reason: ended });
    return lapses;
  }
  if (money && isFullyRepaid(money)) return [{ credits, reason: 'MONEY_RETURNED' }];
  return owed > 0 ? [{ credits: owed, reason: 'MONEY_RETURNED' }] : [];
}

export const purchaseOfGrant = (state: WorkspaceCreditsState, grantId: string): PurchaseRecord | undefined =>
  state.purchases.get(state.purchaseOfGrant.get(grantId) ?? '');
