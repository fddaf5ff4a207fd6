/**
 * Credits a hold did not use come back to their grants at once, where given-back.ts says they may
 * still be spent; the rest lapse there, recorded as expiries right after the event that returns
 * them. Settles, releases and expiries all return credits this way.
 */
import type { Drawdown } from '../credits';
import type { CreditsExpired } from '../events';
import { lapsesOnReturn } from '../given-back';
import type { WorkspaceCreditsState } from '../state';
import { expiry } from './expiries';

/** The expiries of the returned credits that cannot be spent again, at `at`. */
export function lapsesOfReturn(
  state: WorkspaceCreditsState,
  workspaceId: string,
  returned: readonly Drawdown[],
  at: number,
): CreditsExpired[] {
  const lapses: CreditsExpired[] = [];
  for (const part of returned) {
    const grant = state.grants.get(part.grantId);
    if (!grant) continue;
    for (const lapse of lapsesOnReturn(state, grant, part.credits, at)) {
      lapses.push(expiry(workspaceId, grant, lapse.credits, lapse.reason, at));
    }
  }
  return lapses;
}

/** How many of the returned credits are available at `now`: back in a grant that is neither expired nor frozen. */
export function availableOfReturn(
  state: WorkspaceCreditsState,
  returned: readonly Drawdown[],
  lapses: readonly CreditsExpired[],
  now: number,
): number {
  let available = 0;
  for (const part of returned) {
    const grant = state.grants.get(part.grantId);
    if (!grant || grant.frozen || (grant.expiresAt !== undefined && now >= grant.expiresAt)) continue;
    const lapsed = lapses
      .filter((lapse) => lapse.data.grantId === part.grantId)
      .reduce((sum, lapse) => sum + lapse.data.credits, 0);
    available += part.credits - lapsed;
  }
  return available;
}
