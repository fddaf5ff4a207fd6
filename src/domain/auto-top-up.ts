/**
 * Auto top-up: when available credits fall below the workspace's threshold, one charge of its saved
 * card is requested for that crossing, in the same append as the change that crossed it, so a burst
 * of spends or a second replica requests it once (the stream decides). The next request needs the
 * balance back at the threshold first (AutoTopUpRearmed), and no charge may pass the monthly limit.
 * The charge itself is the payments reaction's, with a key derived from the request.
 */
import type { BalanceAfter } from './balance-after';
import type { Money } from './credits';
import type { AutoTopUpSettings, WorkspaceCreditsEvent } from './events';
import { iso } from './instants';
import type { PurchaseRecord, TopUpRecord, WorkspaceCreditsState } from './state';

/** The calendar month (UTC) an instant falls in, as YYYY-MM: the monthly limit's period. */
export const monthOf = (epochMs: number): string => iso(epochMs).slice(0, 7);

/** Whole minor units for `credits` at the package's price per credit, rounded up. */
const priceOf = (settings: AutoTopUpSettings, credits: number): number =>
  Math.ceil((credits * settings.packagePrice.amount) / settings.packageCredits);

/**
 * The charge for a crossing with `available` credits left: one package, or (with a target) the
 * credits that bring the balance back to the target, in one payment.
 */
export function topUpCharge(settings: AutoTopUpSettings, available: number): { credits: number; amount: Money } {
  const currency = settings.packagePrice.currency;
  if (settings.targetCredits === null) {
    return { credits: settings.packageCredits, amount: { amount: settings.packagePrice.amount, currency } };
  }
  const credits = Math.max(1, settings.targetCredits - Math.max(0, available));
  return { credits, amount: { amount: priceOf(settings, credits), currency } };
}

/** The largest single charge the settings can make (nothing left at all). */
export const largestCharge = (settings: AutoTopUpSettings): number => topUpCharge(settings, 0).amount.amount;

/**
 * Whether money may still come for a top-up: it is being charged, or it was canceled and no outcome
 * has been recorded since (a charge made just before the cancel, or one still processing, may yet be
 * paid). Such a top-up is in flight (no other is requested) and counts against the monthly limit.
 */
export const mayStillBePaid = (topUp: TopUpRecord): boolean =>
  topUp.status === 'REQUESTED' || (topUp.status === 'CANCELED' && topUp.failedAttempts === topUp.failedAtCancel);

/**
 * What top-ups counted against `month` (TopUpRecord.month) charge in `currency` (the monthly limit's): paid ones, those
 * whose money may still come, and money taken for one that could not be credited. Amounts in another currency (settings changed to a package priced in
 * it) are not added to these: a sum of dollars and euros is no amount, and the limit the billing
 * manager consented to is in its own currency.
 */
export function chargedInMonth(state: WorkspaceCreditsState, month: string, currency: string): number {
  let total = 0;
  for (const topUp of state.autoTopUp.topUps.values()) {
    // Money taken late for it counts in its own month, wherever the top-up counts.
    for (const late of topUp.late ?? []) {
      if (late.month === month && late.money.currency === currency) total += late.money.amount;
    }
    if (topUp.month !== month) continue;
    // Taken but not credited: what was taken is spent of the limit all the same, beside a payment
    // of it credited later (another attempt) or still to come.
    if (topUp.collected?.currency === currency) total += topUp.collected.amount;
    if (topUp.amount.currency !== currency) continue;
    if (topUp.status === 'SUCCEEDED' || mayStillBePaid(topUp)) total += topUp.amount.amount;
  }
  return total;
}

/**
 * Whether the card may be charged for a top-up now: it is still to be paid, auto top-up is on, and
 * the card it was requested on is still the saved one. The payments reaction asks before each charge.
 */
