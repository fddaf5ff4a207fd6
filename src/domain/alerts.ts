/**
 * When a workspace's balance crosses a line: it falls below the low-balance threshold (CreditsLow),
 * reaches zero (CreditsDepleted), or climbs back to the threshold (CreditsRecovered). Each crossing
 * is a fact recorded once, in the same append as the change that crossed it, decided on the
 * workspace's stream: so a burst of spends gives one alert, and a replay or a second replica gives
 * the same alerts. Whether anyone is told (webhooks, the Billing page) is the workspace's choice,
 * kept in its alert rules; the crossings are recorded either way, which is what keeps one alert per
 * crossing true when a rule is switched on later.
 */
import { availableCredits } from './drawdown';
import { lowBalanceThreshold, type LowBalancePolicy } from './alert-rules';
import type { WorkspaceCreditsEvent } from './events';
import { evolve } from './evolve';
import { iso } from './instants';
import { RecentConsumptions } from './recent-consumptions';
import { forkState, type WorkspaceCreditsState } from './state';

/** Only these events leave `available` where CreditsConsumed's `availableAfter` says it is. */
const isSpendOnly = (events: readonly WorkspaceCreditsEvent[]): boolean =>
  events.at(-1)?.type === 'CreditsConsumed' &&
  events.every((event) => event.type === 'CreditsConsumed' || event.type === 'CreditsExpired');

/**
 * The crossings that `events` (just decided on `state`) make, at `now`. A spend says what it left
 * available; anything else is folded onto a copy of the state to find out.
 */
export function crossingsAfter(
  state: WorkspaceCreditsState,
  events: readonly WorkspaceCreditsEvent[],
  now: number,
  policy: LowBalancePolicy,
): WorkspaceCreditsEvent[] {
  if (events.length === 0) return [];
  let after: WorkspaceCreditsState = state;
  let available: number;
  const last = events[events.length - 1];
  if (last?.type === 'CreditsConsumed' && isSpendOnly(events)) {
    available = last.data.availableAfter;
  } else {
    // A scratch list of spends: the fork must not add this append's spends to the state's own.
    after = { ...forkState(state), consumptions: new RecentConsumptions() };
    for (const event of events) evolve(after, event);
    available = availableCredits(after.grants.values(), now);
  }
  const threshold = lowBalanceThreshold(after.alerts.rules, policy, after.period?.credits ?? 0);
  const workspaceId = events[0]?.data.workspaceId as string;
  const at = iso(now);
  const { notify } = after.alerts.rules;
  const crossings: WorkspaceCreditsEvent[] = [];
  const { low, depleted, everFunded } = after.alerts;
  const isLow = available < threshold;
  const isEmpty = available === 0;
  if (everFunded && isEmpty && !depleted) {
    crossings.push({
      type: 'CreditsDepleted',
      data: { workspaceId, threshold, notify: notify.depleted, depletedAt: at },
    });
  }
  if (everFunded && isLow && !low) {
    crossings.push({
      type: 'CreditsLow',
      data: { workspaceId, available, threshold, notify: notify.low, crossedAt: at },
    });
  } else if ((low || depleted) && !isLow && !isEmpty) {
    // Back at the threshold, and never at zero: with a threshold of 0, any credit recovers.
    crossings.push({
      type: 'CreditsRecovered',
      data: { workspaceId, available, threshold, notify: notify.recovered, crossedAt: at },
    });
  }
  return crossings;
}
