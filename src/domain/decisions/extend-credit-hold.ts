/**
 * ExtendCreditHold: a heartbeat of a long action. The hold reserves until the new `expiresAt`,
 * which may be at most the maximum ahead of now (holds.ts), so a hold whose action stopped
 * sending heartbeats still ends. An expiresAt no later than the current one changes nothing (a
 * retried or late heartbeat); a hold that is over cannot be extended.
 */
import type { ExtendCreditHold } from '../commands';
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
