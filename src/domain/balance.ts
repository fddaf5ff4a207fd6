/**
 * The balance breakdown the Billing page shows, computed from a workspace's grants at an instant.
 * Both the live read model and time travel call this, so "available" means one thing everywhere.
 */
import type { Grant, GrantSource } from './credits';
import { compareDrawdownOrder, isDueToExpire, isLive } from './drawdown';

/**
 * Credits of one source: `granted = consumed + expired + refunded + held + disputed + remaining`,
 * and `remaining` is what can be spent, so the buckets' remaining add up to `available`. Credits
 * past their expiry instant count as expired even before the expiry is written to the ledger;
 * what is left of a purchase under dispute counts as disputed until the dispute closes.
 */
export interface CreditBucket {
  granted: number;
  consumed: number;
  expired: number;
  refunded: number;
  held: number;
  disputed: number;
  remaining: number;
}

export interface CreditBalance {
  available: number;
  /** Credits reserved by holds still active at the instant: out of `available` and of every bucket's remaining. */
  held: number;
  /** The allowance of the current billing period only; earlier periods are history. */
  included: CreditBucket;
  purchased: CreditBucket;
  promotional: CreditBucket;
  /** Grants with credits left at the instant, in drawdown order. */
  grants: Grant[];
}

const emptyBucket = (): CreditBucket => ({
  granted: 0,
  consumed: 0,
  expired: 0,
  refunded: 0,
  held: 0,
  disputed: 0,
  remaining: 0,
});

function addToBucket(bucket: CreditBucket, grant: Grant, now: number): void {
  const lapsed = isDueToExpire(grant, now) ? grant.remaining : 0;
  const disputed = grant.frozen ? grant.remaining - lapsed : 0;
  bucket.granted += grant.granted;
  bucket.consumed += grant.consumed;
  bucket.refunded += grant.refunded;
  bucket.held += grant.held;
  bucket.expired += grant.expired + lapsed;
  bucket.disputed += disputed;
  bucket.remaining += grant.remaining - lapsed - disputed;
}

export function creditBalance(
  grants: Iterable<Grant>,
  currentAllowanceGrantId: string | undefined,
  now: number,
): CreditBalance {
  const buckets: Record<GrantSource, CreditBucket> = {
    INCLUDED: emptyBucket(),
    PURCHASED: emptyBucket(),
    PROMOTIONAL: emptyBucket(),
  };
  const live: Grant[] = [];
  let available = 0;
  let held = 0;
  for (const grant of grants) {
    held += grant.held;
    if (grant.source !== 'INCLUDED' || grant.id === currentAllowanceGrantId)
      addToBucket(buckets[grant.source], grant, now);
    if (isLive(grant, now)) {
      live.push(grant);
      available += grant.remaining;
    }
  }
  return {
    available,
    held,
    included: buckets.INCLUDED,
    purchased: buckets.PURCHASED,
    promotional: buckets.PROMOTIONAL,
    grants: live.sort(compareDrawdownOrder),
  };
}
