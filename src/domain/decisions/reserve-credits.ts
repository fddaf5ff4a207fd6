/**
 * ReserveCredits: a long-running action holds `units × creditsPerUnit` credits (the rate now),
 * drawn from the live grants in drawdown order into their `held` counter, until it settles, is
 * released or expires. Refused whole like a spend when the balance cannot cover it; once per key.
 */
import type { ReserveCredits } from '../commands';
import { idempotencyKeyReused } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { drawOrRefuse } from './draw-or-refuse';
import { expireDueGrants } from './expiries';
import { holdWithKey } from './hold-of';
import { holdExpiresAt, requirePositiveCredits, requireUnits } from './validation';

export function reserveCredits(command: ReserveCredits, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const data = command.data;
  const now = data.now.getTime();
  const first = holdWithKey(state, data.idempotencyKey, now);
  if (first) {
    const sameRequest =
      first.action === data.action &&
      first.units === data.units &&
      first.reference === data.reference &&
      (data.expiresAt === undefined || data.expiresAt.getTime() === first.initialExpiresAt);
    if (sameRequest) return [];
    throw idempotencyKeyReused(data.idempotencyKey);
  }
  requireUnits(data.units);
  const credits = data.units * data.creditsPerUnit;
  requirePositiveCredits(credits, 'A hold');
  const expiresAt = holdExpiresAt(data.expiresAt, now);

  const { drawdown, available } = drawOrRefuse(state, credits, now);
  return [
    ...expireDueGrants(state, data.workspaceId, now),
    {
      type: 'CreditsReserved',
      data: {
        workspaceId: data.workspaceId,
        holdId: data.holdId,
        idempotencyKey: data.idempotencyKey,
        action: data.action,
        units: data.units,
        creditsPerUnit: data.creditsPerUnit,
        credits,
        drawdown,
        expiresAt: iso(expiresAt),
        availableAfter: available - credits,
        actorId: data.actorId,
        ...(data.reference !== undefined && { reference: data.reference }),
        reservedAt: iso(now),
      },
    },
  ];
}
