/**
 * ConfigureAlerts: the workspace's alert rules, replaced whole. Setting the rules it already has
 * records nothing. A new threshold can put the balance on the other side of the line at once: the
 * crossing that makes is recorded with the rules (alerts.ts), as any other.
 */
import { isDeepStrictEqual } from 'node:util';
import { MAX_EXPIRING_SOON_DAYS } from '../alert-rules';
import type { ConfigureAlerts } from '../commands';
import { invalidCommand } from '../errors';
import type { AlertRules, AlertRulesConfigured } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';

export function configureAlerts(command: ConfigureAlerts, state: WorkspaceCreditsState): AlertRulesConfigured[] {
  const { workspaceId, rules, configuredBy, now } = command.data;
  requireValidRules(rules);
  if (isDeepStrictEqual(rules, state.alerts.rules)) return [];
  return [
    {
      type: 'AlertRulesConfigured',
      data: { workspaceId, rules: copyOf(rules), configuredBy, configuredAt: iso(now.getTime()) },
    },
  ];
}

function requireValidRules(rules: AlertRules): void {
  const { lowBalanceCredits, lowBalancePercent, expiringSoonDays } = rules;
  if (lowBalanceCredits !== null && lowBalancePercent !== null) {
    throw invalidCommand('Set the low-balance threshold in credits or in percent of the allowance, not both.');
  }
  if (lowBalanceCredits !== null && (!Number.isSafeInteger(lowBalanceCredits) || lowBalanceCredits < 0)) {
    throw invalidCommand(`lowBalanceCredits must be a whole number of credits, 0 or more, got ${lowBalanceCredits}.`);
  }
  if (
    lowBalancePercent !== null &&
    (!Number.isInteger(lowBalancePercent) || lowBalancePercent < 0 || lowBalancePercent > 100)
  ) {
    throw invalidCommand(`lowBalancePercent must be a whole number from 0 to 100, got ${lowBalancePercent}.`);
  }
  if (
    expiringSoonDays !== null &&
    (!Number.isInteger(expiringSoonDays) || expiringSoonDays < 1 || expiringSoonDays > MAX_EXPIRING_SOON_DAYS)
  ) {
    throw invalidCommand(
      `expiringSoonDays must be a whole number of days from 1 to ${MAX_EXPIRING_SOON_DAYS}, or null for no notice, got ${expiringSoonDays}.`,
    );
  }
}

/** Only the rule's own fields, in a fixed order: the event records exactly the rules. */
const copyOf = (rules: AlertRules): AlertRules => ({
  lowBalanceCredits: rules.lowBalanceCredits,
  lowBalancePercent: rules.lowBalancePercent,
  notify: { low: rules.notify.low, depleted: rules.notify.depleted, recovered: rules.notify.recovered },
  expiringSoonDays: rules.expiringSoonDays,
});
