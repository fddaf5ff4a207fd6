/**
 * A workspace's alert rules: its low-balance threshold (its own, or the catalog's rule), which
 * crossings it wants to hear of, and how early it is told of credits about to expire.
 */
import type { AlertRules } from './events';

/** The catalog's low-balance rule, used by workspaces that set no threshold of their own. */
export interface LowBalancePolicy {
  minimumCredits: number;
  percentOfAllowance: number;
}

/** The catalog's default: below the larger of 100 credits (one org chart) and 10 % of the allowance. */
export const DEFAULT_LOW_BALANCE_POLICY: LowBalancePolicy = { minimumCredits: 100, percentOfAllowance: 10 };

/** A workspace that never set its rules hears of every crossing, with the catalog's threshold. */
export const DEFAULT_ALERT_RULES: AlertRules = {
  lowBalanceCredits: null,
  lowBalancePercent: null,
  notify: { low: true, depleted: true, recovered: true },
  expiringSoonDays: 7,
};

/** The most days before an expiry a workspace may be told of it. */
export const MAX_EXPIRING_SOON_DAYS = 90;

/**
 * Below this many available credits a workspace is low: its own threshold in credits, or its own
 * percentage of the plan's included credits, or the catalog's rule (which never drops below its
 * minimum, so a large allowance warns earlier and a small one still warns). A percentage of an
 * allowance the workspace does not have (no plan period yet, or a plan without included credits)
 * would be a threshold of 0 that never warns: the catalog's minimum stands in for it until there is
 * one. 0 % is a threshold of 0 either way (told only at depletion).
 */
export function lowBalanceThreshold(rules: AlertRules, policy: LowBalancePolicy, includedCredits: number): number {
  if (rules.lowBalanceCredits !== null) return rules.lowBalanceCredits;
  if (rules.lowBalancePercent !== null) {
    return includedCredits > 0 || rules.lowBalancePercent === 0
      ? Math.floor((includedCredits * rules.lowBalancePercent) / 100)
      : policy.minimumCredits;
  }
  return Math.max(policy.minimumCredits, Math.floor((includedCredits * policy.percentOfAllowance) / 100));
}

/**
 * The hysteresis band: a tenth of the threshold, one credit at least. A workspace that went low
 * recovers only once its available credits reach the threshold plus the band, so a balance that
 * wavers about the line, as holds reserved and settled or released make it do, is one CreditsLow,
 * not one per movement; a depleted one is out of depletion once the band is back (depletionCleared).
 */
export function hysteresisBand(threshold: number): number {
  return Math.max(1, Math.ceil(threshold / 10));
}

/** Where a low workspace recovers: the threshold plus its band. */
export function recoveryThreshold(threshold: number): number {
  return threshold + hysteresisBand(threshold);
}

/**
 * Where a depleted workspace is no longer depleted, though it may still be low: the band above
 * zero. So 0 → some credits → 0 is two depletions whatever the threshold, and a balance wavering
 * between 0 and a credit is one.
 */
export function depletionCleared(threshold: number): number {
  return hysteresisBand(threshold);
}
