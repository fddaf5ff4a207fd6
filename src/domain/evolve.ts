/**
 * `evolve` folds one event into the workspace state. The state is owned by one aggregate at a
 * time: evolve advances it in place and returns it, so that folding a long stream costs O(events),
 * not O(events × state). It applies what the event says and decides nothing: every number it adds
 * or takes away was worked out by the decision that wrote the event.
 */
import { mayStillBePaid } from './auto-top-up';
import type { Grant, Money } from './credits';
import type { PurchaseRefundRecord, TopUpRecord, WorkspaceCreditsState } from './state';
import type { RefundStatus, WorkspaceCreditsEvent } from './events';
import { evolveHold } from './evolve-holds';
import { ms, optionalMs } from './instants';
import { refundStatusRank } from './refund-status';
import { IDEMPOTENCY_RETENTION_MS } from './state';

function addGrant(
  state: WorkspaceCreditsState,
  grant: Pick<Grant, 'id' | 'source' | 'granted' | 'expiresAt' | 'grantedAt'>,
): void {
  if (grant.granted > 0) state.alerts.everFunded = true;
  // Field by field, not `{ ...grant, more }`: on Node 20 a literal that starts with a spread and adds
  // properties after it gets a hidden class of its own, and with one per grant every read of a
  // grant in a spend's drawdown would miss its inline cache.
  state.grants.set(grant.id, {
    id: grant.id,
    source: grant.source,
    granted: grant.granted,
    expiresAt: grant.expiresAt,
    grantedAt: grant.grantedAt,
    remaining: grant.granted,
    consumed: 0,
    expired: 0,
    refunded: 0,
    held: 0,
    frozen: false,
    seq: state.grants.size,
  });
}

function grantOf(state: WorkspaceCreditsState, grantId: string): Grant {
  const grant = state.grants.get(grantId);
  if (!grant) throw new Error(`Event refers to unknown grant ${grantId}`);
  return grant;
}

/** Credits leave a grant for a refund (or come back from one, with a negative count). */
function takeBack(grant: Grant, credits: number): void {
  grant.remaining -= credits;
  grant.refunded += credits;
}

/** A refund's status moves only forward: a late "pending" never undoes "succeeded" or "failed". */
function advance(refund: PurchaseRefundRecord | undefined, status: RefundStatus): void {
  if (refund && refundStatusRank(status) > refundStatusRank(refund.status)) refund.status = status;
}

/**
 * Money taken for a top-up that could not be credited: it counts against the month it was taken in,
 * as a payment credited then would (CreditsPurchased), beside what the top-up counts already.
 */
function collectedFor(topUp: TopUpRecord, taken: Money, takenAt: string): void {
  const before = topUp.collected;
  topUp.collected =
    before?.currency === taken.currency ? { amount: before.amount + taken.amount, currency: taken.currency } : taken;
  const takenIn = takenAt.slice(0, 7);
  if (takenIn > topUp.month) topUp.month = takenIn;
}

