/**
 * The workspace credits decider: given the state and a command, the events that command causes, or
 * a CreditsError that says why it is refused. A refusal causes no event at all. A repeated request
 * (same idempotency key, same payload) causes none either: its first result stands. Each command's
 * rules live in decisions/<command>.ts; this file dispatches, on the state after the hold expiries
 * that are due (decisions/hold-expiries.ts), which go first in whatever the command appends; and it
 * adds what all those events make of the lines the balance may cross (alerts.ts, auto-top-up.ts),
 * in the same append.
 */
import { DEFAULT_LOW_BALANCE_POLICY, type LowBalancePolicy } from './alert-rules';
import { crossingsAfter, thresholdOf } from './alerts';
import { canceledTopUps, topUpsAfter } from './auto-top-up';
import { balanceAfter } from './balance-after';
import type { WorkspaceCreditsCommand } from './commands';
import { configureAlerts } from './decisions/configure-alerts';
import { configureAutoTopUp } from './decisions/configure-auto-top-up';
import { applyPlanAllowance } from './decisions/apply-plan-allowance';
import { consumeCredits } from './decisions/consume-credits';
import { creditPaidCheckout } from './decisions/credit-paid-checkout';
import { expireCredits } from './decisions/expire-credits';
import { extendCreditHold } from './decisions/extend-credit-hold';
import { grantCredits } from './decisions/grant-credits';
import { expireDueHolds } from './decisions/hold-expiries';
import { noticeExpiringCredits } from './decisions/notice-expiring-credits';
import { purchaseCredits } from './decisions/purchase-credits';
import { recordAutoTopUpCharge } from './decisions/record-auto-top-up-charge';
import { recordCheckoutPayment } from './decisions/record-checkout-payment';
import { recordCheckoutSession } from './decisions/record-checkout-session';
import { recordProviderDispute } from './decisions/record-provider-dispute';
import { recordProviderRefund } from './decisions/record-provider-refund';
import { recordPaymentMethodSetup } from './decisions/record-payment-method-setup';
import { refundCreditConsumption } from './decisions/refund-credit-consumption';
import { releaseCreditHold } from './decisions/release-credit-hold';
import { removePaymentMethod } from './decisions/remove-payment-method';
import { requestPurchaseRefund } from './decisions/request-purchase-refund';
import { reserveCredits } from './decisions/reserve-credits';
import { settleCreditHold } from './decisions/settle-credit-hold';
import { startCheckout } from './decisions/start-checkout';
import { startPaymentMethodSetup } from './decisions/start-payment-method-setup';
import type { WorkspaceCreditsEvent } from './events';
import type { TopUpRecord, WorkspaceCreditsState } from './state';

/**
 * Commands that return a purchase's money to the buyer (a refund, asked for here or made at the
 * provider; a dispute): the balance they lower is no reason to charge the card again at once (the
 * card of a refunded top-up, or one whose holder disputes a charge). The next change below the
 * threshold tops up as usual, and one that brings the balance back (a refund that failed) re-arms.
 */
export const MONEY_GOING_BACK: ReadonlySet<WorkspaceCreditsCommand['type']> = new Set([
  'RequestPurchaseRefund',
  'RecordProviderRefund',
  'RecordProviderDispute',
]);

