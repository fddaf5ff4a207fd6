/**
 * Expiry as every decision writes it down: before deciding anything else, a command records the
 * expiry of each grant whose `expiresAt` has passed, at that instant, so the ledger shows expiries
 * where they happened even though the balance never waited for them.
 */
import type { Grant } from '../credits';
import type { CreditsExpired, WorkspaceCreditsEvent } from '../events';
import { isDueToExpire } from '../drawdown';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';

export const expiry = (
  workspaceId: string,
  grant: Grant,
  credits: number,
  reason: CreditsExpired['data']['reason'],
  at: number,
): CreditsExpired => ({
  type: 'CreditsExpired',
  data: { workspaceId, grantId: grant.id, source: grant.source, credits, reason, expiredAt: iso(at) },
});

/** The expiry of every grant whose `expiresAt` has passed by `now`, at that instant. */
export function expireDueGrants(state: WorkspaceCreditsState, workspaceId: string, now: number): CreditsExpired[] {
  const expired: CreditsExpired[] = [];
  for (const grant of state.grants.values()) {
    if (!isDueToExpire(grant, now)) continue;
    expired.push(expiry(workspaceId, grant, grant.remaining, 'EXPIRED', grant.expiresAt as number));
  }
  return expired;
}

/**
 * `decided`, preceded by the expiries due at `now` when it records anything: a repeated provider
 * message that changes nothing appends nothing at all.
 */
export const withDueExpiries = (
  state: WorkspaceCreditsState,
  workspaceId: string,
  now: number,
  decided: WorkspaceCreditsEvent[],
): WorkspaceCreditsEvent[] => (decided.length === 0 ? [] : [...expireDueGrants(state, workspaceId, now), ...decided]);
