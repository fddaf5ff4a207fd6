/**
 * The workspace credits state the decider decides against: everything the workspace's own events
 * say that a decision needs. `evolve` (evolve.ts) folds one event into it.
 */
import type { Grant, Money } from './credits';
import type {
  AlertRules,
  AutoTopUpSettings,
  CheckoutOffer,
  ProviderPaymentFact,
  PurchasePayment,
  RefundStatus,
  SavedCard,
} from './events';
import { DEFAULT_ALERT_RULES } from './alert-rules';
import { ClosedHolds } from './closed-holds';
import type { HoldRecord } from './holds';
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

/**
 * A purchase and where its money stands. `amountReturned` is the money that went (or is going)
 * back: refunds that have not failed, and lost disputes, as the provider reported each (it can add
 * up to more than the price only while its messages arrive out of order, e.g. a refund that has in
 * fact failed and a dispute lost afterwards; views show at most the price). `creditsRepaid` are the purchase's credits
 * that money pays for: those taken back from its grant, those already spent (`creditsOwed`), and
 * those that lapsed on their way back for that reason.
 */
export interface PurchaseRecord {
  purchaseId: string;
  grantId: string;
  packageId: string;
  credits: number;
  price: Money;
  payment: PurchasePayment;
  amountReturned: number;
  creditsRepaid: number;
  creditsOwed: number;
  /**
   * Credits of its grant that lapsed because money went back for them (MONEY_RETURNED: spent ones
   * given back while owed): spendable again if that money does not go back after all.
   */
  creditsLapsed: number;
  /** The dispute open on the payment, if any. */
  openDisputeId: string | undefined;
}

export interface PurchaseRefundRecord {
  refundId: string;
  purchaseId: string;
  origin: 'ADMIN' | 'PROVIDER';
  providerRefundId: string | undefined;
  status: RefundStatus;
  /** The credits an admin named, when they did (see PurchaseRefundRequested.creditsAsked). */
  creditsAsked?: number | undefined;
  /** Credits taken back from the grant. */
  credits: number;
  creditsOwed: number;
  creditsRepaid: number;
  /** Credits the refund pays for by itself (see purchase-money.ts repaidBy). */
  paysFor: number;
  amount: Money;
  reason: string;
  /** When it was asked for (epoch ms): a repeat without a key within a day is the same request. */
  requestedAt: number;
}

export interface DisputeRecord {
  disputeId: string;
  purchaseId: string;
  status: 'OPEN' | 'WON' | 'LOST';
  amount: Money;
  /** The money a lost dispute took back, and the credits it pays for by itself. */
  lost: { amount: number; paysFor: number };
}

export interface CheckoutRecord {
  checkoutId: string;
  offer: CheckoutOffer;
  status: 'STARTED' | 'OPEN' | 'FAILED' | 'PROCESSING' | 'PAID' | 'PAYMENT_FAILED' | 'EXPIRED';
  sessionId: string | undefined;
}

export interface WorkspaceCreditsState {
  grants: Map<string, Grant>;
  period: CurrentPeriod | undefined;
  /** Every billing period applied so far, by its start instant, to make re-application a no-op. */
  periods: Map<number, { planId: string; periodEnd: number }>;
  /** Allowances replaced by a newer period: credits coming back to them lapse at once. */
  replacedAllowances: Set<string>;
  /** Spends by idempotency key, oldest first, pruned after IDEMPOTENCY_RETENTION_MS. */
  consumptions: RecentConsumptions;
  /** Promotional grants by idempotency key, with what was asked, to recognise a retry. */
  grantKeys: Map<string, { grantId: string; credits: number; reason: string; expiresAt: number | undefined }>;
  /** Purchases by purchase id, with what was bought, paid and returned so far. */
  purchases: Map<string, PurchaseRecord>;
  /** The purchase each purchased grant and each provider payment belongs to. */
  purchaseOfGrant: Map<string, string>;
  purchaseOfPayment: Map<string, string>;
  /** Refunds of purchases by our refund id, and our id by the provider's. */
  purchaseRefunds: Map<string, PurchaseRefundRecord>;
  providerRefunds: Map<string, string>;
  /** Our refund id by the idempotency key an admin gave with the request. */
  refundKeys: Map<string, string>;
  disputes: Map<string, DisputeRecord>;
  /** Provider facts about payments not recorded as purchases yet, by payment intent. */
  deferredFacts: Map<string, { fact: ProviderPaymentFact; recordedBy: string }[]>;
  checkouts: Map<string, CheckoutRecord>;
  /** Checkout sessions paid but not credited (recorded once each). */
  uncreditedSessions: Set<string>;
  /** Spends whose credits were given back, with the reason given (a repeat must give the same). */
  refundedConsumptions: Map<string, string>;
  /** Holds that reserve credits (or did until their expiry, not yet written), by hold id. */
  activeHolds: Map<string, HoldRecord>;
  /** Settled, released and expired holds, in the order they closed, kept for IDEMPOTENCY_RETENTION_MS. */
  closedHolds: ClosedHolds;
  /** The hold made with each idempotency key. */
  holdKeys: Map<string, string>;
  alerts: AlertState;
  autoTopUp: AutoTopUpState;
}

