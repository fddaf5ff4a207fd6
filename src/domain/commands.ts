/**
 * What callers ask of a workspace's credits. Commands carry everything the decision needs, already
 * resolved from the catalog (credits, prices), and the instant they are decided at (`now`), so the
 * decider reads no clock and no configuration. Commands have the shape events have: `{ type, data }`.
 */
import type { CreditAction, Drawdown, Money } from './credits';
import type {
  AlertRules,
  AutoTopUpSettings,
  SavedCard,
  CheckoutOffer,
  CheckoutPaymentUpdated,
  ProviderDisputeFact,
  ProviderRefundFact,
  PurchasePayment,
} from './events';

type Command<Type extends string, Data> = { type: Type; data: Data & { workspaceId: string; now: Date } };

export type ApplyPlanAllowance = Command<
  'ApplyPlanAllowance',
  {
    grantId: string;
    planId: string;
    planName: string;
    credits: number;
    periodStart: Date;
    periodEnd: Date;
  }
>;

/** Records a purchase paid outside Stripe (invoice, bank transfer); the purchase id is its reference. */
export type PurchaseCredits = Command<
  'PurchaseCredits',
  {
    grantId: string;
    purchaseId: string;
    packageId: string;
    packageName: string;
    credits: number;
    price: Money;
    payment: PurchasePayment;
    expiresAt?: Date;
    purchasedBy: string;
  }
>;

export type GrantCredits = Command<
  'GrantCredits',
  {
    grantId: string;
    idempotencyKey: string;
    credits: number;
    reason: string;
    expiresAt?: Date;
    grantedBy: string;
  }
>;

export type ConsumeCredits = Command<
  'ConsumeCredits',
  {
    consumptionId: string;
    idempotencyKey: string;
    action: CreditAction;
    units: number;
    creditsPerUnit: number;
    actorId: string;
    reference?: string;
  }
>;

/** Records the expiry of every grant and hold that is past its `expiresAt` (a sweeper's or reaction's command). */
export type ExpireCredits = Command<'ExpireCredits', object>;

/**
 * Gives one spend's credits back, once. `spend` is the spend as its CreditsConsumed event recorded
 * it in this workspace's stream, read from there by the command side.
 */
export type RefundCreditConsumption = Command<
  'RefundCreditConsumption',
  {
    consumptionId: string;
    spend: { credits: number; drawdown: Drawdown[] };
    reason: string;
    refundedBy: string;
  }
>;

/**
 * An admin asks for a purchase to be refunded: `credits` of it (default: every credit it has left).
 * `refundId` identifies the request (the provider's idempotency key too); a request with the same
 * `idempotencyKey`, or without one, the same content, returns the refund already asked for.
 */
export type RequestPurchaseRefund = Command<
  'RequestPurchaseRefund',
  {
    refundId: string;
    purchaseId: string;
    credits?: number;
    reason: string;
    idempotencyKey?: string;
    requestedBy: string;
  }
>;

/** What the payment provider says about a refund of a payment (ours or made in its dashboard). */
export type RecordProviderRefund = Command<
  'RecordProviderRefund',
  { paymentIntentId: string; refund: ProviderRefundFact; recordedBy: string }
>;

/** What the payment provider says about a dispute of a payment. */
export type RecordProviderDispute = Command<
  'RecordProviderDispute',
  { paymentIntentId: string; dispute: ProviderDisputeFact; recordedBy: string }
>;

/** A billing manager starts buying a package: the offer is recorded before the provider is asked. */
export type StartCheckout = Command<'StartCheckout', { checkoutId: string; offer: CheckoutOffer; startedBy: string }>;

/** The outcome of asking the provider for a checkout's payment page. */
export type RecordCheckoutSession = Command<
  'RecordCheckoutSession',
  | { checkoutId: string; outcome: 'OPENED'; sessionId: string; url: string; expiresAt: Date }
  | { checkoutId: string; outcome: 'FAILED'; error: string }
>;

/**
 * The provider collected a checkout's payment: credit the offer it was started with, when the
 * amount collected is the offer's price. `checkoutId` comes from the session's metadata; sessions
 * opened before checkouts were recorded carry none and name the package in `legacyOffer` instead.
 */
export type CreditPaidCheckout = Command<
  'CreditPaidCheckout',
  {
    sessionId: string;
    checkoutId?: string;
    legacyOffer?: CheckoutOffer;
    paymentIntentId: string | null;
    amountPaid: Money;
    grantId: string;
    purchasedBy: string;
  }
>;

/** The provider's news of a checkout's payment short of being paid: processing, failed, expired. */
export type RecordCheckoutPayment = Command<
  'RecordCheckoutPayment',
  { checkoutId: string; sessionId: string; status: CheckoutPaymentUpdated['data']['status'] }
>;

/** An OWNER, BILLING_MANAGER or admin sets the workspace's alert rules (alert-rules.ts). */
export type ConfigureAlerts = Command<'ConfigureAlerts', { rules: AlertRules; configuredBy: string }>;

