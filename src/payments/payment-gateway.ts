/**
 * The payments port: what the credits service needs from a payment provider, in the service's own
 * words. Buying a credit package goes through a hosted checkout page; the money is only trusted
 * once a signed webhook says so; refunds are asked of the provider with an idempotency key so a
 * retry can never refund twice. The Stripe adapter lives in `stripe-gateway.ts`; nothing here
 * imports the Stripe SDK, so the domain and the GraphQL layer stay testable without it.
 *
 * Amounts are integer minor units (cents), as in the catalog. Currencies are ISO codes upper-cased
 * like the catalog's, whatever case the provider uses on the wire.
 */

import type { Money } from '../domain/credits';

export type { Money };

export interface CheckoutRequest {
  workspaceId: string;
  /** Our checkout, whose offer a payment on this page credits; travels in the session's metadata. */
  checkoutId: string;
  packageId: string;
  packageName: string;
  credits: number;
  price: Money;
  /** A price configured at the provider for this package; without it the price is sent inline. */
  stripePriceId?: string;
  /** Who started the purchase (the principal's subject), kept on the payment for the audit trail. */
  startedBy: string;
  successUrl: string;
  cancelUrl: string;
  /** Makes a retried "start checkout" return the same session instead of opening a second one. */
  idempotencyKey: string;
}

export interface CheckoutSession {
  id: string;
  /** The hosted payment page to send the buyer to. */
  url: string;
  expiresAt: Date;
}

export interface RefundRequest {
  paymentIntentId: string;
  /** Integer minor units; at most what is still refundable on the payment. */
  amount: number;
  /** Reusing the key of a refund that may or may not have happened returns that refund, never a second one. */
  idempotencyKey: string;
  /** Travels with the refund and comes back in refund events, so our own refunds are recognisable. */
  metadata: Record<string, string>;
}

/** Opening the provider's page where a billing manager saves the card auto top-up charges. */
export interface SetupSessionRequest {
  workspaceId: string;
  setupId: string;
  customerId: string;
  successUrl: string;
  cancelUrl: string;
  idempotencyKey: string;
}

/** A card saved at the provider: what charges it, and what identifies it to a person. */
export interface ProviderSavedCard {
  paymentMethodId: string;
  customerId: string;
  card: { brand: string; last4: string; expMonth: number; expYear: number };
}

/** Charging a saved card with nobody present (a merchant-initiated payment). */
export interface OffSessionChargeRequest {
  workspaceId: string;
  topUpId: string;
  attempt: number;
  customerId: string;
  paymentMethodId: string;
  amount: Money;
  idempotencyKey: string;
}

/**
 * What the provider made of an off-session charge. A decline, or a card that needs its holder
 * (3-D Secure), is an answer, not an error: it is recorded, and decides whether to try again.
 */
export type OffSessionCharge =
  | { status: 'SUCCEEDED'; paymentIntentId: string; amountReceived: Money }
  | { status: 'PROCESSING'; paymentIntentId: string }
  | {
      status: 'FAILED';
      paymentIntentId: string | null;
      reason: 'DECLINED' | 'REQUIRES_ACTION';
      code: string | null;
      message: string;
    };

/** The provider's refund statuses, upper-cased. */
export type ProviderRefundStatus = 'PENDING' | 'REQUIRES_ACTION' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';

/** A refund as the provider has it. */
export interface ProviderRefund {
  refundId: string;
  paymentIntentId: string;
  amount: number;
  currency: string;
  status: ProviderRefundStatus;
  /** Why it failed, when it did. */
  failureReason: string | undefined;
  /** Ours carry the workspace and our refund id; empty for a refund made in the provider's dashboard. */
  metadata: Record<string, string>;
}

/** A dispute (chargeback) of a payment, as the provider has it. */
export interface ProviderDispute {
  disputeId: string;
  paymentIntentId: string;
  amount: number;
  currency: string;
  /** Open until the bank decides; an inquiry closed without a chargeback counts as won. */
  status: 'OPEN' | 'WON' | 'LOST';
  reason: string;
}

/**
 * A verified webhook, narrowed to what the service acts on. `eventId` is the provider's event id:
 * providers deliver at least once and in any order, so every handler is idempotent by the ids of
 * what it records and never moves a status back.
 */
