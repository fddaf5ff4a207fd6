/** GrantCredits: promotional or goodwill credits from an admin, once per idempotency key. */
import type { GrantCredits } from '../commands';
import { idempotencyKeyReused } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { expireDueGrants } from './expiries';
import { requireFutureExpiry, requirePositiveCredits, requireReason } from './validation';

export function grantCredits(command: GrantCredits, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const data = command.data;
  const first = state.grantKeys.get(data.idempotencyKey);
  if (first) {
    const sameRequest =
      first.credits === data.credits && first.reason === data.reason && first.expiresAt === data.expiresAt?.getTime();
    if (sameRequest) return [];
    throw idempotencyKeyReused(data.idempotencyKey);
  }
  requirePositiveCredits(data.credits, 'A grant');
  requireReason(data.reason, 'A grant');
  requireFutureExpiry(data.expiresAt, data.now);
  const now = data.now.getTime();
  return [
    ...expireDueGrants(state, data.workspaceId, now),
    {
      type: 'CreditsGranted',
      data: {
        workspaceId: data.workspaceId,
        grantId: data.grantId,
        idempotencyKey: data.idempotencyKey,
        credits: data.credits,
        reason: data.reason,
        ...(data.expiresAt && { expiresAt: data.expiresAt.toISOString() }),
        grantedBy: data.grantedBy,
        grantedAt: iso(now),
      },
    },
  ];
}
