/**
 * NoticeExpiringCredits: a time-driven command (the expiry sweeper's). Every grant with credits
 * left, or held by running actions, whose expiry falls within the workspace's notice period is
 * noticed once, with both counts: a second sweep, a
 * second replica or a replay finds it noticed already. Grants found already expired are the
 * expiry's business, not a notice's.
 */
import type { NoticeExpiringCredits } from '../commands';
import type { CreditsExpiringSoon } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';

const DAY_MS = 86_400_000;

export function noticeExpiringCredits(
  command: NoticeExpiringCredits,
  state: WorkspaceCreditsState,
): CreditsExpiringSoon[] {
  const { workspaceId } = command.data;
  const now = command.data.now.getTime();
  const days = state.alerts.rules.expiringSoonDays;
  if (days === null) return [];
  // Credits running actions hold in each grant: they expire with it too, unless settled first.
  const held = new Map<string, number>();
  for (const hold of state.activeHolds.values()) {
    for (const part of hold.drawdown) held.set(part.grantId, (held.get(part.grantId) ?? 0) + part.credits);
  }
  const notices: CreditsExpiringSoon[] = [];
  for (const grant of state.grants.values()) {
    const credits = grant.remaining;
    const heldCredits = held.get(grant.id) ?? 0;
    if (grant.expiresAt === undefined || credits + heldCredits <= 0 || grant.frozen) continue;
    if (state.alerts.expiringNoticed.has(grant.id)) continue;
    if (grant.expiresAt <= now || grant.expiresAt - days * DAY_MS > now) continue;
    notices.push({
      type: 'CreditsExpiringSoon',
      data: {
        workspaceId,
        grantId: grant.id,
        source: grant.source,
        credits,
        ...(heldCredits > 0 && { heldCredits }),
        expiresAt: iso(grant.expiresAt),
        noticedAt: iso(now),
      },
    });
  }
  return notices;
}

/** The first instant a grant expiring at `expiresAt` is due a notice, with `days` of notice. */
export const noticeDueAt = (expiresAt: number, days: number): number => expiresAt - days * DAY_MS;
