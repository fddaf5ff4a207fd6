/**
 * ConfigureAutoTopUp: a billing manager's settings and consent. The terms recorded are the ones the
 * settings make (auto-top-up.ts); a billing manager who was shown other terms (the price changed
 * meanwhile) is refused, so consent always matches what will be charged. Turning it on needs a
 * saved card; the same settings again record nothing, unless auto top-up paused itself since.
 */
import { isDeepStrictEqual } from 'node:util';
import { autoTopUpTerms, largestCharge, topUpCharge } from '../auto-top-up';
import type { ConfigureAutoTopUp, OffWithPackageNoLongerSold } from '../commands';
import { conflict, invalidCommand, notFound } from '../errors';
import type { AutoTopUpConfigured, AutoTopUpSettings } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';

/** Thresholds and targets beyond this are typos, not settings. */
const MOST_CREDITS = 1_000_000_000;
/**
 * The largest amount Stripe charges at once (8 digits of minor units: $999,999.99): a top-up above
 * it would fail at every attempt, so settings that could ask for one are refused.
 */
export const LARGEST_PROVIDER_CHARGE = 99_999_999;

/**
 * The smallest amount Stripe charges, in minor units, by currency (Stripe's table of minimum
 * charge amounts; 50 for the others): a top-up below it is refused at every attempt, and auto
 * top-up would pause.
 */
const SMALLEST_PROVIDER_CHARGE: Record<string, number> = {
  USD: 50,
  AED: 200,
  AUD: 50,
  BGN: 100,
  BRL: 50,
  CAD: 50,
  CHF: 50,
  CZK: 1500,
  DKK: 250,
  EUR: 50,
  GBP: 30,
  HKD: 400,
  HUF: 17500,
  INR: 50,
  JPY: 50,
  MXN: 1000,
  MYR: 200,
  NOK: 300,
  NZD: 50,
  PLN: 200,
  RON: 200,
  SEK: 300,
  SGD: 50,
  THB: 1000,
};
export const smallestProviderCharge = (currency: string): number => SMALLEST_PROVIDER_CHARGE[currency] ?? 50;

export function configureAutoTopUp(command: ConfigureAutoTopUp, state: WorkspaceCreditsState): AutoTopUpConfigured[] {
  const { workspaceId, acceptedBy, acceptedTerms, now } = command.data;
  const settings =
    'noLongerSold' in command.data.settings
      ? offFromSettingsInForce(command.data.settings, state)
      : command.data.settings;
  // Turning it off is never refused for settings the catalog has since made impossible (a price
  // now above the limit): withdrawing consent must always be possible.
  if (settings.enabled) requireValidSettings(settings);
  if (settings.enabled && !state.autoTopUp.card) {
    throw conflict('Save a card for this workspace before turning auto top-up on.');
  }
  const terms = autoTopUpTerms(settings);
  // Consent is to terms that were shown: turning it on records the terms the caller sends back.
  if (settings.enabled && acceptedTerms === undefined) {
    throw invalidCommand(
      `Show the terms (autoTopUpTerms) and send them back as acceptedTerms to turn auto top-up on. The terms: ${terms}`,
    );
  }
  if (acceptedTerms !== undefined && acceptedTerms !== terms) {
    throw conflict(`The terms changed since they were shown; show them again. The terms now: ${terms}`);
  }
  if (isDeepStrictEqual(settings, state.autoTopUp.settings) && !state.autoTopUp.paused) return [];
  return [
    {
      type: 'AutoTopUpConfigured',
      data: { workspaceId, settings: { ...settings }, consent: { acceptedBy, acceptedAt: iso(now.getTime()), terms } },
    },
  ];
}

/**
 * Settings turned off whose package the catalog no longer sells: the package as the settings in
 * force have it, with the threshold, target and limit proposed. A package the workspace never set
 * is unknown here too.
 */
function offFromSettingsInForce(proposal: OffWithPackageNoLongerSold, state: WorkspaceCreditsState): AutoTopUpSettings {
  const inForce = state.autoTopUp.settings;
  if (!inForce || inForce.packageId !== proposal.packageId) throw notFound('Credit package', proposal.packageId);
  return {
    ...inForce,
    enabled: false,
    thresholdCredits: proposal.thresholdCredits,
    targetCredits: proposal.targetCredits,
    monthlyLimit: { amount: proposal.monthlyLimit, currency: inForce.packagePrice.currency },
  };
}

/** Refuses settings that could not be turned on (BAD_USER_INPUT): the save and the terms query alike. */
export function requireValidSettings(settings: AutoTopUpSettings): void {
  const wholeCredits = (value: number): boolean => Number.isSafeInteger(value) && value >= 1 && value <= MOST_CREDITS;
  if (!wholeCredits(settings.thresholdCredits)) {
    throw invalidCommand(
      `thresholdCredits must be a whole number from 1 to ${MOST_CREDITS}, got ${settings.thresholdCredits}.`,
    );
  }
  if (settings.targetCredits !== null) {
    if (!wholeCredits(settings.targetCredits) || settings.targetCredits <= settings.thresholdCredits) {
      throw invalidCommand(
        `targetCredits must be a whole number above thresholdCredits (${settings.thresholdCredits}), got ${settings.targetCredits}.`,
      );
    }
  }
  const limit = settings.monthlyLimit;
  if (!Number.isSafeInteger(limit.amount) || limit.amount < 0) {
    throw invalidCommand(`monthlyLimit must be a whole amount in minor units, got ${limit.amount}.`);
  }
  if (limit.currency !== settings.packagePrice.currency) {
    throw invalidCommand(`monthlyLimit must be in ${settings.packagePrice.currency}, the package's currency.`);
  }
  const largest = largestCharge(settings);
  if (largest > LARGEST_PROVIDER_CHARGE) {
    throw invalidCommand(
      `A single top-up could be ${largest} in minor units; Stripe charges at most ${LARGEST_PROVIDER_CHARGE} at once. Choose a lower targetCredits.`,
    );
  }
  // The smallest top-up: one package, or with a target the one for a balance just below the threshold.
  const currency = settings.packagePrice.currency;
  const smallest = topUpCharge(settings, settings.thresholdCredits - 1).amount.amount;
  if (smallest < smallestProviderCharge(currency)) {
    throw invalidCommand(
      settings.targetCredits === null
        ? `The package costs ${smallest} in minor units; Stripe charges at least ${smallestProviderCharge(currency)} ${currency}. Choose a larger package.`
        : `A top-up could be as small as ${smallest} in minor units (from just below thresholdCredits to targetCredits); ` +
            `Stripe charges at least ${smallestProviderCharge(currency)} ${currency}. Choose a targetCredits further above thresholdCredits.`,
    );
  }
  if (limit.amount < largest) {
    throw invalidCommand(
      `monthlyLimit (${limit.amount}) is below a single top-up (${largest}): no top-up could ever be charged.`,
    );
  }
}
