/**
 * The workspace credits state the decider decides against, and `evolve`, which folds one event
 * into it. The state is owned by one aggregate at a time: `evolve` advances it in place and
 * returns it, so that folding a long stream costs O(events), not O(events × state).
 */
import type { Grant, Money } from './credits';
import type { PurchasePayment, WorkspaceCreditsEvent } from './events';
import { ms, optionalMs } from './instants';
import { RecentConsumptions } from './recent-consumptions';

export type { ConsumptionRecord } from './recent-consumptions';

/**
 * How long an idempotency key is remembered after its first use. Retries inside this window return
 * the first result; the contract promises at least 24 hours.
 */
export const IDEMPOTENCY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface CurrentPeriod {
  grantId: string;
  planId: string;
  planName: string;
  credits: number;
  periodStart: number;
  periodEnd: number;
}

export interface WorkspaceCreditsState {
  grants: Map<string, Grant>;
  period: CurrentPeriod | undefined;
  /** Every billing period applied so far, by its start instant, to make re-application a no-op. */
  periods: Map<number, { planId: string; periodEnd: number }>;
  /** Spends by idempotency key, oldest first, pruned after IDEMPOTENCY_RETENTION_MS. */
  consumptions: RecentConsumptions;
  /** Promotional grants by idempotency key, with what was asked, to recognise a retry. */
  grantKeys: Map<string, { grantId: string; credits: number; reason: string; expiresAt: number | undefined }>;
  /** Purchases by purchase id, with what was bought, paid and refunded so far. */
  purchases: Map<string, PurchaseRecord>;
  /** Refunds of purchases by our refund id and by the provider's refund id: each is recorded once. */
  purchaseRefunds: Map<string, PurchaseRefundRecord>;
  providerRefunds: Map<string, PurchaseRefundRecord>;
  /** Spends whose credits were given back. */
  refundedConsumptions: Set<string>;
}

export interface PurchaseRecord {
  grantId: string;
  packageId: string;
  credits: number;
  price: Money;
  payment: PurchasePayment;
  refundedCredits: number;
  refundedAmount: number;
}

export interface PurchaseRefundRecord {
  refundId: string;
  purchaseId: string;
  providerRefundId: string | undefined;
  credits: number;
  amount: Money;
}

export const initialState = (): WorkspaceCreditsState => ({
  grants: new Map(),
  period: undefined,
  periods: new Map(),
  consumptions: new RecentConsumptions(),
  grantKeys: new Map(),
  purchases: new Map(),
  purchaseRefunds: new Map(),
  providerRefunds: new Map(),
  refundedConsumptions: new Set(),
});

function addGrant(
  state: WorkspaceCreditsState,
  grant: Pick<Grant, 'id' | 'source' | 'granted' | 'expiresAt' | 'grantedAt'>,
): void {
  state.grants.set(grant.id, {
    ...grant,
    remaining: grant.granted,
    consumed: 0,
    expired: 0,
    refunded: 0,
    seq: state.grants.size,
  });
}

function grantOf(state: WorkspaceCreditsState, grantId: string): Grant {
  const grant = state.grants.get(grantId);
  if (!grant) throw new Error(`Event refers to unknown grant ${grantId}`);
  return grant;
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
      state.period = { grantId, planId, planName, credits, periodStart, periodEnd };
      state.periods.set(periodStart, { planId, periodEnd });
      return state;
    }
    case 'CreditsPurchased': {
      const { grantId, credits, purchaseId, packageId, price, payment } = event.data;
      addGrant(state, {
        id: grantId,
        source: 'PURCHASED',
        granted: credits,
        expiresAt: optionalMs(event.data.expiresAt),
        grantedAt: ms(event.data.purchasedAt),
      });
      state.purchases.set(purchaseId, {
        grantId,
        packageId,
        credits,
        price,
        payment,
        refundedCredits: 0,
        refundedAmount: 0,
      });
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
      return state;
    }
    case 'CreditPurchaseRefunded': {
      const { purchaseId, refundId, providerRefundId, credits, amount } = event.data;
      const grant = grantOf(state, event.data.grantId);
      grant.remaining -= credits;
      grant.refunded += credits;
      const purchase = state.purchases.get(purchaseId);
      if (purchase) {
        purchase.refundedCredits += credits;
        purchase.refundedAmount += amount.amount;
      }
      const record = { refundId, purchaseId, providerRefundId, credits, amount };
      state.purchaseRefunds.set(refundId, record);
      if (providerRefundId !== undefined) state.providerRefunds.set(providerRefundId, record);
      return state;
    }
    case 'CreditConsumptionRefunded': {
      for (const part of event.data.drawdown) {
        const grant = grantOf(state, part.grantId);
        grant.remaining += part.credits;
        grant.consumed -= part.credits;
      }
      state.refundedConsumptions.add(event.data.consumptionId);
      return state;
    }
  }
}
