/**
 * When a workspace's balance crosses a line: it falls below the low-balance threshold (CreditsLow),
 * reaches zero (CreditsDepleted), or climbs back: over the threshold and its hysteresis band
 * (CreditsRecovered; alert-rules.ts), or, from zero, over the band alone while still below the
 * threshold (CreditsRecovered marked stillLow: no longer depleted, still low). Each crossing is a
 * fact recorded once, in the same append as the change that crossed it, decided on the workspace's
 * stream: so a burst of spends gives one alert, and a replay or a second replica gives the same
 * alerts. Whether anyone is told (webhooks, the Billing page) is the workspace's choice, kept in its
 * alert rules; the crossings are recorded either way, which is what keeps one alert per crossing
 * true when a rule is switched on later.
 */
import { depletionCleared, lowBalanceThreshold, recoveryThreshold, type LowBalancePolicy } from './alert-rules';
import type { BalanceAfter } from './balance-after';
import type { WorkspaceCreditsState } from './state';
import type { WorkspaceCreditsEvent } from './events';
import { iso } from './instants';

/**
 * The crossings a command's events make, at `now`, given what they leave (balance-after.ts) and
 * the threshold before them. The band keeps a balance wavering about one line from alerting on
 * every movement; a line the command moved (new rules, or a new plan period under a percentage) is
 * a new line, and the balance is judged against it alone: a low workspace at or above a lowered
 * threshold recovers, so the next drop below it is told. Nothing recovers at zero.
 */
export function crossingsAfter(
  { after, available }: BalanceAfter,
  workspaceId: string,
  now: number,
  policy: LowBalancePolicy,
  thresholdBefore: number,
): WorkspaceCreditsEvent[] {
  const threshold = thresholdOf(after, policy);
  const { low, depleted, everFunded } = after.alerts;
  // Most commands cross nothing: the common case returns before anything is built (the instant is
  // formatted only when something crosses; doing it always was a good part of what this cost a spend).
  const isLow = available < threshold;
  const isEmpty = available === 0;
  const recoversAt = threshold !== thresholdBefore ? threshold : recoveryThreshold(threshold);
  const lowCrossed = everFunded && isLow && !low;
  const depletedCrossed = everFunded && isEmpty && !depleted;
  const recovered = (low || depleted) && available >= recoversAt && !isLow && !isEmpty;
  const outOfDepletion = !recovered && depleted && available >= depletionCleared(threshold);
  if (!lowCrossed && !depletedCrossed && !recovered && !outOfDepletion) return [];

  const { notify } = after.alerts.rules;
  const crossedAt = iso(now);
  const crossings: WorkspaceCreditsEvent[] = [];
  // Low before depleted: a receiver that keeps the last state it was told ends on the deeper one.
  if (lowCrossed) {
    crossings.push({ type: 'CreditsLow', data: { workspaceId, available, threshold, notify: notify.low, crossedAt } });
  }
  if (depletedCrossed) {
    crossings.push({
      type: 'CreditsDepleted',
      data: { workspaceId, threshold, notify: notify.depleted, depletedAt: crossedAt },
    });
  } else if (recovered || outOfDepletion) {
    // Within the band a workspace that went low stays low, and dipping again raises nothing; with a
    // threshold of 0, one credit recovers.
    crossings.push({
      type: 'CreditsRecovered',
      data: { workspaceId, available, threshold, notify: notify.recovered, crossedAt, stillLow: outOfDepletion },
    });
  }
  return crossings;
}

/** The workspace's low-balance threshold in `state`. */
export const thresholdOf = (state: WorkspaceCreditsState, policy: LowBalancePolicy): number =>
  lowBalanceThreshold(state.alerts.rules, policy, state.period?.credits ?? 0);