export function mayChargeTopUp(state: WorkspaceCreditsState, topUpId: string, paymentMethodId: string): boolean {
  const { settings, card, topUps } = state.autoTopUp;
  return (
    topUps.get(topUpId)?.status === 'REQUESTED' &&
    settings?.enabled === true &&
    card?.paymentMethodId === paymentMethodId
  );
}

/**
 * Top-ups still to be paid that must not be charged any more, whatever the command was: auto
 * top-up turned off or paused (a charge to its card disputed), the card they were requested on
 * removed or replaced, or (`settingsChanged`:
 * the command recorded other settings) the terms they were requested under changed. Consent is for
 * the settings and card in force; a retry after either changed would charge without it (a lower
 * limit passed, another package's price).
 */
export function canceledTopUps(
  state: WorkspaceCreditsState,
  workspaceId: string,
  now: number,
  settingsChanged = false,
): WorkspaceCreditsEvent[] {
  const { settings, card, paused } = state.autoTopUp;
  // One top-up at most is in flight, the newest: checked on every command, so looked up, not searched.
  const topUp = newestTopUp(state);
  if (topUp?.status !== 'REQUESTED') return [];
  const reason = !settings?.enabled
    ? 'TURNED_OFF'
    : card === undefined
      ? 'CARD_REMOVED'
      : card.paymentMethodId !== topUp.paymentMethodId
        ? 'CARD_REPLACED'
        : settingsChanged
          ? 'SETTINGS_CHANGED'
          : paused
            ? 'PAUSED'
            : undefined;
  if (reason === undefined) return [];
  return [{ type: 'AutoTopUpCanceled', data: { workspaceId, topUpId: topUp.topUpId, reason, canceledAt: iso(now) } }];
}

/**
 * A new dispute of a top-up's charge to the card still saved: its holder says that charge was not
 * theirs to pay, and charging the same card again on its own would only make more disputes. Auto
 * top-up pauses until a billing manager saves the settings again (consenting to them afresh) or
 * saves another card; a top-up still waiting for its retry is canceled with it (canceledTopUps).
 * Nothing when auto top-up is off or paused already, or the disputed charge was to another card.
 */
export function pausedForDispute(
  state: WorkspaceCreditsState,
  workspaceId: string,
  purchase: PurchaseRecord,
  disputeId: string,
  now: number,
): WorkspaceCreditsEvent[] {
  const { payment } = purchase;
  if (!('autoTopUpId' in payment)) return [];
  const { settings, card, paused, topUps } = state.autoTopUp;
  const topUp = topUps.get(payment.autoTopUpId);
  if (!settings?.enabled || paused || card === undefined || topUp?.paymentMethodId !== card.paymentMethodId) return [];
  const reason =
    `the card's holder disputed the charge of top-up ${payment.autoTopUpId} (dispute ${disputeId}); ` +
    'saving the settings again, or another card, starts auto top-up again';
  return [{ type: 'AutoTopUpPaused', data: { workspaceId, topUpId: payment.autoTopUpId, reason, pausedAt: iso(now) } }];
}

const inFlight = (state: WorkspaceCreditsState): boolean => [...state.autoTopUp.topUps.values()].some(mayStillBePaid);

const formatMoney = ({ amount, currency }: Money): string => {
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
};

/** Credits in words: 4,300. */
const credits = (count: number): string => new Intl.NumberFormat('en-US').format(count);

/** The terms a billing manager consents to, in words: recorded with the settings. */
export function autoTopUpTerms(settings: AutoTopUpSettings): string {
  if (!settings.enabled) return 'Auto top-up is off: the saved card is never charged automatically.';
  // A package named by its credits ("500 credits") is not named twice.
  const named = [`${settings.packageCredits} credits`, `${credits(settings.packageCredits)} credits`].includes(
    settings.packageName,
  )
    ? ''
    : ` (${settings.packageName})`;
  const what =
    settings.targetCredits === null
      ? `${formatMoney(settings.packagePrice)} for ${credits(settings.packageCredits)} credits${named}`
      : `for the credits that bring the balance back to ${credits(settings.targetCredits)}, at ${formatMoney(
          settings.packagePrice,
        )} per ${credits(settings.packageCredits)} credits rounded up (at most ${formatMoney({
          amount: largestCharge(settings),
          currency: settings.packagePrice.currency,
        })} a charge)`;
  return (
    `When available credits fall below ${credits(settings.thresholdCredits)}, the card saved for this workspace is charged ` +
    `${what}, once each time. At most ${formatMoney(settings.monthlyLimit)} is charged per calendar month (UTC). ` +
    'Auto top-up can be turned off at any time.'
  );
}