/** Records a notice for every grant with credits left whose expiry is within the notice period. */
export type NoticeExpiringCredits = Command<'NoticeExpiringCredits', object>;

/**
 * A billing manager sets auto top-up, the package resolved from the catalog. `acceptedTerms`, when
 * given, is the text the billing manager was shown: it must be the terms these settings make.
 */
export type ConfigureAutoTopUp = Command<
  'ConfigureAutoTopUp',
  { settings: AutoTopUpSettings | OffWithPackageNoLongerSold; acceptedBy: string; acceptedTerms?: string }
>;

/**
 * Turning auto top-up off with a package the catalog no longer sells: the package's name, credits,
 * price and expiry come from the workspace's settings in force, so that consent can always be
 * withdrawn, whatever the catalog has become.
 */
export interface OffWithPackageNoLongerSold {
  enabled: false;
  noLongerSold: true;
  packageId: string;
  thresholdCredits: number;
  targetCredits: number | null;
  /** Minor units of the package's currency. */
  monthlyLimit: number;
}

/** A billing manager starts saving (or replacing) the card auto top-up charges. */
export type StartPaymentMethodSetup = Command<'StartPaymentMethodSetup', { setupId: string; startedBy: string }>;

/** What became of saving a card: the provider's customer, its setup page, and the card saved. */
export type RecordPaymentMethodSetup = Command<
  'RecordPaymentMethodSetup',
  | { outcome: 'CUSTOMER'; customerId: string }
  | { outcome: 'OPENED'; setupId: string; sessionId: string; url: string; expiresAt: Date }
  | { outcome: 'FAILED'; setupId: string; error: string }
  | { outcome: 'SAVED'; setupId: string | null; customerId: string; paymentMethodId: string; card: SavedCard }
>;

/** A billing manager removes the saved card. */
export type RemovePaymentMethod = Command<'RemovePaymentMethod', { removedBy: string }>;

/** What the provider made of one attempt to charge a top-up: paid, still processing, or failed. */
export type AutoTopUpChargeOutcome =
  | { status: 'SUCCEEDED'; paymentIntentId: string; amountReceived: Money }
  | { status: 'PROCESSING'; paymentIntentId: string }
  | {
      status: 'FAILED';
      paymentIntentId: string | null;
      reason: 'DECLINED' | 'REQUIRES_ACTION' | 'ERROR';
      code: string | null;
      message: string;
    };

/**
 * Records an attempt's outcome, from the payments reaction or the provider's webhook (either may
 * come first, or both). `retry`: how many attempts a top-up gets and how long after the first
 * failure the next is made (doubling after each).
 */
export type RecordAutoTopUpCharge = Command<
  'RecordAutoTopUpCharge',
  {
    topUpId: string;
    attempt: number;
    outcome: AutoTopUpChargeOutcome;
    grantId: string;
    retry: { maxAttempts: number; firstDelayMs: number };
  }
>;

/**
 * A long-running action reserves `units × creditsPerUnit` credits (the rate now) until `expiresAt`
 * (default and maximum in holds.ts); once per idempotency key.
 */
export type ReserveCredits = Command<
  'ReserveCredits',
  {
    holdId: string;
    idempotencyKey: string;
    action: CreditAction;
    units: number;
    creditsPerUnit: number;
    expiresAt?: Date;
    actorId: string;
    reference?: string;
  }
>;

/**
 * The action a hold reserved for is done: it cost `units` at the hold's rate. More than was held
 * is refused unless `takeExcessFromBalance`; once per hold, and a retry with the same key returns it.
 */
export type SettleCreditHold = Command<
  'SettleCreditHold',
  {
    holdId: string;
    idempotencyKey: string;
    units: number;
    takeExcessFromBalance: boolean;
    consumptionId: string;
    actorId: string;
  }
>;

/** The action will not use its hold: every held credit goes back. */
export type ReleaseCreditHold = Command<'ReleaseCreditHold', { holdId: string; reason?: string; releasedBy: string }>;

/** A running action keeps its hold until `expiresAt` (a heartbeat), at most the maximum ahead of now. */
export type ExtendCreditHold = Command<'ExtendCreditHold', { holdId: string; expiresAt: Date; extendedBy: string }>;

export type WorkspaceCreditsCommand =
  | ApplyPlanAllowance
  | PurchaseCredits
  | GrantCredits
  | ConsumeCredits
  | ExpireCredits
  | RefundCreditConsumption
  | RequestPurchaseRefund
  | RecordProviderRefund
  | RecordProviderDispute
  | StartCheckout
  | RecordCheckoutSession
  | CreditPaidCheckout
  | RecordCheckoutPayment
  | ConfigureAlerts
  | NoticeExpiringCredits
  | ConfigureAutoTopUp
  | StartPaymentMethodSetup
  | RecordPaymentMethodSetup
  | RemovePaymentMethod
  | RecordAutoTopUpCharge
  | ReserveCredits
  | SettleCreditHold
  | ReleaseCreditHold
  | ExtendCreditHold;
