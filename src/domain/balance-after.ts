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

/** Events that move credits between grants' counters and holds, and touch nothing else a line reads. */
const GRANTS_ONLY: ReadonlySet<WorkspaceCreditsEvent['type']> = new Set([
  'CreditsConsumed',
  'CreditsExpired',
  'CreditsReserved',
  'CreditHoldSettled',
  'CreditHoldExpired',
]);

type SaysAvailable = Extract<
  WorkspaceCreditsEvent,
  { type: 'CreditsConsumed' | 'CreditsReserved' | 'CreditHoldSettled' }
>;

/**
 * The event that says what the append leaves available: a spend, a reserve or a settle, followed
 * by nothing but the lapses of the credits it gave back (which its `availableAfter` counts), in an
 * append of events that change nothing else a line depends on. Undefined otherwise.
 */
function sayingAvailable(events: readonly WorkspaceCreditsEvent[]): SaysAvailable | undefined {
  let last: WorkspaceCreditsEvent | undefined;
  for (const event of events) {
    if (!GRANTS_ONLY.has(event.type)) return undefined;
    if (event.type !== 'CreditsExpired') last = event;
  }
  return last?.type === 'CreditsConsumed' || last?.type === 'CreditsReserved' || last?.type === 'CreditHoldSettled'
    ? last
    : undefined;
}

/**
 * `events` (just decided on `state`) folded onto a copy of it, at `now`. A spend, a reserve or a
 * settle says what it left available (held credits are out of it), and changes nothing else a line
 * depends on: it costs no copy, the hot path.
 */
export function balanceAfter(
  state: WorkspaceCreditsState,
  events: readonly WorkspaceCreditsEvent[],
  now: number,
): BalanceAfter {
  const says = sayingAvailable(events);
  if (says) return { after: state, available: says.data.availableAfter };
  // A scratch list of spends: the fork must not add this append's spends to the state's own.
  const after = { ...forkState(state), consumptions: new RecentConsumptions() };
  for (const event of events) evolve(after, event);
  return { after, available: availableCredits(after.grants.values(), now) };
}
