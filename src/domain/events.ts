/**
 * The facts the workspace credits stream records. Event data is plain JSON: instants are ISO-8601
 * strings, credits and money are integers. Events are never edited; a correction is a new event.
 * docs/events.md describes each one, its versions and what it does to the balance.
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
  | { provider: 'STRIPE'; checkoutSessionId: string; paymentIntentId: string }
  /** An automatic top-up charged off-session to the workspace's saved card (no Checkout session). */
  | { provider: 'STRIPE'; autoTopUpId: string; paymentIntentId: string };

/**
 * A paid credit package; `purchaseId` identifies the purchase within the workspace (the payment
 * reference, or the Checkout session). `checkoutId` is the checkout whose offer was credited.
 */
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
    checkoutId?: string;
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
 * Why credits stopped being spendable: their grant's `expiresAt` passed (EXPIRED); a new billing
 * period replaced the allowance they belonged to (PERIOD_REPLACED); or they came back (from a
 * refunded spend, a failed refund) to a purchase whose money had already been returned for them
 * (MONEY_RETURNED).
 */
export const EXPIRY_REASONS = ['EXPIRED', 'PERIOD_REPLACED', 'MONEY_RETURNED'] as const;
export type ExpiryReason = (typeof EXPIRY_REASONS)[number];

/** What was left of one grant, or what came back to it, stopped being spendable. */
export type CreditsExpired = Event<
  'CreditsExpired',
  {
    workspaceId: string;
    grantId: string;
    source: GrantSource;
    credits: number;
    reason: ExpiryReason;
    expiredAt: string;
  }
>;

/**
 * Release 0.x's record of a refund that had already happened at the provider: requested and
 * succeeded at once. No longer written (see PurchaseRefundRequested), still read.
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

// ------------------------------------------------------------------------------------- checkout

/** What a buyer was offered when a checkout started: exactly what a payment of it credits. */
export interface CheckoutOffer {
  packageId: string;
  packageName: string;
  credits: number;
  price: Money;
  /** Purchased credits of this package expire this many days after the payment; never when absent. */
  expiresAfterDays?: number;
}

/** A billing manager started buying a package: the offer is fixed here, before the provider is asked. */
export type CheckoutStarted = Event<
  'CheckoutStarted',
  { workspaceId: string; checkoutId: string; offer: CheckoutOffer; startedBy: string; startedAt: string }
>;

/** The provider opened the hosted payment page for a checkout. */
export type CheckoutSessionOpened = Event<
  'CheckoutSessionOpened',
  { workspaceId: string; checkoutId: string; sessionId: string; url: string; expiresAt: string; openedAt: string }
>;

/** The provider refused to open a payment page for a checkout: nothing can be paid on it. */
export type CheckoutSessionFailed = Event<
  'CheckoutSessionFailed',
  { workspaceId: string; checkoutId: string; error: string; failedAt: string }
>;

/**
 * What became of a checkout's payment short of being credited: still processing (a delayed
 * payment method), failed, or the session expired unpaid.
 */
export type CheckoutPaymentUpdated = Event<
  'CheckoutPaymentUpdated',
  {
    workspaceId: string;
    checkoutId: string;
    sessionId: string;
    status: 'PROCESSING' | 'FAILED' | 'EXPIRED';
    updatedAt: string;
  }
>;

/**
 * A payment the provider collected that this service could not credit: no offer to match, or an
 * amount that is not the offer's. Shown to admins, who refund it or act on it; never silent.
 */
export type PaidCheckoutNotCredited = Event<
  'PaidCheckoutNotCredited',
  {
    workspaceId: string;
    sessionId: string;
    paymentIntentId: string | null;
    checkoutId?: string;
    /**
     * The auto top-up the money came for, when nothing else counts it against that top-up's month
     * (the top-up was paid by another attempt, or had ended): it is spent of the monthly limit all
     * the same, in the month it was taken.
     */
    autoTopUpId?: string;
    amountPaid: Money;
    reason: string;
    receivedAt: string;
  }
>;

