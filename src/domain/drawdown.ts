/**
 * Which credits are spendable at an instant, and in which order a spend draws them down.
 *
 * A grant is live while `now < expiresAt`: from the expiry instant on its credits are gone, whether
 * or not a CreditsExpired event has been written yet. A grant frozen by a dispute of its purchase
 * is not live either, until the dispute closes. Spends draw live grants in this order:
 * soonest expiry first (grants that never expire last), then INCLUDED → PROMOTIONAL → PURCHASED,
 * then oldest first.
 */
import { GRANT_SOURCES, type Drawdown, type Grant } from './credits';

export const isLive = (grant: Grant, now: number): boolean =>
  grant.remaining > 0 && !grant.frozen && (grant.expiresAt === undefined || now < grant.expiresAt);

export const isDueToExpire = (grant: Grant, now: number): boolean =>
  grant.remaining > 0 && grant.expiresAt !== undefined && now >= grant.expiresAt;

const sourceRank = (grant: Grant): number => GRANT_SOURCES.indexOf(grant.source);

export function compareDrawdownOrder(a: Grant, b: Grant): number {
  const byExpiry = (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity);
  if (byExpiry !== 0 && !Number.isNaN(byExpiry)) return byExpiry;
  return sourceRank(a) - sourceRank(b) || a.grantedAt - b.grantedAt || a.seq - b.seq;
}

/** The live grants at `now`, in the order a spend draws them down. */
export const liveGrantsInDrawdownOrder = (grants: Iterable<Grant>, now: number): Grant[] =>
  [...grants].filter((grant) => isLive(grant, now)).sort(compareDrawdownOrder);

export const availableCredits = (grants: Iterable<Grant>, now: number): number => {
  let available = 0;
  for (const grant of grants) if (isLive(grant, now)) available += grant.remaining;
  return available;
};

/**
 * Splits a spend of `credits` across the live grants; `undefined` when they cannot cover it,
 * because a spend is never partly paid.
 */
export function planDrawdown(grants: Iterable<Grant>, credits: number, now: number): Drawdown[] | undefined {
  const drawdown: Drawdown[] = [];
  let owed = credits;
  for (const grant of liveGrantsInDrawdownOrder(grants, now)) {
    if (owed === 0) break;
    const take = Math.min(owed, grant.remaining);
    drawdown.push({ grantId: grant.id, source: grant.source, credits: take });
    owed -= take;
  }
  return owed === 0 ? drawdown : undefined;
}
