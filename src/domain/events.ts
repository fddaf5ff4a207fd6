/**
 * The facts the workspace credits stream records. Event data is plain JSON: instants are ISO-8601
 * strings, credits and money are integers. Events are never edited; a correction is a new event.
 */
import type { CreditAction, Drawdown, GrantSource, Money } from './credits';

type Event<Type extends string, Data> = { type: Type; data: Data };

/** A billing period's included credits, granted by the subscription system. */
export type PlanAllowanceApplied = Event<
  'PlanAllowanceApplied',
  {
    workspaceId: string;
    grantId: string;
    planId: string;
    planName: string;
    credits: number;
    periodStart: string;
    periodEnd: string;
    appliedAt: string;
  }
>;

/**
 * How a purchase was paid: recorded by an admin from an invoice or bank transfer (MANUAL), or a
 * Stripe Checkout payment, whose payment intent is what a refund goes back through.
 */
export type PurchasePayment =
  | { provider: 'MANUAL'; reference: string }
  | { provider: 'STRIPE'; checkoutSessionId: string; paymentIntentId: string };

/** A paid credit package; `purchaseId` identifies the purchase (the payment reference or Checkout session). */
export type CreditsPurchased = Event<
  'CreditsPurchased',
  {
    workspaceId: string;
    grantId: string;
    purchaseId: string;
    packageId: string;
    packageName: string;
    credits: number;
    price: Money;
    payment: PurchasePayment;
    expiresAt?: string;
    purchasedBy: string;
    purchasedAt: string;
  }
>;

/** Promotional or goodwill credits given by an admin. */
export type CreditsGranted = Event<
  'CreditsGranted',
  {
    workspaceId: string;
    grantId: string;
    idempotencyKey: string;
    credits: number;
    reason: string;
    expiresAt?: string;
    grantedBy: string;
    grantedAt: string;
  }
>;

/** A spend, with the grants that paid for it (`drawdown`) and the balance it left. */
export type CreditsConsumed = Event<
  'CreditsConsumed',
  {
    workspaceId: string;
    consumptionId: string;
    idempotencyKey: string;
    action: CreditAction;
    units: number;
    creditsPerUnit: number;
    credits: number;
    drawdown: Drawdown[];
    availableAfter: number;
    actorId: string;
    reference?: string;
    consumedAt: string;
  }
>;

/**
 * What was left of a grant when it stopped being spendable: at its `expiresAt` (EXPIRED), or when
 * a new billing period replaced the allowance it belonged to (PERIOD_REPLACED).
 */
export type CreditsExpired = Event<
  'CreditsExpired',
  {
    workspaceId: string;
    grantId: string;
    source: GrantSource;
    credits: number;
    reason: 'EXPIRED' | 'PERIOD_REPLACED';
    expiredAt: string;
  }
>;

/**
 * Part of a purchase was refunded: `credits` unspent credits were taken back from its grant and
 * `amount` returned to the buyer. `providerRefundId` is the payment provider's refund (absent for
 * purchases paid outside Stripe). `origin` says whether it was asked of us (ADMIN) or made at the
 * provider directly, e.g. in the Stripe dashboard (PROVIDER).
 */
export type CreditPurchaseRefunded = Event<
  'CreditPurchaseRefunded',
  {
    workspaceId: string;
    purchaseId: string;
    grantId: string;
    refundId: string;
    providerRefundId?: string;
    credits: number;
    amount: Money;
    reason: string;
    origin: 'ADMIN' | 'PROVIDER';
    refundedBy: string;
    refundedAt: string;
  }
>;

/** One spend was given back (e.g. an org chart run that failed): its credits return to the grants that paid. */
export type CreditConsumptionRefunded = Event<
  'CreditConsumptionRefunded',
  {
    workspaceId: string;
    consumptionId: string;
    credits: number;
    drawdown: Drawdown[];
    reason: string;
    refundedBy: string;
    refundedAt: string;
  }
>;

export type WorkspaceCreditsEvent =
  | PlanAllowanceApplied
  | CreditsPurchased
  | CreditsGranted
  | CreditsConsumed
  | CreditsExpired
  | CreditPurchaseRefunded
  | CreditConsumptionRefunded;

export type WorkspaceCreditsEventType = WorkspaceCreditsEvent['type'];

export const WORKSPACE_CREDITS_EVENT_TYPES: readonly WorkspaceCreditsEventType[] = [
  'PlanAllowanceApplied',
  'CreditsPurchased',
  'CreditsGranted',
  'CreditsConsumed',
  'CreditsExpired',
  'CreditPurchaseRefunded',
  'CreditConsumptionRefunded',
];

export const isWorkspaceCreditsEvent = (event: { type: string }): event is WorkspaceCreditsEvent =>
  (WORKSPACE_CREDITS_EVENT_TYPES as readonly string[]).includes(event.type);

/** The business instant an event took effect: what the ledger shows and time travel filters on. */
export function occurredAt(event: WorkspaceCreditsEvent): string {
  switch (event.type) {
    case 'PlanAllowanceApplied':
      return event.data.appliedAt;
    case 'CreditsPurchased':
      return event.data.purchasedAt;
    case 'CreditsGranted':
      return event.data.grantedAt;
    case 'CreditsConsumed':
      return event.data.consumedAt;
    case 'CreditsExpired':
      return event.data.expiredAt;
    case 'CreditPurchaseRefunded':
    case 'CreditConsumptionRefunded':
      return event.data.refundedAt;
  }
}