// -------------------------------------------------------------------------------------- refunds

export const REFUND_STATUSES = ['REQUESTED', 'PENDING', 'REQUIRES_ACTION', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/**
 * A refund of a purchase began: `credits` unspent credits left the purchase's grant at once and
 * `amount` is the money to return, both fixed here from the stream. An ADMIN refund is then made at
 * the provider with `refundId` as its idempotency key; a PROVIDER refund (made in the provider's
 * dashboard) is recorded from its webhook. `creditsRepaid` is how many more of the purchase's
 * credits the returned money pays for with this refund; of those, `credits` were taken back and
 * `creditsOwed` had already been spent.
 */
export type PurchaseRefundRequested = Event<
  'PurchaseRefundRequested',
  {
    workspaceId: string;
    refundId: string;
    purchaseId: string;
    grantId: string;
    origin: 'ADMIN' | 'PROVIDER';
    /** The provider payment the money goes back through (absent for purchases paid outside it). */
    paymentIntentId?: string;
    providerRefundId?: string;
    /** The key the admin gave with the request, if any: a repeat with it returns this refund. */
    idempotencyKey?: string;
    /**
     * The number of credits the admin named; absent when they asked for all that was left (and on
     * refunds recorded before it was kept). A keyed repeat must ask for the same.
     */
    creditsAsked?: number;
    credits: number;
    creditsOwed: number;
    creditsRepaid: number;
    /** The credits this refund pays for by itself: an admin's are those asked for, others its money's share. */
    paysFor: number;
    amount: Money;
    reason: string;
    requestedBy: string;
    requestedAt: string;
  }
>;

/** The provider accepted the refund but it is not final yet (pending, or waiting for the buyer). */
export type PurchaseRefundPending = Event<
  'PurchaseRefundPending',
  {
    workspaceId: string;
    refundId: string;
    purchaseId: string;
    providerRefundId: string;
    status: 'PENDING' | 'REQUIRES_ACTION';
    updatedAt: string;
  }
>;

/** The money went back to the buyer. */
export type PurchaseRefundSucceeded = Event<
  'PurchaseRefundSucceeded',
  { workspaceId: string; refundId: string; purchaseId: string; providerRefundId?: string; succeededAt: string }
>;

/**
 * The refund failed or was canceled: no money went back. `creditsRepaid` fewer credits are paid
 * for: `creditsOwed` of them stop being owed and `credits` return to the purchase's grant (a
 * CreditsExpired follows for any that can no longer be spent); its money leaves the totals.
 */
export type PurchaseRefundFailed = Event<
  'PurchaseRefundFailed',
  {
    workspaceId: string;
    refundId: string;
    purchaseId: string;
    grantId: string;
    providerRefundId?: string;
    status: 'FAILED' | 'CANCELED';
    reason: string;
    /** Credits given back to the grant (taken back for the refund). */
    credits: number;
    creditsOwed: number;
    creditsRepaid: number;
    /**
     * Credits given back to the grant that had lapsed for the money (MONEY_RETURNED): spent ones
     * given back while the refund was under way. Absent (0) in events recorded before 2026-12-03.
     */
    creditsRestored?: number;
    amount: Money;
    failedAt: string;
  }
>;

// ------------------------------------------------------------------------------------- disputes

/**
 * The buyer's bank disputed the payment (a chargeback). What is left of the purchase's credits is
 * frozen, out of the balance, until the dispute closes; `creditsSpent` were already used.
 */
export type PurchaseDisputeOpened = Event<
  'PurchaseDisputeOpened',
  {
    workspaceId: string;
    disputeId: string;
    purchaseId: string;
    grantId: string;
    amount: Money;
    reason: string;
    creditsHeld: number;
    creditsSpent: number;
    openedAt: string;
  }
>;

/**
 * The dispute closed. WON: the frozen credits are spendable again. LOST: the money is gone; the
 * credits it paid for are taken back as far as they are unspent, and the rest are owed.
 */
export type PurchaseDisputeClosed = Event<
  'PurchaseDisputeClosed',
  {
    workspaceId: string;
    disputeId: string;
    purchaseId: string;
    grantId: string;
    outcome: 'WON' | 'LOST';
    creditsTakenBack: number;
    creditsOwed: number;
    creditsRepaid: number;
    /** The credits the money lost pays for by itself (its share, rounded down). */
    paysFor: number;
    amountLost: Money;
    closedAt: string;
  }
>;

// -------------------------------------------------------------------------- provider facts

/**
 * A refund as the payment provider reports it. `providerRefundId` is absent only when the provider
 * refused to make one of ours at all (then `refundId` says which, and the status is FAILED).
 */
export interface ProviderRefundFact {
  providerRefundId?: string;
  amount: number;
  currency: string;
  status: 'PENDING' | 'REQUIRES_ACTION' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';
  /** Ours when the provider carries our refund id back; absent for a refund made in its dashboard. */
  refundId?: string;
  reason?: string;
}

/** A dispute as the payment provider reports it. */
export interface ProviderDisputeFact {
  disputeId: string;
  amount: number;
  currency: string;
  status: 'OPEN' | 'WON' | 'LOST';
  reason: string;
}

export type ProviderPaymentFact =
  { kind: 'REFUND'; refund: ProviderRefundFact } | { kind: 'DISPUTE'; dispute: ProviderDisputeFact };

/**
 * The provider reported a refund or dispute of a payment this workspace has not recorded as a
 * purchase yet (webhooks arrive in any order). It is kept, and applied in the same append that
 * records the purchase.
 */
export type ProviderEventDeferred = Event<
  'ProviderEventDeferred',
  { workspaceId: string; paymentIntentId: string; fact: ProviderPaymentFact; recordedBy: string; receivedAt: string }
>;

// --------------------------------------------------------------------------------------- alerts

/**
 * A workspace's alert rules. The low-balance threshold is its own number of credits, or its own
 * percentage of the plan's included credits, or (both null) the catalog's rule. `notify` says which
 * crossings it wants to hear of; crossings are recorded either way. `expiringSoonDays`: how long
 * before a grant with credits left expires it is told, or null for never.
 */
export interface AlertRules {
  lowBalanceCredits: number | null;
  lowBalancePercent: number | null;
  notify: { low: boolean; depleted: boolean; recovered: boolean };
  expiringSoonDays: number | null;
}

/** An OWNER, BILLING_MANAGER or admin set the workspace's alert rules. */
export type AlertRulesConfigured = Event<
  'AlertRulesConfigured',
  { workspaceId: string; rules: AlertRules; configuredBy: string; configuredAt: string }
>;

/**
 * Where the balance stood against the threshold when it crossed it. `notify`: whether the
 * workspace's rules asked to be told of it when it happened (webhooks and the Billing page follow it).
 */
type Crossing = {
  workspaceId: string;
  available: number;
  threshold: number;
  notify: boolean;
  crossedAt: string;
};

/** The balance fell below the low-balance threshold (once per crossing). */
export type CreditsLow = Event<'CreditsLow', Crossing>;

/** Nothing is left to spend (once, until the balance recovers past the threshold). */
export type CreditsDepleted = Event<
  'CreditsDepleted',
  { workspaceId: string; threshold: number; notify: boolean; depletedAt: string }
>;

/**
 * The balance climbed back over the low-balance threshold and its band after being below it, or out
 * of depletion over the band alone: then `stillLow`, and the workspace is still short of the
 * threshold plus its band, where a low workspace stays low (absent in events recorded before it
 * existed: false).
 */
export type CreditsRecovered = Event<'CreditsRecovered', Crossing & { stillLow?: boolean }>;

/** A grant with credits left expires within the workspace's notice period (once per grant). */
export type CreditsExpiringSoon = Event<
  'CreditsExpiringSoon',
  {
    workspaceId: string;
    grantId: string;
    source: GrantSource;
    /** Left in the grant, spendable until it expires. */
    credits: number;
    /**
     * Held in it by running actions (since 2026-12-04; absent: none): they expire with the grant
     * too unless the actions settle them first, and a release gives them back to it.
     */
    heldCredits?: number;
    expiresAt: string;
    noticedAt: string;
  }
>;

// ------------------------------------------------------------------------------- auto top-up

/** A saved card as the provider describes it: enough to recognise it, never enough to charge it. */
export interface SavedCard {
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

/** A billing manager asked to save (or replace) the card auto top-up charges, through a setup page. */
export type PaymentMethodSetupStarted = Event<
  'PaymentMethodSetupStarted',
  { workspaceId: string; setupId: string; customerId: string | null; startedBy: string; startedAt: string }
>;

/** The provider's customer for this workspace, created once by the payments reaction. */
export type PaymentCustomerCreated = Event<
  'PaymentCustomerCreated',
  { workspaceId: string; customerId: string; createdAt: string }
>;

/** The provider opened the page where the card is saved, or refused to. */
export type PaymentMethodSetupOpened = Event<
  'PaymentMethodSetupOpened',
  { workspaceId: string; setupId: string; sessionId: string; url: string; expiresAt: string; openedAt: string }
>;
export type PaymentMethodSetupFailed = Event<
  'PaymentMethodSetupFailed',
  { workspaceId: string; setupId: string; error: string; failedAt: string }
>;

/** The card was saved at the provider; it replaces any card saved before. */
export type PaymentMethodSaved = Event<
  'PaymentMethodSaved',
  {
    workspaceId: string;
    setupId: string | null;
    customerId: string;
    paymentMethodId: string;
    card: SavedCard;
    savedAt: string;
  }
>;

/** A billing manager removed the saved card: auto top-up cannot charge until another is saved. */
export type PaymentMethodRemoved = Event<
  'PaymentMethodRemoved',
  { workspaceId: string; paymentMethodId: string; removedBy: string; removedAt: string }
>;

/**
 * Auto top-up's settings: below `thresholdCredits` available, buy one package, or (with
 * `targetCredits`) the credits that bring the balance back to the target, at the package's price per
 * credit rounded up to the minor unit, in one payment; never more than `monthlyLimit` in a calendar
 * month (UTC).
 */
export interface AutoTopUpSettings {
  enabled: boolean;
  thresholdCredits: number;
  packageId: string;
  packageName: string;
  packageCredits: number;
  packagePrice: Money;
  /** Purchased credits of the package expire this many days after the payment; null: never. */
  packageExpiresAfterDays: number | null;
  targetCredits: number | null;
  monthlyLimit: Money;
}

/**
 * A billing manager set auto top-up, and consented to merchant-initiated charges on these terms:
 * who, when, and the terms as they were shown (card networks require the consent on record).
 */
export type AutoTopUpConfigured = Event<
  'AutoTopUpConfigured',
  {
    workspaceId: string;
    settings: AutoTopUpSettings;
    consent: { acceptedBy: string; acceptedAt: string; terms: string };
  }
>;

/**
 * Available credits fell below the auto top-up threshold: one charge is requested for this crossing,
 * recorded in the same append as the change that crossed it. The payments reaction charges the saved
 * card off-session with a key derived from `topUpId` and the attempt.
 */
export type AutoTopUpRequested = Event<
  'AutoTopUpRequested',
  {
    workspaceId: string;
    topUpId: string;
    credits: number;
    amount: Money;
    packageId: string;
    packageName: string;
    expiresAfterDays: number | null;
    customerId: string;
    paymentMethodId: string;
    /** Available credits when the threshold was crossed. */
    available: number;
    /** The calendar month (UTC, YYYY-MM) whose limit the charge counts against. */
    month: string;
    requestedAt: string;
  }
>;

/** A crossing that could not be topped up: the monthly limit would be passed, or no card is saved. */
export type AutoTopUpSkipped = Event<
  'AutoTopUpSkipped',
  {
    workspaceId: string;
    reason: 'MONTHLY_LIMIT' | 'NO_PAYMENT_METHOD';
    available: number;
    /** The charge it would have been. */
    amount: Money;
    skippedAt: string;
  }
>;

/**
 * An attempt to charge a top-up failed: the card was declined, needs the cardholder (3-D Secure),
 * or the provider refused for another reason. `retryAt` is when the next attempt is made; without
 * it this was the last attempt of the top-up.
 */
export type AutoTopUpFailed = Event<
  'AutoTopUpFailed',
  {
    workspaceId: string;
    topUpId: string;
    attempt: number;
    paymentIntentId: string | null;
    reason: 'DECLINED' | 'REQUIRES_ACTION' | 'ERROR';
    code: string | null;
    message: string;
    retryAt: string | null;
    /**
     * An attempt at a top-up canceled before its outcome came (AutoTopUpCanceled): recorded so that
     * it no longer counts as money on its way; never retried, and no alert (auto top-up is not
     * failing). Since 2026-12-03.
     */
    afterCancel?: true;
    /**
     * The calendar month (UTC, YYYY-MM) of `retryAt`, when it is later than the month the top-up
     * counted against: from this failure on it counts against that month's limit, where its next
     * attempt is charged, not the month it was requested in, which paid nothing for it. Since
     * 2026-12-04.
     */
    retryMonth?: string;
    /**
     * Money the provider took for the top-up that could not be credited (`code: not_credited`):
     * the top-up ends, but what was taken still counts against its month's limit. Since 2026-12-05.
     */
    collected?: Money;
    failedAt: string;
  }
>;

/**
 * Auto top-up answers the next fall below its threshold again: available credits are back at the
 * threshold, or a top-up was credited and the balance is still below it (`available`), in which
 * case the next top-up is decided in the same append.
 */
export type AutoTopUpRearmed = Event<'AutoTopUpRearmed', { workspaceId: string; available: number; rearmedAt: string }>;

/**
 * A top-up not yet paid will not be charged any more: auto top-up was turned off or paused, or
 * the card it was to charge was removed or replaced. A charge already made for it is still credited if it
 * succeeds; none is made after this. With a new card, the crossing is decided again, on that card.
 */
export type AutoTopUpCanceled = Event<
  'AutoTopUpCanceled',
  {
    workspaceId: string;
    topUpId: string;
    /**
     * SETTINGS_CHANGED: the threshold, package, target or limit consented to changed (since
     * 2026-12-03). PAUSED: a charge to its card was disputed (since 2026-12-04).
     */
    reason: 'TURNED_OFF' | 'CARD_REMOVED' | 'CARD_REPLACED' | 'SETTINGS_CHANGED' | 'PAUSED';
    canceledAt: string;
  }
>;

/**
 * Auto top-up stopped itself: its charges kept failing, or (since 2026-12-04) the holder of its
 * card disputed one of them (`topUpId`: the top-up whose charge failed or was disputed). A billing
 * manager starts it again by saving the settings or a card.
 */
export type AutoTopUpPaused = Event<
  'AutoTopUpPaused',
  { workspaceId: string; topUpId: string; reason: string; pausedAt: string }
>;

// ---------------------------------------------------------------------------------------- holds

/**
 * A long-running action reserved credits: `credits` left the grants in `drawdown` (drawn in
 * drawdown order, like a spend) and are held for hold `holdId` until it is settled, released or
 * expires at `expiresAt`. `creditsPerUnit` is the rate its settle pays.
 */
export type CreditsReserved = Event<
  'CreditsReserved',
  {
    workspaceId: string;
    holdId: string;
    idempotencyKey: string;
    action: CreditAction;
    units: number;
    creditsPerUnit: number;
    credits: number;
    drawdown: Drawdown[];
    expiresAt: string;
    availableAfter: number;
    actorId: string;
    reference?: string;
    reservedAt: string;
  }
>;

/**
 * A hold was settled: its action cost `credits` (`units` at the hold's rate), recorded as a spend
 * (`consumptionId`, with `drawdown` the grants that paid, as for any spend). `fromHold` are the
 * held credits that paid, `fromBalance` any excess the settle was allowed to take from the
 * available balance, and `returned` the held credits it did not use, back to their grants at once
 * (a CreditsExpired follows for any that can no longer be spent there). When nothing came from the
 * balance, as on almost every settle, `fromHold` and `fromBalance` are left out (version 2): the
 * held credits that paid are then `drawdown` (settledFromHold, settledFromBalance in holds.ts).
 */
export type CreditHoldSettled = Event<
  'CreditHoldSettled',
  {
    workspaceId: string;
    holdId: string;
    consumptionId: string;
    idempotencyKey: string;
    action: CreditAction;
    units: number;
    creditsPerUnit: number;
    credits: number;
    drawdown: Drawdown[];
    fromHold?: Drawdown[];
    fromBalance?: Drawdown[];
    returned: Drawdown[];
    availableAfter: number;
    actorId: string;
    reference?: string;
    settledAt: string;
  }
>;

/** A hold was released unused: every credit it held goes back to its grant (or lapses there). */
export type CreditHoldReleased = Event<
  'CreditHoldReleased',
  {
    workspaceId: string;
    holdId: string;
    credits: number;
    returned: Drawdown[];
    reason?: string;
    releasedBy: string;
    releasedAt: string;
  }
>;

/**
 * A hold reached its `expiresAt` unsettled: its credits went back at that instant (`expiredAt`),
 * written by the next command on the workspace or by the hold-expiry reaction.
 */
export type CreditHoldExpired = Event<
  'CreditHoldExpired',
  {
    workspaceId: string;
    holdId: string;
    credits: number;
    returned: Drawdown[];
    /**
     * Available credits at `expiredAt` once the hold's credits are back and those that came back to a
     * grant already expired have lapsed (the CreditsExpired that follow it). Since 2026-12-03.
     */
    availableAfter?: number;
    expiredAt: string;
  }
>;

/** A running action asked to keep its hold longer: it now reserves until `expiresAt`. */
export type CreditHoldExtended = Event<
  'CreditHoldExtended',
  {
    workspaceId: string;
    holdId: string;
    expiresAt: string;
    previousExpiresAt: string;
    extendedBy: string;
    extendedAt: string;
  }
>;

export type WorkspaceCreditsEvent =
  | PlanAllowanceApplied
  | CreditsPurchased
  | CreditsGranted
  | CreditsConsumed
  | CreditsExpired
  | CreditPurchaseRefunded
  | CreditConsumptionRefunded
  | CheckoutStarted
  | CheckoutSessionOpened
  | CheckoutSessionFailed
  | CheckoutPaymentUpdated
  | PaidCheckoutNotCredited
  | PurchaseRefundRequested
  | PurchaseRefundPending
  | PurchaseRefundSucceeded
  | PurchaseRefundFailed
  | PurchaseDisputeOpened
  | PurchaseDisputeClosed
  | ProviderEventDeferred
  | AlertRulesConfigured
  | CreditsLow
  | CreditsDepleted
  | CreditsRecovered
  | CreditsExpiringSoon
  | PaymentMethodSetupStarted
  | PaymentCustomerCreated
  | PaymentMethodSetupOpened
  | PaymentMethodSetupFailed
  | PaymentMethodSaved
  | PaymentMethodRemoved
  | AutoTopUpConfigured
  | AutoTopUpRequested
  | AutoTopUpSkipped
  | AutoTopUpFailed
  | AutoTopUpRearmed
  | AutoTopUpPaused
  | AutoTopUpCanceled
  | CreditsReserved
  | CreditHoldSettled
  | CreditHoldReleased
  | CreditHoldExpired
  | CreditHoldExtended;

export type WorkspaceCreditsEventType = WorkspaceCreditsEvent['type'];

export const WORKSPACE_CREDITS_EVENT_TYPES: readonly WorkspaceCreditsEventType[] = [
  'PlanAllowanceApplied',
  'CreditsPurchased',
  'CreditsGranted',
  'CreditsConsumed',
  'CreditsExpired',
  'CreditPurchaseRefunded',
  'CreditConsumptionRefunded',
  'CheckoutStarted',
  'CheckoutSessionOpened',
  'CheckoutSessionFailed',
  'CheckoutPaymentUpdated',
  'PaidCheckoutNotCredited',
  'PurchaseRefundRequested',
  'PurchaseRefundPending',
  'PurchaseRefundSucceeded',
  'PurchaseRefundFailed',
  'PurchaseDisputeOpened',
  'PurchaseDisputeClosed',
  'ProviderEventDeferred',
  'AlertRulesConfigured',
  'CreditsLow',
  'CreditsDepleted',
  'CreditsRecovered',
  'CreditsExpiringSoon',
  'PaymentMethodSetupStarted',
  'PaymentCustomerCreated',
  'PaymentMethodSetupOpened',
  'PaymentMethodSetupFailed',
  'PaymentMethodSaved',
  'PaymentMethodRemoved',
  'AutoTopUpConfigured',
  'AutoTopUpRequested',
  'AutoTopUpSkipped',
  'AutoTopUpFailed',
  'AutoTopUpRearmed',
  'AutoTopUpPaused',
  'AutoTopUpCanceled',
  'CreditsReserved',
  'CreditHoldSettled',
  'CreditHoldReleased',
  'CreditHoldExpired',
  'CreditHoldExtended',
];

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(WORKSPACE_CREDITS_EVENT_TYPES);

export const isWorkspaceCreditsEvent = (event: { type: string }): event is WorkspaceCreditsEvent =>
  EVENT_TYPE_SET.has(event.type);

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
    case 'CheckoutStarted':
      return event.data.startedAt;
    case 'CheckoutSessionOpened':
      return event.data.openedAt;
    case 'CheckoutSessionFailed':
      return event.data.failedAt;
    case 'CheckoutPaymentUpdated':
      return event.data.updatedAt;
    case 'PaidCheckoutNotCredited':
    case 'ProviderEventDeferred':
      return event.data.receivedAt;
    case 'PurchaseRefundRequested':
      return event.data.requestedAt;
    case 'PurchaseRefundPending':
      return event.data.updatedAt;
    case 'PurchaseRefundSucceeded':
      return event.data.succeededAt;
    case 'PurchaseRefundFailed':
      return event.data.failedAt;
    case 'PurchaseDisputeOpened':
      return event.data.openedAt;
    case 'PurchaseDisputeClosed':
      return event.data.closedAt;
    case 'AlertRulesConfigured':
      return event.data.configuredAt;
    case 'CreditsLow':
    case 'CreditsRecovered':
      return event.data.crossedAt;
    case 'CreditsDepleted':
      return event.data.depletedAt;
    case 'CreditsExpiringSoon':
      return event.data.noticedAt;
    case 'PaymentMethodSetupStarted':
      return event.data.startedAt;
    case 'PaymentCustomerCreated':
      return event.data.createdAt;
    case 'PaymentMethodSetupOpened':
      return event.data.openedAt;
    case 'PaymentMethodSetupFailed':
      return event.data.failedAt;
    case 'PaymentMethodSaved':
      return event.data.savedAt;
    case 'PaymentMethodRemoved':
      return event.data.removedAt;
    case 'AutoTopUpConfigured':
      return event.data.consent.acceptedAt;
    case 'AutoTopUpRequested':
      return event.data.requestedAt;
    case 'AutoTopUpSkipped':
      return event.data.skippedAt;
    case 'AutoTopUpFailed':
      return event.data.failedAt;
    case 'AutoTopUpRearmed':
      return event.data.rearmedAt;
    case 'AutoTopUpPaused':
      return event.data.pausedAt;
    case 'AutoTopUpCanceled':
      return event.data.canceledAt;
    case 'CreditsReserved':
      return event.data.reservedAt;
    case 'CreditHoldSettled':
      return event.data.settledAt;
    case 'CreditHoldReleased':
      return event.data.releasedAt;
    case 'CreditHoldExpired':
      return event.data.expiredAt;
    case 'CreditHoldExtended':
      return event.data.extendedAt;
  }
}
