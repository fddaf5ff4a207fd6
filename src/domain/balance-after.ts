/**
 * What a command's events leave: the workspace's state after them and what is available then. The
 * lines the balance may cross (alerts.ts, auto-top-up.ts) are checked on it, once per command.
 */
import { availableCredits } from './drawdown';
import type { WorkspaceCreditsEvent } from './events';
import { evolve } from './evolve';
import { RecentConsumptions } from './recent-consumptions';
import { forkState, type WorkspaceCreditsState } from './state';

export interface BalanceAfter {
  /** The state after the events; the state itself when they changed nothing the lines depend on. */
  after: WorkspaceCreditsState;
  available: number;
}

/** Only these events leave `available` where CreditsConsumed's `availableAfter` says it is. */
const isSpendOnly = (events: readonly WorkspaceCreditsEvent[]): boolean =>
  events.at(-1)?.type === 'CreditsConsumed' &&
  events.every((event) => event.type === 'CreditsConsumed' || event.type === 'CreditsExpired');

/**
 * `events` (just decided on `state`) folded onto a copy of it, at `now`. A spend says what it left
 * available, and changes nothing else a line depends on: it costs no copy, the hot path.
 */
export function balanceAfter(
  state: WorkspaceCreditsState,
  events: readonly WorkspaceCreditsEvent[],
  now: number,
): BalanceAfter {
  const last = events[events.length - 1];
  if (last?.type === 'CreditsConsumed' && isSpendOnly(events)) {
    return { after: state, available: last.data.availableAfter };
  }
  // A scratch list of spends: the fork must not add this append's spends to the state's own.
  const after = { ...forkState(state), consumptions: new RecentConsumptions() };
  for (const event of events) evolve(after, event);
  return { after, available: availableCredits(after.grants.values(), now) };
}
