/**
 * The workspace credits decider: given the state and a command, the events that command causes, or
 * a CreditsError that says why it is refused. A refusal causes no event at all. A repeated request
 * (same idempotency key, same payload) causes none either: its first result stands. Each command's
 * rules live in decisions/<command>.ts; this file dispatches, and adds the balance crossings the
 * command's events make (alerts.ts), so they are recorded in the same append.
 */
import { DEFAULT_LOW_BALANCE_POLICY, type LowBalancePolicy } from './alert-rules';
import { crossingsAfter } from './alerts';
import type { WorkspaceCreditsCommand } from './commands';
import { configureAlerts } from './decisions/configure-alerts';
import { applyPlanAllowance } from './decisions/apply-plan-allowance';
import { consumeCredits } from './decisions/consume-credits';
import { creditPaidCheckout } from './decisions/credit-paid-checkout';
import { expireCredits } from './decisions/expire-credits';
import { grantCredits } from './decisions/grant-credits';
import { noticeExpiringCredits } from './decisions/notice-expiring-credits';
import { purchaseCredits } from './decisions/purchase-credits';
import { recordCheckoutPayment } from './decisions/record-checkout-payment';
import { recordCheckoutSession } from './decisions/record-checkout-session';
import { recordProviderDispute } from './decisions/record-provider-dispute';
import { recordProviderRefund } from './decisions/record-provider-refund';
import { refundCreditConsumption } from './decisions/refund-credit-consumption';
import { requestPurchaseRefund } from './decisions/request-purchase-refund';
import { startCheckout } from './decisions/start-checkout';
import type { WorkspaceCreditsEvent } from './events';
import type { WorkspaceCreditsState } from './state';

/** `policy`: the catalog's low-balance rule, for workspaces that set no threshold of their own. */
export function decide(
  command: WorkspaceCreditsCommand,
  state: WorkspaceCreditsState,
  policy: LowBalancePolicy = DEFAULT_LOW_BALANCE_POLICY,
): WorkspaceCreditsEvent[] {
  const events = decideCommand(command, state);
  if (events.length === 0) return events;
  const crossings = crossingsAfter(state, events, command.data.now.getTime(), policy);
  return crossings.length === 0 ? events : [...events, ...crossings];
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
    case 'ConfigureAlerts':
      return configureAlerts(command, state);
    case 'NoticeExpiringCredits':
      return noticeExpiringCredits(command, state);
  }
}
