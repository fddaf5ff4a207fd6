/**
 * RefundCreditConsumption: one spend's credits go back to the grants that paid for it, once. Each
 * grant takes back what it can still spend; the rest lapses at once (given-back.ts says when). The
 * same request again changes nothing; another reason for a spend already given back is a CONFLICT.
 */
import type { RefundCreditConsumption } from '../commands';
import { conflict, invalidCommand, notFound } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { lapsesOnReturn } from '../given-back';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { expireDueGrants, expiry } from './expiries';
import { requireReason } from './validation';

export function refundCreditConsumption(
  command: RefundCreditConsumption,
  state: WorkspaceCreditsState,
): WorkspaceCreditsEvent[] {
  const data = command.data;
  requireReason(data.reason, 'A refund');
  const refundedFor = state.refundedConsumptions.get(data.consumptionId);
  if (refundedFor === data.reason) return [];
  if (refundedFor !== undefined) {
    throw conflict(
      `Spend ${data.consumptionId} was already given back, for the reason "${refundedFor}"; a spend is given back once.`,
    );
  }
  const { drawdown, credits } = data.spend;
  if (drawdown.reduce((sum, part) => sum + part.credits, 0) !== credits) {
    throw invalidCommand(`Spend ${data.consumptionId} does not add up: its drawdown is not ${credits} credits.`);
  }
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
    if (!grant) continue;
    for (const lapse of lapsesOnReturn(state, grant, part.credits, now)) {
      events.push(expiry(data.workspaceId, grant, lapse.credits, lapse.reason, now));
    }
  }
  return events;
}
