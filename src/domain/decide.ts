/**
 * The workspace credits decider: given the state and a command, the events that command causes, or
 * a CreditsError that says why it is refused. A refusal causes no event at all. A repeated request
 * (same idempotency key, same payload) causes none either: its first result stands. Each command's
 * rules live in decisions/<command>.ts; this file only dispatches, on the state after the hold
 * expiries that are due (decisions/hold-expiries.ts), which go first in whatever the command appends.
 */
import type { WorkspaceCreditsCommand } from './commands';
import { applyPlanAllowance } from './decisions/apply-plan-allowance';
import { consumeCredits } from './decisions/consume-credits';
import { creditPaidCheckout } from './decisions/credit-paid-checkout';
import { expireCredits } from './decisions/expire-credits';
import { extendCreditHold } from './decisions/extend-credit-hold';
import { grantCredits } from './decisions/grant-credits';
import { expireDueHolds } from './decisions/hold-expiries';
import { purchaseCredits } from './decisions/purchase-credits';
import { recordCheckoutPayment } from './decisions/record-checkout-payment';
import { recordCheckoutSession } from './decisions/record-checkout-session';
import { recordProviderDispute } from './decisions/record-provider-dispute';
import { recordProviderRefund } from './decisions/record-provider-refund';
import { refundCreditConsumption } from './decisions/refund-credit-consumption';
import { releaseCreditHold } from './decisions/release-credit-hold';
import { requestPurchaseRefund } from './decisions/request-purchase-refund';
import { reserveCredits } from './decisions/reserve-credits';
import { settleCreditHold } from './decisions/settle-credit-hold';
import { startCheckout } from './decisions/start-checkout';
import type { WorkspaceCreditsEvent } from './events';
import type { WorkspaceCreditsState } from './state';

export function decide(command: WorkspaceCreditsCommand, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const due = expireDueHolds(state, command.data.workspaceId, command.data.now.getTime());
  if (due.events.length === 0) return decideCommand(command, state);
  const decided = decideCommand(command, due.state);
  // A command that records nothing (a retry) appends nothing; expiring is the sweep's whole point.
  if (decided.length === 0 && command.type !== 'ExpireCredits') return [];
  return [...due.events, ...decided];
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
  }
}