/** One automatic top-up: requested for a crossing, charged (maybe after failed attempts), or given up. */
export interface TopUpRecord {
  topUpId: string;
  credits: number;
  amount: Money;
  packageId: string;
  packageName: string;
  expiresAfterDays: number | null;
  /**
   * The calendar month (UTC, YYYY-MM) whose limit it counts against, unless it failed: the month it
   * was requested in, or a later one its retry or its payment fell in.
   */
  month: string;
  /** CANCELED: turned off, its settings changed, or its card removed or replaced, before it was paid (AutoTopUpCanceled). */
  status: 'REQUESTED' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';
  /** The saved card it charges. */
  paymentMethodId: string;
  /** Available credits when it was requested. */
  available: number;
  /**
   * Once canceled: the failed attempts recorded by then. Until an outcome is recorded after the
   * cancel (a failure, or its payment), a charge made just before it may still be on its way.
   */
  failedAtCancel?: number;
  /** Attempts that failed so far. */
  failedAttempts: number;
  /** The payment that paid it, once credited. */
  paymentIntentId: string | undefined;
  /** Money taken for it that could not be credited (AutoTopUpFailed.collected): counted as paid. */
  collected?: Money;
  /**
   * Money of an attempt taken after the top-up was paid by another attempt or had ended, that could
   * not be credited (PaidCheckoutNotCredited.autoTopUpId): each counts in the month it was taken,
   * without moving the top-up's own month.
   */
  late?: { month: string; money: Money }[];
}

/** The saved card, auto top-up's settings and its charges (auto-top-up.ts). */
export interface AutoTopUpState {
  settings: AutoTopUpSettings | undefined;
  /** Stopped itself after failures, until a billing manager configures it or saves a card. */
  paused: boolean;
  /** False from a crossing (topped up or skipped) until available is back at the threshold. */
  armed: boolean;
  /**
   * The month (YYYY-MM, UTC) of the crossing last skipped for the monthly limit, while that skip
   * is what keeps auto top-up unarmed: in a later month the limit is whole again, so the next
   * change below the threshold tops up without waiting for the balance to come back first.
   */
  limitSkippedIn: string | undefined;
  customerId: string | undefined;
  card: { paymentMethodId: string; customerId: string; card: SavedCard } | undefined;
  /** Card setups by id, with how far each got. */
  setups: Map<string, 'STARTED' | 'OPEN' | 'FAILED' | 'SAVED'>;
  topUps: Map<string, TopUpRecord>;
}

/** The workspace's alert rules, and which side of each line its balance was last on (alerts.ts). */
export interface AlertState {
  rules: AlertRules;
  /** Below the low-balance threshold since the last CreditsLow, until a CreditsRecovered that is not stillLow. */
  low: boolean;
  /** Depleted since the last CreditsDepleted, until CreditsRecovered. */
  depleted: boolean;
  /** Whether the workspace ever had credits: one that never had any is not "depleted". */
  everFunded: boolean;
  /** Grants whose coming expiry was noticed (CreditsExpiringSoon), once each. */
  expiringNoticed: Set<string>;
}

export const initialState = (): WorkspaceCreditsState => ({
  grants: new Map(),
  period: undefined,
  periods: new Map(),
  replacedAllowances: new Set(),
  consumptions: new RecentConsumptions(),
  grantKeys: new Map(),
  purchases: new Map(),
  purchaseOfGrant: new Map(),
  purchaseOfPayment: new Map(),
  purchaseRefunds: new Map(),
  providerRefunds: new Map(),
  refundKeys: new Map(),
  disputes: new Map(),
  deferredFacts: new Map(),
  checkouts: new Map(),
  uncreditedSessions: new Set(),
  refundedConsumptions: new Map(),
  activeHolds: new Map(),
  closedHolds: ClosedHolds.empty(),
  holdKeys: new Map(),
  alerts: {
    rules: DEFAULT_ALERT_RULES,
    low: false,
    depleted: false,
    everFunded: false,
    expiringNoticed: new Set(),
  },
  autoTopUp: {
    settings: undefined,
    paused: false,
    armed: true,
    limitSkippedIn: undefined,
    customerId: undefined,
    card: undefined,
    setups: new Map(),
    topUps: new Map(),
  },
});

/**
 * A copy a decision may fold events into to decide what follows them in the same append, leaving
 * the state it was given alone. Spends are shared: no event a decision folds into a fork touches them.
 * Closed holds are never changed, only added and forgotten, so the fork shares their texts.
 */
export function forkState(state: WorkspaceCreditsState): WorkspaceCreditsState {
  const copies = <K, V extends object>(map: Map<K, V>): Map<K, V> =>
    new Map([...map].map(([key, value]) => [key, { ...value }]));
  return {
    ...state,
    grants: copies(state.grants),
    periods: new Map(state.periods),
    replacedAllowances: new Set(state.replacedAllowances),
    grantKeys: new Map(state.grantKeys),
    purchases: copies(state.purchases),
    purchaseOfGrant: new Map(state.purchaseOfGrant),
    purchaseOfPayment: new Map(state.purchaseOfPayment),
    purchaseRefunds: copies(state.purchaseRefunds),
    providerRefunds: new Map(state.providerRefunds),
    refundKeys: new Map(state.refundKeys),
    disputes: copies(state.disputes),
    deferredFacts: new Map(state.deferredFacts),
    checkouts: copies(state.checkouts),
    uncreditedSessions: new Set(state.uncreditedSessions),
    refundedConsumptions: new Map(state.refundedConsumptions),
    activeHolds: copies(state.activeHolds),
    closedHolds: state.closedHolds.fork(),
    holdKeys: new Map(state.holdKeys),
    alerts: { ...state.alerts, expiringNoticed: new Set(state.alerts.expiringNoticed) },
    autoTopUp: { ...state.autoTopUp, setups: new Map(state.autoTopUp.setups), topUps: copies(state.autoTopUp.topUps) },
  };
}
