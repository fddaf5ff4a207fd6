/**
 * ReleaseCreditHold: the action will not use its hold, and every held credit goes back at once
 * (held-returns.ts). Releasing a hold that is already released or expired changes nothing (its
 * credits are back already); a settled hold's credits were spent and cannot be released.
 */
import type { ReleaseCreditHold } from '../commands';
import { holdClosed } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { holdStatusAt } from '../holds';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { expireDueGrants } from './expiries';
import { lapsesOfReturn } from './held-returns';
import { holdOf } from './hold-of';
import { requireReason } from './validation';

export function releaseCreditHold(command: ReleaseCreditHold, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const data = command.data;
  const now = data.now.getTime();
  const hold = holdOf(state, data.holdId);
  const status = holdStatusAt(hold, now);
  if (status === 'RELEASED' || status === 'EXPIRED') return [];
  if (status === 'SETTLED') throw holdClosed(hold.holdId, status, hold.closedAt ?? now);
  if (data.reason !== undefined) requireReason(data.reason, 'A release');
  return [
    ...expireDueGrants(state, data.workspaceId, now),
    {
      type: 'CreditHoldReleased',
      data: {
        workspaceId: data.workspaceId,
        holdId: hold.holdId,
        credits: hold.credits,
        returned: hold.drawdown,
        ...(data.reason !== undefined && { reason: data.reason }),
        releasedBy: data.releasedBy,
        releasedAt: iso(now),
      },
    },
    ...lapsesOfReturn(state, data.workspaceId, hold.drawdown, now),
  ];
}
