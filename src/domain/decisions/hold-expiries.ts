/**
 * Hold expiry as every decision writes it down: before deciding anything else, a command records
 * the expiry of each hold whose `expiresAt` has passed, at that instant, with its credits back in
 * their grants; the command is then decided on the state after them. So a hold stops reserving at
 * its instant whether or not anyone wrote its expiry, and the ledger shows it where it happened.
 */
import type { WorkspaceCreditsEvent } from '../events';
import { evolve } from '../evolve';
import { anyHoldDueBy } from '../hold-expiry-index';
import type { HoldRecord } from '../holds';
import { iso } from '../instants';
import { forkState, type WorkspaceCreditsState } from '../state';
import { availableCredits } from '../drawdown';
import { expireDueGrants, MAX_EXPIRIES_PER_DECISION } from './expiries';
import { lapsesOfReturn } from './held-returns';

const byExpiry = (a: HoldRecord, b: HoldRecord): number =>
  a.expiresAt - b.expiresAt || (a.holdId < b.holdId ? -1 : a.holdId > b.holdId ? 1 : 0);

/**
 * The expiries of every hold due by `now` (or of the `limit` first), oldest first, each preceded by
 * the grants' expiries due by its instant and followed by the lapses of its returned credits; and
 * the state once they are folded (the same state when none is due). A decision writes them all;
 * a store that bounds an append's size has the first ones written on their own first when there
 * are too many for one append with the command's own events (decide-and-append.ts).
 */
export function expireDueHolds(
  state: WorkspaceCreditsState,
  workspaceId: string,
  now: number,
  limit = Number.POSITIVE_INFINITY,
): { events: WorkspaceCreditsEvent[]; state: WorkspaceCreditsState } {
  if (!anyHoldDueBy(state.activeHolds, now)) return { events: [], state };
  const due = [...state.activeHolds.values()]
    .filter((hold) => hold.expiresAt <= now)
    .sort(byExpiry)
    .slice(0, limit);
  const after = forkState(state);
  const events: WorkspaceCreditsEvent[] = [];
  // One budget for the grant expiries written before all the holds: thousands of grants ending
  // before a few holds must not make one append of them all (see MAX_EXPIRIES_PER_DECISION). Past
  // it, a hold's credits that come back to a grant already ended lapse at once, as they would
  // after its expiry, and the grant's own expiry is written by a later decision.
  let grantBudget = MAX_EXPIRIES_PER_DECISION;
  for (const hold of due) {
    const at = hold.expiresAt;
    // Grants that expired by then go first, so the ledger never shows credits coming back to a
    // grant whose end is written after them (and a balance that never was).
    for (const expired of expireDueGrants(after, workspaceId, at, grantBudget)) {
      evolve(after, expired);
      events.push(expired);
      grantBudget -= 1;
    }
    const lapses = lapsesOfReturn(after, workspaceId, hold.drawdown, at);
    const { holdId, credits, drawdown: returned } = hold;
    const expiredAt = iso(at);
    evolve(after, { type: 'CreditHoldExpired', data: { workspaceId, holdId, credits, returned, expiredAt } });
    for (const lapse of lapses) evolve(after, lapse);
    // What could be spent right after: credits that came back to an expired grant never were.
    const availableAfter = availableCredits(after.grants.values(), at);
    events.push(
      { type: 'CreditHoldExpired', data: { workspaceId, holdId, credits, returned, availableAfter, expiredAt } },
      ...lapses,
    );
  }
  return { events, state: after };
}
