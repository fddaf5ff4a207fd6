/**
 * ExtendCreditHold: a heartbeat of a long action. The hold reserves until the new `expiresAt`,
 * which may be at most the maximum ahead of now (holds.ts), so a hold whose action stopped
 * sending heartbeats still ends, and at most 7 days after the hold was made (HOLD_MAX_LIFETIME_MS). An expiresAt no later than the current one changes nothing (a
 * retried or late heartbeat); a hold that is over cannot be extended.
 */
import type { ExtendCreditHold } from '../commands';
import { invalidCommand } from '../errors';
import { HOLD_MAX_LIFETIME_MS } from '../holds';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { expireDueGrants } from './expiries';
import { holdOf, requireActive } from './hold-of';
import { holdExpiresAt } from './validation';

export function extendCreditHold(command: ExtendCreditHold, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const data = command.data;
  const now = data.now.getTime();
  const hold = holdOf(state, data.holdId);
  requireActive(hold, now);
  const expiresAt = holdExpiresAt(data.expiresAt, now);
  if (expiresAt <= hold.expiresAt) return [];
  const latest = hold.createdAt + HOLD_MAX_LIFETIME_MS;
  if (expiresAt > latest) {
    throw invalidCommand(
      `A hold reserves for at most 7 days from when it was made: hold "${hold.holdId}" can be extended to ${iso(latest)} at the latest. Settle what the action has cost so far and reserve again to go on.`,
    );
  }
  return [
    ...expireDueGrants(state, data.workspaceId, now),
    {
      type: 'CreditHoldExtended',
      data: {
        workspaceId: data.workspaceId,
        holdId: hold.holdId,
        expiresAt: iso(expiresAt),
        previousExpiresAt: iso(hold.expiresAt),
        extendedBy: data.extendedBy,
        extendedAt: iso(now),
      },
    },
  ];
}
