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

/**
 * Most grant expiries one decision writes. Thousands of grants can end at one instant, and one
 * append must stay small (EventStoreDB refuses one over 1 MiB, and the command would be refused
 * with it, every time). The balance never waits for an expiry to be written, so the rest are
 * written by the next decisions and the expiry sweeper, oldest first.
 */
export const MAX_EXPIRIES_PER_DECISION = 1_000;

/**
 * The expiry of each grant whose `expiresAt` has passed by `now`, at that instant, oldest first:
 * at most `limit` of them (MAX_EXPIRIES_PER_DECISION unless told fewer).
 */
export function expireDueGrants(
  state: WorkspaceCreditsState,
  workspaceId: string,
  now: number,
  limit = MAX_EXPIRIES_PER_DECISION,
): CreditsExpired[] {
  if (limit <= 0) return [];
  const due: Grant[] = [];
  for (const grant of state.grants.values()) if (isDueToExpire(grant, now)) due.push(grant);
  if (due.length > limit) {
    due.sort((a, b) => (a.expiresAt as number) - (b.expiresAt as number) || a.seq - b.seq);
    due.length = limit;
  }
  return due.map((grant) => expiry(workspaceId, grant, grant.remaining, 'EXPIRED', grant.expiresAt as number));
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