/** `policy`: the catalog's low-balance rule, for workspaces that set no threshold of their own. */
export function decide(
  command: WorkspaceCreditsCommand,
  state: WorkspaceCreditsState,
  policy: LowBalancePolicy = DEFAULT_LOW_BALANCE_POLICY,
): WorkspaceCreditsEvent[] {
  const now = command.data.now.getTime();
  const { workspaceId } = command.data;
  const due = expireDueHolds(state, workspaceId, now);
  const decided = decideCommand(command, due.state);
  // A command that records nothing (a retry) appends nothing; expiring is the sweep's whole point.
  if (decided.length === 0 && command.type !== 'ExpireCredits') return [];
  // With nothing to expire, time alone may still have made a top-up due: a new month after a skip
  // for the monthly limit, in a workspace whose spends are all refused. The sweep records that, or
  // nothing.
  if (decided.length === 0 && due.events.length === 0)
    return topUpsAfter(balanceAfter(state, [], now), workspaceId, now);
  const decidedEvents = due.events.length === 0 ? decided : [...due.events, ...decided];
  // A top-up whose consent or card is gone (turned off, other settings, card removed or replaced) is
  // canceled in the same append, before the crossing is decided again (on a new card).
  let after = balanceAfter(state, decidedEvents, now);
  const settingsChanged = decided.some((event) => event.type === 'AutoTopUpConfigured');
  const canceled = canceledTopUps(after.after, workspaceId, now, settingsChanged);
  const events = canceled.length === 0 ? decidedEvents : [...decidedEvents, ...canceled];
  // Held credits are out of the grants' remaining, so what is left available counts them as gone.
  if (canceled.length > 0) after = balanceAfter(state, events, now);
  const follow = [
    ...crossingsAfter(after, workspaceId, now, policy, thresholdOf(state, policy)),
    ...topUpsAfter(after, workspaceId, now, mayCharge(command, decided), creditedTopUp(after.after, decided)),
  ];
  return follow.length === 0 ? events : [...events, ...follow];
}

/**
 * Whether the command's events may charge the card: not when money goes back to the buyer, by the
 * command (a refund, a dispute) or by what it records with it (a refund or a dispute the provider
 * reported before the payment, applied with the top-up's credit).
 */
const mayCharge = (command: WorkspaceCreditsCommand, decided: readonly WorkspaceCreditsEvent[]): boolean =>
  !MONEY_GOING_BACK.has(command.type) &&
  !decided.some((event) => event.type === 'PurchaseRefundRequested' || event.type === 'PurchaseDisputeOpened');

/** The top-up the command's events credit, if they credit one. */
function creditedTopUp(
  state: WorkspaceCreditsState,
  decided: readonly WorkspaceCreditsEvent[],
): TopUpRecord | undefined {
  for (const event of decided) {
    if (event.type === 'CreditsPurchased' && 'autoTopUpId' in event.data.payment) {
      return state.autoTopUp.topUps.get(event.data.payment.autoTopUpId);
    }
  }
  return undefined;
}

function decideCommand(command: WorkspaceCreditsCommand, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  switch (command.type) {
    case 'ApplyPlanAllowance':
      return applyPlanAllowance(command, state);
    case 'PurchaseCredits':
      return purchaseCredits(command, state);
    case 'GrantCredits':
      return grantCredits(command, state);
    case 'ConsumeCredits':
      return consumeCredits(command, state);
    case 'ExpireCredits':
      return expireCredits(command, state);
    case 'RefundCreditConsumption':
      return refundCreditConsumption(command, state);
    case 'RequestPurchaseRefund':
      return requestPurchaseRefund(command, state);
    case 'RecordProviderRefund':
      return recordProviderRefund(command, state);
    case 'RecordProviderDispute':
      return recordProviderDispute(command, state);
    case 'StartCheckout':
      return startCheckout(command, state);
    case 'RecordCheckoutSession':
      return recordCheckoutSession(command, state);
    case 'CreditPaidCheckout':
      return creditPaidCheckout(command, state);
    case 'RecordCheckoutPayment':
      return recordCheckoutPayment(command, state);
    case 'ReserveCredits':
      return reserveCredits(command, state);
    case 'SettleCreditHold':
      return settleCreditHold(command, state);
    case 'ReleaseCreditHold':
      return releaseCreditHold(command, state);
    case 'ExtendCreditHold':
      return extendCreditHold(command, state);
    case 'ConfigureAlerts':
      return configureAlerts(command, state);
    case 'NoticeExpiringCredits':
      return noticeExpiringCredits(command, state);
    case 'ConfigureAutoTopUp':
      return configureAutoTopUp(command, state);
    case 'StartPaymentMethodSetup':
      return startPaymentMethodSetup(command, state);
    case 'RecordPaymentMethodSetup':
      return recordPaymentMethodSetup(command, state);
    case 'RemovePaymentMethod':
      return removePaymentMethod(command, state);
    case 'RecordAutoTopUpCharge':
      return recordAutoTopUpCharge(command, state);
  }
}