/** The next top-up's id: the crossing's place among the workspace's top-ups, so the stream decides it. */
const nextTopUpId = (state: WorkspaceCreditsState): string => `topup-${state.autoTopUp.topUps.size + 1}`;

/** The last top-up requested (ids count them: nextTopUpId). */
const newestTopUp = ({ autoTopUp: { topUps } }: WorkspaceCreditsState): TopUpRecord | undefined =>
  topUps.size === 0 ? undefined : topUps.get(`topup-${topUps.size}`);

/**
 * What auto top-up makes of a command's events (balance-after.ts): a top-up requested, or skipped
 * with the reason, when available falls below the threshold while armed; re-armed once back at it.
 * A top-up credited (`credited`) that would have brought the balance back to the threshold, had
 * nothing been spent while it was charged, re-arms at once when the balance is still below it: those
 * spends fell below the line again, a crossing of their own, and the next top-up is decided in the
 * same append (within the monthly limit) rather than wait for a rise that may never come. One that
 * could not reach the threshold anyway (a package smaller than the gap) answered its crossing once,
 * as the terms say.
 */
export function topUpsAfter(
  { after, available }: BalanceAfter,
  workspaceId: string,
  now: number,
  /** False for money going back to the buyer: a refund or a dispute is no reason to charge the card. */
  mayCharge = true,
  credited?: TopUpRecord,
): WorkspaceCreditsEvent[] {
  const { settings, paused, armed, card, limitSkippedIn } = after.autoTopUp;
  if (!settings?.enabled || paused) return [];
  const at = iso(now);
  const rearmed: WorkspaceCreditsEvent = { type: 'AutoTopUpRearmed', data: { workspaceId, available, rearmedAt: at } };
  if (available >= settings.thresholdCredits) return armed ? [] : [rearmed];
  const month = monthOf(now);
  const fellAgain = credited !== undefined && credited.available + credited.credits >= settings.thresholdCredits;
  const rearming = !armed && fellAgain && mayCharge && !inFlight(after);
  // Skipped for last month's limit: this month's limit is whole, and the balance is still low.
  const armedNow = armed || rearming || (limitSkippedIn !== undefined && limitSkippedIn !== month);
  if (!mayCharge || !armedNow || inFlight(after)) return [];
  const { credits, amount } = topUpCharge(settings, available);
  const first = rearming ? [rearmed] : [];
  const skipped = (reason: 'MONTHLY_LIMIT' | 'NO_PAYMENT_METHOD'): WorkspaceCreditsEvent[] => [
    ...first,
    { type: 'AutoTopUpSkipped', data: { workspaceId, reason, available, amount, skippedAt: at } },
  ];
  if (!card) return skipped('NO_PAYMENT_METHOD');
  const charged = chargedInMonth(after, month, settings.monthlyLimit.currency);
  if (charged + amount.amount > settings.monthlyLimit.amount) return skipped('MONTHLY_LIMIT');
  return [
    ...first,
    {
      type: 'AutoTopUpRequested',
      data: {
        workspaceId,
        topUpId: nextTopUpId(after),
        credits,
        amount,
        packageId: settings.packageId,
        packageName: settings.packageName,
        expiresAfterDays: settings.packageExpiresAfterDays,
        customerId: card.customerId,
        paymentMethodId: card.paymentMethodId,
        available,
        month,
        requestedAt: at,
      },
    },
  ];
}
