/**
 * When a workspace's balance crosses a line: it falls below the low-balance threshold (CreditsLow),
 * reaches zero (CreditsDepleted), or climbs back over the threshold and its hysteresis band
 * (CreditsRecovered; alert-rules.ts's recoveryThreshold). Each crossing
 * is a fact recorded once, in the same append as the change that crossed it, decided on the
 * workspace's stream: so a burst of spends gives one alert, and a replay or a second replica gives
 * the same alerts. Whether anyone is told (webhooks, the Billing page) is the workspace's choice,
 * kept in its alert rules; the crossings are recorded either way, which is what keeps one alert per
 * crossing true when a rule is switched on later.
 */
import { lowBalanceThreshold, recoveryThreshold, type LowBalancePolicy } from './alert-rules';
import type { BalanceAfter } from './balance-after';
import type { WorkspaceCreditsEvent } from './events';
import { iso } from './instants';

/** The crossings a command's events make, at `now`, given what they leave (balance-after.ts). */
export function crossingsAfter(
  { after, available }: BalanceAfter,
  workspaceId: string,
  now: number,
  policy: LowBalancePolicy,
): WorkspaceCreditsEvent[] {
  const threshold = lowBalanceThreshold(after.alerts.rules, policy, after.period?.credits ?? 0);
  // The instant is written only when something crosses: most commands cross nothing, and formatting
  // it was a good part of what this check cost every spend.
  const { notify } = after.alerts.rules;
  const crossings: WorkspaceCreditsEvent[] = [];
  const { low, depleted, everFunded } = after.alerts;
  const isLow = available < threshold;
  const isEmpty = available === 0;
  if (everFunded && isEmpty && !depleted) {
    crossings.push({
      type: 'CreditsDepleted',
      data: { workspaceId, threshold, notify: notify.depleted, depletedAt: iso(now) },
    });
  }
  if (everFunded && isLow && !low) {
    crossings.push({
      type: 'CreditsLow',
      data: { workspaceId, available, threshold, notify: notify.low, crossedAt: iso(now) },
    });
  } else if ((low || depleted) && available >= recoveryThreshold(threshold)) {
    // Back over the band above the threshold (never at zero: with a threshold of 0, one credit
    // recovers). Within the band a workspace that went low stays low, and dipping again raises nothing.
    crossings.push({
      type: 'CreditsRecovered',
      data: { workspaceId, available, threshold, notify: notify.recovered, crossedAt: iso(now) },
    });
  }
  return crossings;
}
