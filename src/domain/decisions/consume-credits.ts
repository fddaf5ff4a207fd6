/**
 * ConsumeCredits: a spend of `units × creditsPerUnit` credits, drawn from the live grants in
 * drawdown order, refused whole when the balance cannot cover it, and recorded once per key.
 */
import type { ConsumeCredits } from '../commands';
import { idempotencyKeyReused, invalidCommand } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import { IDEMPOTENCY_RETENTION_MS, type WorkspaceCreditsState } from '../state';
import { drawOrRefuse } from './draw-or-refuse';
import { expireDueGrants } from './expiries';
import { requirePositiveCredits } from './validation';

export function consumeCredits(command: ConsumeCredits, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const data = command.data;
  const now = data.now.getTime();
  const remembered = state.consumptions.get(data.idempotencyKey);
  // evolve prunes keys only when a later spend is folded: a key past the retention is forgotten here too.
  const first = remembered && remembered.consumedAt >= now - IDEMPOTENCY_RETENTION_MS ? remembered : undefined;
  if (first) {
    if (first.action === data.action && first.units === data.units && first.reference === data.reference) {
      return [];
    }
    throw idempotencyKeyReused(data.idempotencyKey);
  }
  if (!Number.isSafeInteger(data.units) || data.units < 1) {
    throw invalidCommand(`units must be a whole number of at least 1, got ${data.units}.`);
  }
  const credits = data.units * data.creditsPerUnit;
  requirePositiveCredits(credits, 'A spend');

  const { drawdown, available } = drawOrRefuse(state, credits, now);
  return [
    ...expireDueGrants(state, data.workspaceId, now),
    {
      type: 'CreditsConsumed',
      data: {
        workspaceId: data.workspaceId,
        consumptionId: data.consumptionId,
        idempotencyKey: data.idempotencyKey,
        action: data.action,
        units: data.units,
        creditsPerUnit: data.creditsPerUnit,
        credits,
        drawdown,
        availableAfter: available - credits,
        actorId: data.actorId,
        ...(data.reference !== undefined && { reference: data.reference }),
        consumedAt: iso(now),
      },
    },
  ];
}
