/**
 * RefundCreditConsumption: one spend's credits go back to the grants that paid for it, once; what
 * goes back to a grant that has expired in the meantime expires again at once.
 */
import type { RefundCreditConsumption } from '../commands';
import { notFound } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { expireDueGrants, expiry } from './expiries';
import { requireReason } from './validation';

export function refundCreditConsumption(
  command: RefundCreditConsumption,
  state: WorkspaceCreditsState,
): WorkspaceCreditsEvent[] {
  const data = command.data;
  if (state.refundedConsumptions.has(data.consumptionId)) return [];
  requireReason(data.reason, 'A refund');
  const { drawdown, credits } = data.consumption;
  const unknown = drawdown.find((part) => !state.grants.has(part.grantId));
  if (unknown) throw notFound('Grant', unknown.grantId);
  const now = data.now.getTime();
  const events: WorkspaceCreditsEvent[] = [
    ...expireDueGrants(state, data.workspaceId, now),
    {
      type: 'CreditConsumptionRefunded',
      data: {
        workspaceId: data.workspaceId,
        consumptionId: data.consumptionId,
        credits,
        drawdown,
        reason: data.reason,
        refundedBy: data.refundedBy,
        refundedAt: iso(now),
      },
    },
  ];
  for (const part of drawdown) {
    const grant = state.grants.get(part.grantId);
    if (grant?.expiresAt === undefined || now < grant.expiresAt) continue;
    events.push(expiry(data.workspaceId, grant, part.credits, 'EXPIRED', now));
  }
  return events;
}
