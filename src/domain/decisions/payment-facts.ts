/**
 * What the payment provider's facts about a purchase's payment do: a refund's status, a refund
 * made in the provider's dashboard, a dispute opened or closed. Facts arrive at least once and in
 * any order, so each is applied once and a status never moves back (refund-status.ts). A fact about
 * a payment this workspace has not recorded as a purchase yet is kept (ProviderEventDeferred) and
 * applied in the append that records the purchase, so the final state does not depend on order.
 */
import { pausedForDispute } from '../auto-top-up';
import { isDueToExpire } from '../drawdown';
import type { ProviderDisputeFact, ProviderPaymentFact, ProviderRefundFact, WorkspaceCreditsEvent } from '../events';
import { evolve } from '../evolve';
import { lapsesOnReturn } from '../given-back';
import { iso } from '../instants';
import { paidBackBy, paysFor, unpaidBy } from '../purchase-money';
import { refundStatusRank } from '../refund-status';
import { forkState, type PurchaseRecord, type PurchaseRefundRecord, type WorkspaceCreditsState } from '../state';
import { expiry } from './expiries';

/** The fact's effect when its purchase is known, or keeping it until the purchase is recorded. */
export function decideOrDefer(
  state: WorkspaceCreditsState,
  workspaceId: string,
  paymentIntentId: string,
  fact: ProviderPaymentFact,
  now: number,
  recordedBy: string,
): WorkspaceCreditsEvent[] {
  const purchase = state.purchases.get(state.purchaseOfPayment.get(paymentIntentId) ?? '');
  if (purchase) return decideFact(state, workspaceId, purchase, fact, now, recordedBy);
  const kept = state.deferredFacts.get(paymentIntentId) ?? [];
  if (kept.some((earlier) => JSON.stringify(earlier.fact) === JSON.stringify(fact))) return [];
  return [
    { type: 'ProviderEventDeferred', data: { workspaceId, paymentIntentId, fact, recordedBy, receivedAt: iso(now) } },
  ];
}

/**
 * The effects of every fact kept for a payment, decided after `recorded` (the events that record its
 * purchase, already decided on `state`), on a fork of the state so that `state` stays as it was.
 */
export function applyDeferredFacts(
  state: WorkspaceCreditsState,
  workspaceId: string,
  paymentIntentId: string,
  recorded: readonly WorkspaceCreditsEvent[],
  now: number,
): WorkspaceCreditsEvent[] {
  const facts = state.deferredFacts.get(paymentIntentId);
  if (!facts || facts.length === 0) return [];
  const fork = forkState(state);
  for (const event of recorded) evolve(fork, event);
  const purchase = fork.purchases.get(fork.purchaseOfPayment.get(paymentIntentId) ?? '');
  if (!purchase) return [];
  const events: WorkspaceCreditsEvent[] = [];
  for (const { fact, recordedBy } of facts) {
    for (const event of decideFact(fork, workspaceId, purchase, fact, now, recordedBy)) {
      evolve(fork, event);
      events.push(event);
    }
  }
  return events;
}

function decideFact(
  state: WorkspaceCreditsState,
  workspaceId: string,
  purchase: PurchaseRecord,
  fact: ProviderPaymentFact,
  now: number,
  recordedBy: string,
): WorkspaceCreditsEvent[] {
  return fact.kind === 'REFUND'
    ? decideRefund(state, workspaceId, purchase, fact.refund, now, recordedBy)
    : decideDispute(state, workspaceId, purchase, fact.dispute, now);
}

/** Credits of the purchase's grant that money going back can take: what it has left, unless expired. */
function takeable(state: WorkspaceCreditsState, purchase: PurchaseRecord, now: number): number {
  const grant = state.grants.get(purchase.grantId);
  return grant && !isDueToExpire(grant, now) ? grant.remaining : 0;
}

const providerRefundIdOf = (fact: ProviderRefundFact): { providerRefundId?: string } =>
  fact.providerRefundId === undefined ? {} : { providerRefundId: fact.providerRefundId };