export type PaymentEvent =
  | {
      /** The buyer paid (card at once, or a delayed method that has now succeeded): credit the workspace. */
      kind: 'checkout_paid';
      eventId: string;
      sessionId: string;
      /**
       * The payment to refund against later. Null only when the provider collected nothing
       * (payment_status `no_payment_required`, e.g. a 100% discount): then there is nothing to refund.
       */
      paymentIntentId: string | null;
      /** What the provider actually collected; compared with the offer before crediting. */
      amountPaid: number;
      currency: string;
      /** The metadata set at checkout: workspaceId, checkoutId, packageId, credits, startedBy. */
      metadata: Record<string, string>;
    }
  | {
      /** Checkout finished with a delayed payment method (still processing), the payment failed, or the session expired. */
      kind: 'checkout_unpaid';
      eventId: string;
      sessionId: string;
      status: 'PROCESSING' | 'FAILED' | 'EXPIRED';
      metadata: Record<string, string>;
    }
  | {
      /** Money went back on a charge: its refunds, when the payload lists them, else to be listed. */
      kind: 'charge_refunded';
      eventId: string;
      paymentIntentId: string;
      /** The charge's own metadata (the payment intent's, copied when the charge was made). */
      metadata: Record<string, string>;
      /**
       * Every refund on the charge when the payload lists them. Stripe stopped including
       * `charge.refunds` by default in API version 2022-11-15: then `refundsListed` is false and
       * `listRefunds(paymentIntentId)` finds them.
       */
      refunds: ProviderRefund[];
      refundsListed: boolean;
    }
  | {
      /** A refund was created or its status changed (refund.created, refund.updated, refund.failed). */
      kind: 'refund_updated';
      eventId: string;
      refund: ProviderRefund;
    }
  | {
      /** A dispute was opened, changed or closed (charge.dispute.*). */
      kind: 'dispute_updated';
      eventId: string;
      dispute: ProviderDispute;
    }
  | {
      /** A setup page completed: the card is saved on the customer (the setup intent says which card). */
      kind: 'setup_completed';
      eventId: string;
      sessionId: string;
      setupIntentId: string | null;
      /** The metadata set when the page was opened: workspaceId, setupId. */
      metadata: Record<string, string>;
    }
  | {
      /** A payment intent was paid (ours for auto top-up carry workspaceId and topUpId in metadata). */
      kind: 'payment_succeeded';
      eventId: string;
      paymentIntentId: string;
      amountReceived: number;
      currency: string;
      metadata: Record<string, string>;
    }
  | {
      /** A payment intent's attempt failed: declined, or the card needs its holder. */
      kind: 'payment_failed';
      eventId: string;
      paymentIntentId: string;
      reason: 'DECLINED' | 'REQUIRES_ACTION';
      code: string | null;
      message: string;
      metadata: Record<string, string>;
    }
  | {
      /** Any other event type: acknowledge it and do nothing. */
      kind: 'ignored';
      eventId: string;
      type: string;
    };

export type PaymentEventKind = PaymentEvent['kind'];

export interface PaymentGateway {
  /** Whether payments are configured at all: without credentials every call refuses. */
  readonly enabled: boolean;
  createCheckoutSession(request: CheckoutRequest): Promise<CheckoutSession>;
  refund(request: RefundRequest): Promise<ProviderRefund>;
  /** One refund as the provider has it now; undefined when it does not know it. */
  retrieveRefund(refundId: string): Promise<ProviderRefund | undefined>;
  /**
   * Every refund of a payment intent, oldest first, whoever made it and whatever its status,
   * fetched page by page. A payment intent with no refunds, or one the provider does not know,
   * gives an empty list. The read is safe to retry.
   */
  listRefunds(paymentIntentId: string): Promise<ProviderRefund[]>;
  /** The metadata of a payment intent (ours name the workspace); undefined when it does not exist. */
  paymentIntentMetadata(paymentIntentId: string): Promise<Record<string, string> | undefined>;
  /** Creates the provider's customer for a workspace; the same key returns the same customer. */
  createCustomer(request: { workspaceId: string; idempotencyKey: string }): Promise<{ customerId: string }>;
  /** Opens the page where a card is saved on the customer, for charges without the cardholder. */
  createSetupSession(request: SetupSessionRequest): Promise<CheckoutSession>;
  /** The card a completed setup saved. */
  savedCard(setupIntentId: string): Promise<ProviderSavedCard>;
  /** Charges a saved card with nobody present; a decline is an answer (FAILED), not an error. */
  chargeSavedCard(request: OffSessionChargeRequest): Promise<OffSessionCharge>;
  /**
   * Where a charge made by chargeSavedCard stands now, read (never made again): the look at a
   * charge the provider was still processing.
   */
  offSessionCharge(paymentIntentId: string): Promise<OffSessionCharge>;
  /**
   * The charge chargeSavedCard made for one attempt at a top-up, if it made one (found by the
   * customer's payments and their metadata, never made): how the payments reaction learns whether
   * a try it cannot repeat reached the provider.
   */
  findTopUpCharge(request: {
    customerId: string;
    workspaceId: string;
    topUpId: string;
    attempt: number;
  }): Promise<OffSessionCharge | undefined>;
  /** Forgets a saved card at the provider; one it does not know is forgotten already. */
  detachPaymentMethod(paymentMethodId: string): Promise<void>;
  /**
   * Verifies the signature of a webhook's raw body (the exact bytes received, before any JSON
   * parsing) and narrows the event. Throws `InvalidWebhookSignature` for a missing, bad or stale
   * signature: answer 400 and do nothing.
   */
  parseWebhook(rawBody: Buffer, signatureHeader: string | undefined): PaymentEvent;
}