export function evolve(state: WorkspaceCreditsState, event: WorkspaceCreditsEvent): WorkspaceCreditsState {
  switch (event.type) {
    case 'PlanAllowanceApplied': {
      const { grantId, planId, planName, credits } = event.data;
      const periodStart = ms(event.data.periodStart);
      const periodEnd = ms(event.data.periodEnd);
      addGrant(state, {
        id: grantId,
        source: 'INCLUDED',
        granted: credits,
        expiresAt: periodEnd,
        grantedAt: ms(event.data.appliedAt),
      });
      if (state.period) state.replacedAllowances.add(state.period.grantId);
      state.period = { grantId, planId, planName, credits, periodStart, periodEnd };
      state.periods.set(periodStart, { planId, periodEnd });
      return state;
    }
    case 'CreditsPurchased': {
      const { grantId, credits, purchaseId, packageId, price, payment, checkoutId } = event.data;
      addGrant(state, {
        id: grantId,
        source: 'PURCHASED',
        granted: credits,
        expiresAt: optionalMs(event.data.expiresAt),
        grantedAt: ms(event.data.purchasedAt),
      });
      state.purchases.set(purchaseId, {
        purchaseId,
        grantId,
        packageId,
        credits,
        price,
        payment,
        amountReturned: 0,
        creditsRepaid: 0,
        creditsOwed: 0,
        creditsLapsed: 0,
        openDisputeId: undefined,
      });
      state.purchaseOfGrant.set(grantId, purchaseId);
      if (payment.provider === 'STRIPE') {
        state.purchaseOfPayment.set(payment.paymentIntentId, purchaseId);
        state.deferredFacts.delete(payment.paymentIntentId);
      }
      const checkout = checkoutId === undefined ? undefined : state.checkouts.get(checkoutId);
      if (checkout) checkout.status = 'PAID';
      if ('autoTopUpId' in payment) {
        const topUp = state.autoTopUp.topUps.get(payment.autoTopUpId);
        if (topUp) {
          // Paid while it was being charged, in a later month than it counts against (asked for in
          // a month's last moment): it counts against the month its payment was recorded in. One
          // that had failed, or was known not charged, stopped counting, and a later month's limit
          // may already be used up by others: a late payment of it stays in its own month.
          const paidIn = event.data.purchasedAt.slice(0, 7);
          if (mayStillBePaid(topUp) && paidIn > topUp.month) topUp.month = paidIn;
          topUp.status = 'SUCCEEDED';
          topUp.paymentIntentId = payment.paymentIntentId;
        }
      }
      return state;
    }
    case 'CreditsGranted': {
      const { grantId, credits, idempotencyKey, reason } = event.data;
      const expiresAt = optionalMs(event.data.expiresAt);
      addGrant(state, {
        id: grantId,
        source: 'PROMOTIONAL',
        granted: credits,
        expiresAt,
        grantedAt: ms(event.data.grantedAt),
      });
      state.grantKeys.set(idempotencyKey, { grantId, credits, reason, expiresAt });
      return state;
    }
    case 'CreditsConsumed': {
      const { drawdown } = event.data;
      for (const part of drawdown) {
        const grant = grantOf(state, part.grantId);
        grant.remaining -= part.credits;
        grant.consumed += part.credits;
      }
      const consumedAt = ms(event.data.consumedAt);
      state.consumptions.forgetBefore(consumedAt - IDEMPOTENCY_RETENTION_MS);
      state.consumptions.set({
        consumptionId: event.data.consumptionId,
        idempotencyKey: event.data.idempotencyKey,
        action: event.data.action,
        units: event.data.units,
        credits: event.data.credits,
        reference: event.data.reference,
        drawdown,
        availableAfter: event.data.availableAfter,
        consumedAt,
      });
      return state;
    }
    case 'CreditsExpired': {
      const grant = grantOf(state, event.data.grantId);
      grant.remaining -= event.data.credits;
      grant.expired += event.data.credits;
      if (event.data.reason === 'MONEY_RETURNED') {
        const purchase = state.purchases.get(state.purchaseOfGrant.get(grant.id) ?? '');
        if (purchase) {
          purchase.creditsOwed = Math.max(0, purchase.creditsOwed - event.data.credits);
          purchase.creditsLapsed += event.data.credits;
        }
      }
      return state;
    }
    case 'CreditPurchaseRefunded': {
      const { purchaseId, refundId, providerRefundId, credits, amount } = event.data;
      takeBack(grantOf(state, event.data.grantId), credits);
      const purchase = state.purchases.get(purchaseId);
      if (purchase) {
        purchase.amountReturned += amount.amount;
        purchase.creditsRepaid += credits;
      }
      state.purchaseRefunds.set(refundId, {
        refundId,
        purchaseId,
        origin: event.data.origin,
        providerRefundId,
        status: 'SUCCEEDED',
        credits,
        creditsOwed: 0,
        creditsRepaid: credits,
        paysFor: credits,
        amount,
        reason: event.data.reason,
        requestedAt: Date.parse(event.data.refundedAt),
      });
      if (providerRefundId !== undefined) state.providerRefunds.set(providerRefundId, refundId);
      return state;
    }
    case 'CreditConsumptionRefunded': {
      for (const part of event.data.drawdown) {
        const grant = grantOf(state, part.grantId);
        grant.remaining += part.credits;
        grant.consumed -= part.credits;
      }
      state.refundedConsumptions.set(event.data.consumptionId, event.data.reason);
      return state;
    }
    case 'CheckoutStarted':
      state.checkouts.set(event.data.checkoutId, {
        checkoutId: event.data.checkoutId,
        offer: event.data.offer,
        status: 'STARTED',
        sessionId: undefined,
      });
      return state;
    case 'CheckoutSessionOpened': {
      const checkout = state.checkouts.get(event.data.checkoutId);
      if (checkout) {
        checkout.status = 'OPEN';
        checkout.sessionId = event.data.sessionId;
      }
      return state;
    }
    case 'CheckoutSessionFailed': {
      const checkout = state.checkouts.get(event.data.checkoutId);
      if (checkout) checkout.status = 'FAILED';
      return state;
    }
    case 'CheckoutPaymentUpdated': {
      const checkout = state.checkouts.get(event.data.checkoutId);
      if (checkout) checkout.status = event.data.status === 'FAILED' ? 'PAYMENT_FAILED' : event.data.status;
      return state;
    }
    case 'PaidCheckoutNotCredited': {
      state.uncreditedSessions.add(event.data.sessionId);
      const topUp =
        event.data.autoTopUpId === undefined ? undefined : state.autoTopUp.topUps.get(event.data.autoTopUpId);
      // A new array, not a push: a fork of the state (forkState) shares its top-ups' fields.
      if (topUp)
        topUp.late = [
          ...(topUp.late ?? []),
          { month: event.data.receivedAt.slice(0, 7), money: event.data.amountPaid },
        ];
      return state;
    }
    case 'PurchaseRefundRequested': {
      const data = event.data;
      takeBack(grantOf(state, data.grantId), data.credits);
      const purchase = state.purchases.get(data.purchaseId);
      if (purchase) {
        purchase.amountReturned += data.amount.amount;
        purchase.creditsRepaid += data.creditsRepaid;
        purchase.creditsOwed += data.creditsOwed;
      }
      state.purchaseRefunds.set(data.refundId, {
        refundId: data.refundId,
        purchaseId: data.purchaseId,
        origin: data.origin,
        providerRefundId: data.providerRefundId,
        status: 'REQUESTED',
        // Events written by 87d53f2 may hold null for "all", as GraphQL passed it on.
        creditsAsked: data.creditsAsked ?? undefined,
        credits: data.credits,
        creditsOwed: data.creditsOwed,
        creditsRepaid: data.creditsRepaid,
        paysFor: data.paysFor,
        amount: data.amount,
        reason: data.reason,
        requestedAt: Date.parse(data.requestedAt),
      });
      if (data.providerRefundId !== undefined) state.providerRefunds.set(data.providerRefundId, data.refundId);
      if (data.idempotencyKey !== undefined) state.refundKeys.set(data.idempotencyKey, data.refundId);
      return state;
    }
    case 'PurchaseRefundPending': {
      const refund = state.purchaseRefunds.get(event.data.refundId);
      advance(refund, event.data.status);
      if (refund) refund.providerRefundId = event.data.providerRefundId;
      state.providerRefunds.set(event.data.providerRefundId, event.data.refundId);
      return state;
    }
    case 'PurchaseRefundSucceeded': {
      const { refundId, providerRefundId } = event.data;
      const refund = state.purchaseRefunds.get(refundId);
      advance(refund, 'SUCCEEDED');
      if (providerRefundId !== undefined) {
        if (refund) refund.providerRefundId = providerRefundId;
        state.providerRefunds.set(providerRefundId, refundId);
      }
      return state;
    }
    case 'PurchaseRefundFailed': {
      const data = event.data;
      const grant = grantOf(state, data.grantId);
      takeBack(grant, -data.credits);
      const restored = data.creditsRestored ?? 0;
      grant.remaining += restored;
      grant.expired -= restored;
      const purchase = state.purchases.get(data.purchaseId);
      if (purchase) {
        purchase.amountReturned -= data.amount.amount;
        purchase.creditsRepaid -= data.creditsRepaid;
        purchase.creditsOwed -= data.creditsOwed;
        purchase.creditsLapsed -= restored;
      }
      const refund = state.purchaseRefunds.get(data.refundId);
      advance(refund, data.status);
      if (data.providerRefundId !== undefined) {
        if (refund) refund.providerRefundId = data.providerRefundId;
        state.providerRefunds.set(data.providerRefundId, data.refundId);
      }
      return state;
    }
    case 'PurchaseDisputeOpened': {
      const { disputeId, purchaseId, amount } = event.data;
      grantOf(state, event.data.grantId).frozen = true;
      const purchase = state.purchases.get(purchaseId);
      if (purchase) purchase.openDisputeId = disputeId;
      state.disputes.set(disputeId, { disputeId, purchaseId, status: 'OPEN', amount, lost: { amount: 0, paysFor: 0 } });
      return state;
    }
    case 'PurchaseDisputeClosed': {
      const data = event.data;
      const grant = grantOf(state, data.grantId);
      grant.frozen = false;
      takeBack(grant, data.creditsTakenBack);
      const purchase = state.purchases.get(data.purchaseId);
      if (purchase) {
        if (purchase.openDisputeId === data.disputeId) purchase.openDisputeId = undefined;
        purchase.amountReturned += data.amountLost.amount;
        purchase.creditsRepaid += data.creditsRepaid;
        purchase.creditsOwed += data.creditsOwed;
      }
      const dispute = state.disputes.get(data.disputeId);
      if (dispute) {
        dispute.status = data.outcome;
        dispute.lost = { amount: data.amountLost.amount, paysFor: data.paysFor };
      }
      return state;
    }
    case 'AlertRulesConfigured':
      state.alerts.rules = event.data.rules;
      return state;
    case 'CreditsLow':
      state.alerts.low = true;
      return state;
    case 'CreditsDepleted':
      state.alerts.depleted = true;
      return state;
    case 'CreditsRecovered':
      state.alerts.low = event.data.stillLow === true;
      state.alerts.depleted = false;
      return state;
    case 'CreditsExpiringSoon':
      state.alerts.expiringNoticed.add(event.data.grantId);
      return state;
    case 'PaymentMethodSetupStarted':
      state.autoTopUp.setups.set(event.data.setupId, 'STARTED');
      return state;
    case 'PaymentCustomerCreated':
      state.autoTopUp.customerId ??= event.data.customerId;
      return state;
    case 'PaymentMethodSetupOpened':
      state.autoTopUp.setups.set(event.data.setupId, 'OPEN');
      return state;
    case 'PaymentMethodSetupFailed':
      state.autoTopUp.setups.set(event.data.setupId, 'FAILED');
      return state;
    case 'PaymentMethodSaved': {
      const { setupId, customerId, paymentMethodId, card } = event.data;
      const autoTopUp = state.autoTopUp;
      if (setupId !== null) autoTopUp.setups.set(setupId, 'SAVED');
      autoTopUp.customerId ??= customerId;
      autoTopUp.card = { paymentMethodId, customerId, card };
      // A new card is a billing manager acting: auto top-up resumes, and a crossing counts again.
      autoTopUp.paused = false;
      autoTopUp.armed = true;
      autoTopUp.limitSkippedIn = undefined;
      return state;
    }
    case 'PaymentMethodRemoved':
      if (state.autoTopUp.card?.paymentMethodId === event.data.paymentMethodId) state.autoTopUp.card = undefined;
      return state;
    case 'AutoTopUpConfigured':
      state.autoTopUp.settings = event.data.settings;
      state.autoTopUp.paused = false;
      state.autoTopUp.armed = true;
      state.autoTopUp.limitSkippedIn = undefined;
      return state;
    case 'AutoTopUpRequested': {
      const { topUpId, credits, amount, packageId, packageName, expiresAfterDays, month, paymentMethodId, available } =
        event.data;
      state.autoTopUp.topUps.set(topUpId, {
        topUpId,
        credits,
        amount,
        packageId,
        packageName,
        expiresAfterDays,
        month,
        status: 'REQUESTED',
        failedAttempts: 0,
        paymentIntentId: undefined,
        paymentMethodId,
        available,
      });
      state.autoTopUp.armed = false;
      state.autoTopUp.limitSkippedIn = undefined;
      return state;
    }
    case 'AutoTopUpSkipped':
      state.autoTopUp.armed = false;
      state.autoTopUp.limitSkippedIn =
        event.data.reason === 'MONTHLY_LIMIT' ? event.data.skippedAt.slice(0, 7) : undefined;
      return state;
    case 'AutoTopUpFailed': {
      const topUp = state.autoTopUp.topUps.get(event.data.topUpId);
      if (topUp) {
        topUp.failedAttempts = Math.max(topUp.failedAttempts, event.data.attempt);
        if (event.data.retryAt === null && topUp.status === 'REQUESTED') topUp.status = 'FAILED';
        if (event.data.collected !== undefined) collectedFor(topUp, event.data.collected, event.data.failedAt);
        if (event.data.retryMonth !== undefined) topUp.month = event.data.retryMonth;
      }
      return state;
    }
    case 'AutoTopUpRearmed':
      state.autoTopUp.armed = true;
      state.autoTopUp.limitSkippedIn = undefined;
      return state;
    case 'AutoTopUpPaused':
      state.autoTopUp.paused = true;
      return state;
    case 'AutoTopUpCanceled': {
      const topUp = state.autoTopUp.topUps.get(event.data.topUpId);
      if (topUp?.status === 'REQUESTED') {
        topUp.status = 'CANCELED';
        topUp.failedAtCancel = topUp.failedAttempts;
      }
      return state;
    }
    case 'ProviderEventDeferred': {
      const { paymentIntentId, fact, recordedBy } = event.data;
      const kept = state.deferredFacts.get(paymentIntentId) ?? [];
      state.deferredFacts.set(paymentIntentId, [...kept, { fact, recordedBy }]);
      return state;
    }
    case 'CreditsReserved':
    case 'CreditHoldSettled':
    case 'CreditHoldReleased':
    case 'CreditHoldExpired':
    case 'CreditHoldExtended':
      return evolveHold(state, event);
  }
}