/** The provider payment of a purchase paid through the provider. */
export const paymentOf = (purchase: PurchaseRecord): { paymentIntentId?: string } =>
  purchase.payment.provider === 'STRIPE' ? { paymentIntentId: purchase.payment.paymentIntentId } : {};

/**
 * Money the provider says went back, as it says it: never trimmed to what this stream thinks is
 * left, because its messages come in any order (a refund here may have failed there already).
 */
const moneyBack = (amount: number): number => Math.max(0, amount);

/**
 * The refund of ours a provider's report is about. Its provider refund id says so for certain. The
 * refund id in its metadata only names one of ours that has no provider refund yet (its answer was
 * lost) and is of the same purchase: metadata is anyone's to write at the provider, and a refund
 * made there by hand with a copy of ours (support issuing again one that failed) is another refund,
 * whose money must be recorded, not taken for a status change of ours.
 */
function knownRefund(
  state: WorkspaceCreditsState,
  purchase: PurchaseRecord,
  fact: ProviderRefundFact,
): PurchaseRefundRecord | undefined {
  const byProvider =
    fact.providerRefundId === undefined
      ? undefined
      : state.purchaseRefunds.get(state.providerRefunds.get(fact.providerRefundId) ?? '');
  if (byProvider) return byProvider;
  const named = fact.refundId === undefined ? undefined : state.purchaseRefunds.get(fact.refundId);
  return named && named.providerRefundId === undefined && named.purchaseId === purchase.purchaseId ? named : undefined;
}

function decideRefund(
  state: WorkspaceCreditsState,
  workspaceId: string,
  purchase: PurchaseRecord,
  fact: ProviderRefundFact,
  now: number,
  recordedBy: string,
): WorkspaceCreditsEvent[] {
  const known = knownRefund(state, purchase, fact);
  if (known) {
    return known.purchaseId === purchase.purchaseId
      ? refundStatusChange(state, workspaceId, purchase, known, fact, now)
      : [];
  }
  // A refund made at the provider directly. One first heard of as failed or canceled is recorded
  // as made and failed at once (nothing moves), so that a late report of it succeeding is ignored.
  if (fact.providerRefundId === undefined) return [];
  const amount = moneyBack(fact.amount);
  const back = { amount, paysFor: paysFor(purchase, amount) };
  const paid = paidBackBy(state, purchase, back, takeable(state, purchase, now));
  const refundId = `provider-${fact.providerRefundId}`;
  const requested: WorkspaceCreditsEvent = {
    type: 'PurchaseRefundRequested',
    data: {
      workspaceId,
      refundId,
      purchaseId: purchase.purchaseId,
      grantId: purchase.grantId,
      origin: 'PROVIDER',
      ...paymentOf(purchase),
      providerRefundId: fact.providerRefundId,
      credits: paid.takenBack,
      creditsOwed: paid.owed,
      creditsRepaid: paid.creditsRepaid,
      paysFor: back.paysFor,
      amount: { amount, currency: purchase.price.currency },
      reason: fact.reason ?? 'refunded at the payment provider',
      requestedBy: recordedBy,
      requestedAt: iso(now),
    },
  };
  const record: PurchaseRefundRecord = {
    refundId,
    purchaseId: purchase.purchaseId,
    origin: 'PROVIDER',
    providerRefundId: fact.providerRefundId,
    status: 'REQUESTED',
    credits: paid.takenBack,
    creditsOwed: paid.owed,
    creditsRepaid: paid.creditsRepaid,
    paysFor: back.paysFor,
    amount: { amount, currency: purchase.price.currency },
    reason: requested.data.reason,
    requestedAt: now,
  };
  // Decided on the state with this refund recorded, so that a failure reported at once undoes it.
  const fork = forkState(state);
  evolve(fork, requested);
  const recorded = fork.purchases.get(purchase.purchaseId) ?? purchase;
  return [requested, ...refundStatusChange(fork, workspaceId, recorded, record, fact, now)];
}

