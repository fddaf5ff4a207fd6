/** Finding the hold a command names, and refusing what cannot be done to a hold that is over. */
import { holdClosed, notFound } from '../errors';
import { holdStatusAt, type HoldRecord } from '../holds';
import { IDEMPOTENCY_RETENTION_MS, type WorkspaceCreditsState } from '../state';

export function holdOf(state: WorkspaceCreditsState, holdId: string): HoldRecord {
  const hold = state.activeHolds.get(holdId) ?? state.closedHolds.get(holdId);
  if (!hold) throw notFound('Credit hold', holdId);
  return hold;
}

/** Refuses with HOLD_SETTLED, HOLD_RELEASED or HOLD_EXPIRED unless the hold still reserves at `now`. */
export function requireActive(hold: HoldRecord, now: number): void {
  const status = holdStatusAt(hold, now);
  if (status !== 'ACTIVE') throw holdClosed(hold.holdId, status, hold.closedAt ?? hold.expiresAt);
}

/**
 * The id of the hold made last with this reserve key: in memory, or brought back from outside it
 * (a closed hold the command side took out of memory and recalled for this decision).
 */
export const holdIdWithKey = (state: WorkspaceCreditsState, key: string): string | undefined =>
  state.holdKeys.get(key) ?? state.closedHolds.idOfRecalledKey(key);

/** The hold made with this idempotency key, unless it closed longer ago than keys are remembered. */
export function holdWithKey(state: WorkspaceCreditsState, key: string, now: number): HoldRecord | undefined {
  const holdId = holdIdWithKey(state, key);
  const hold = holdId === undefined ? undefined : (state.activeHolds.get(holdId) ?? state.closedHolds.get(holdId));
  return hold && (hold.closedAt === undefined || hold.closedAt >= now - IDEMPOTENCY_RETENTION_MS) ? hold : undefined;
}