/** The webhook did not come from the provider, was altered, or is too old to trust (a replay). */
export class InvalidWebhookSignature extends Error {
  readonly code = 'INVALID_SIGNATURE';

  constructor(message = 'The webhook signature is missing, invalid or too old.', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidWebhookSignature';
  }
}

/** The service runs without payment credentials: buying and refunding are unavailable, the rest works. */
export class PaymentsNotConfigured extends Error {
  readonly code = 'PAYMENTS_NOT_CONFIGURED';

  constructor(message = 'Payments are not configured on this server.') {
    super(message);
    this.name = 'PaymentsNotConfigured';
  }
}

/**
 * The provider refused or could not be reached. `retryable` tells the caller whether the same
 * request (with the same idempotency key) may succeed later: true for network failures, timeouts,
 * rate limiting and provider-side errors; false for validation errors, declined cards, bad
 * credentials and idempotency-key misuse, which will fail the same way again.
 */
export class PaymentProviderError extends Error {
  readonly code = 'PAYMENT_PROVIDER_ERROR';
  readonly retryable: boolean;
  /** The provider's HTTP status, when it answered at all. */
  readonly statusCode?: number;
  /** The provider's error type, e.g. 'invalid_request_error', 'card_error', 'idempotency_error'. */
  readonly providerType?: string;
  /** The provider's error code, e.g. 'amount_too_large', 'resource_missing'. */
  readonly providerCode?: string;
  readonly requestId?: string;

  constructor(
    message: string,
    details: {
      retryable: boolean;
      statusCode?: number;
      providerType?: string;
      providerCode?: string;
      requestId?: string;
      cause?: unknown;
    },
  ) {
    super(message, { cause: details.cause });
    this.name = 'PaymentProviderError';
    this.retryable = details.retryable;
    if (details.statusCode !== undefined) this.statusCode = details.statusCode;
    if (details.providerType !== undefined) this.providerType = details.providerType;
    if (details.providerCode !== undefined) this.providerCode = details.providerCode;
    if (details.requestId !== undefined) this.requestId = details.requestId;
  }

  /**
   * The provider refused this service's own credentials (401: a revoked or mistyped key; 403: a
   * restricted key without the permission). That is the operator's to mend, not an answer about the
   * payment or refund asked for.
   */
  get refusedCredentials(): boolean {
    return this.statusCode === 401 || this.statusCode === 403;
  }
}

/**
 * The gateway to use when no payment credentials are configured: every operation refuses with
 * `PaymentsNotConfigured`, so the server still starts and the GraphQL layer can say why.
 */
export function unconfiguredPaymentGateway(): PaymentGateway {
  const refuse = (): never => {
    throw new PaymentsNotConfigured();
  };
  return {
    enabled: false,
    createCheckoutSession: async () => refuse(),
    refund: async () => refuse(),
    retrieveRefund: async () => refuse(),
    listRefunds: async () => refuse(),
    paymentIntentMetadata: async () => refuse(),
    createCustomer: async () => refuse(),
    createSetupSession: async () => refuse(),
    savedCard: async () => refuse(),
    chargeSavedCard: async () => refuse(),
    offSessionCharge: async () => refuse(),
    findTopUpCharge: async () => refuse(),
    detachPaymentMethod: async () => refuse(),
    parseWebhook: () => refuse(),
  };
}