/** A known refund's status moving forward, with its credits back when it failed. */
function refundStatusChange(
  state: WorkspaceCreditsState,
  workspaceId: string,
  purchase: PurchaseRecord,
  refund: PurchaseRefundRecord,
  fact: ProviderRefundFact,
  now: number,
): WorkspaceCreditsEvent[] {
  if (refundStatusRank(fact.status) <= refundStatusRank(refund.status)) return [];
  const ids = { workspaceId, refundId: refund.refundId, purchaseId: refund.purchaseId };
  switch (fact.status) {
    case 'PENDING':
    case 'REQUIRES_ACTION':
      if (fact.providerRefundId === undefined) return [];
      return [
        {
          type: 'PurchaseRefundPending',
          data: { ...ids, providerRefundId: fact.providerRefundId, status: fact.status, updatedAt: iso(now) },
        },
      ];
    case 'SUCCEEDED':
      return [
        {
          type: 'PurchaseRefundSucceeded',
          data: { ...ids, ...providerRefundIdOf(fact), succeededAt: iso(now) },
        },
      ];
    case 'FAILED':
    case 'CANCELED': {
      const grant = state.grants.get(purchase.grantId);
      const unpaid = unpaidBy(state, purchase, refund.refundId, grant?.refunded ?? 0);
      const events: WorkspaceCreditsEvent[] = [
        {
          type: 'PurchaseRefundFailed',
          data: {
            ...ids,
            grantId: purchase.grantId,
            ...providerRefundIdOf(fact),
            status: fact.status,
            reason: fact.reason ?? `the payment provider reported the refund ${fact.status.toLowerCase()}`,
            credits: unpaid.takenBack,
            creditsOwed: unpaid.owed,
            creditsRepaid: unpaid.creditsRepaid,
            ...(unpaid.restored > 0 && { creditsRestored: unpaid.restored }),
            amount: refund.amount,
            failedAt: iso(now),
          },
        },
      ];
      const moneyAfter = {
        price: purchase.price,
        amountReturned: purchase.amountReturned - refund.amount.amount,
        creditsOwed: purchase.creditsOwed - unpaid.owed,
      };
      if (grant) {
        for (const lapse of lapsesOnReturn(state, grant, unpaid.takenBack + unpaid.restored, now, moneyAfter)) {
          events.push(expiry(workspaceId, grant, lapse.credits, lapse.reason, now));
        }
      }
      return events;
    }
  }
}

function decideDispute(
  state: WorkspaceCreditsState,
  workspaceId: string,
  purchase: PurchaseRecord,
  fact: ProviderDisputeFact,
  now: number,
): WorkspaceCreditsEvent[] {
  const existing = state.disputes.get(fact.disputeId);
  const events: WorkspaceCreditsEvent[] = [];
  const ids = { workspaceId, disputeId: fact.disputeId, purchaseId: purchase.purchaseId, grantId: purchase.grantId };
  if (existing) {
    if (existing.status !== 'OPEN' || fact.status === 'OPEN') return [];
  } else {
    events.push({
      type: 'PurchaseDisputeOpened',
      data: {
        ...ids,
        amount: { amount: fact.amount, currency: purchase.price.currency },
        reason: fact.reason,
        creditsHeld: takeable(state, purchase, now),
        creditsSpent: state.grants.get(purchase.grantId)?.consumed ?? 0,
        openedAt: iso(now),
      },
    });
    events.push(...pausedForDispute(state, workspaceId, purchase, fact.disputeId, now));
    if (fact.status === 'OPEN') return events;
  }
  const lost = fact.status === 'LOST';
  const amountLost = lost ? moneyBack(fact.amount) : 0;
  const back = { amount: amountLost, paysFor: paysFor(purchase, amountLost) };
  const paid = lost
    ? paidBackBy(state, purchase, back, takeable(state, purchase, now))
    : { creditsRepaid: 0, takenBack: 0, owed: 0 };
  events.push({
    type: 'PurchaseDisputeClosed',
    data: {
      ...ids,
      outcome: lost ? 'LOST' : 'WON',
      creditsTakenBack: paid.takenBack,
      creditsOwed: paid.owed,
      creditsRepaid: paid.creditsRepaid,
      paysFor: back.paysFor,
      amountLost: { amount: amountLost, currency: purchase.price.currency },
      closedAt: iso(now),
    },
  });
  return events;
}
