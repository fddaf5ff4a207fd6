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

export interface Money {
  /** Integer minor units, e.g. 5000 for $50.00. */
  amount: number;
  /** ISO 4217 code, upper case as in the catalog ("USD"). */
  currency: string;
}

export interface CheckoutRequest {
  workspaceId: string;
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
  /** Travels with the refund and comes back in `charge_refunded` events, so our own refunds are recognisable. */
  metadata: Record<string, string>;
}

export interface RefundResult {
  refundId: string;
  amount: number;
  currency: string;
  /** The provider's status: 'succeeded', 'pending', 'requires_action', 'failed' or 'canceled'. */
  status: string;
}

export interface RefundOnCharge {
  refundId: string;
  amount: number;
  /**
   * The provider's status: 'succeeded', 'pending', 'requires_action', 'failed' or 'canceled'.
   * `listRefunds` never returns 'failed' or 'canceled' ones; a webhook's listed refunds may include them.
   */
  status: string;
  /** Empty for a refund made outside the service (e.g. from the Stripe Dashboard). */
  metadata: Record<string, string>;
}

/**
 * A verified webhook, narrowed to what the service acts on. `eventId` is the provider's event id:
 * providers deliver at least once, so handlers must treat a repeated `eventId` as already done.
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
      /** What the provider actually collected; compare it with the package price before crediting. */
      amountPaid: number;
      currency: string;
      /** The metadata set at checkout: workspaceId, packageId, credits, startedBy. */
      metadata: Record<string, string>;
    }
  | {
      /** Checkout finished with a delayed payment method; a `checkout_paid` or `checkout_failed` follows. */
      kind: 'checkout_pending';
      eventId: string;
      sessionId: string;
      metadata: Record<string, string>;
    }
  | {
      /** The delayed payment failed: nothing to credit. */
      kind: 'checkout_failed';
      eventId: string;
      sessionId: string;
      metadata: Record<string, string>;
    }
  | {
      /** Money went back to the buyer, through our API or from the provider's dashboard. */
      kind: 'charge_refunded';
      eventId: string;
      chargeId: string;
      paymentIntentId: string;
      currency: string;
      /** Cumulative amount refunded on the charge so far (not the last refund's amount). */
      amountRefunded: number;
      /**
       * Every refund on the charge when the payload lists them. Stripe stopped including
       * `charge.refunds` by default in API version 2022-11-15, so real `charge.refunded` payloads
       * usually do not: then this is empty and `refundsListed` is false; `listRefunds(paymentIntentId)`
       * then finds every refund, including those made outside the service. Listed refunds carry
       * their status and may include 'failed' or 'canceled' ones, which gave nothing back.
       */
      refunds: RefundOnCharge[];
      refundsListed: boolean;
    }
  | {
      /** Any other event type: acknowledge it and do nothing. */
      kind: 'ignored';
      eventId: string;
      type: string;
    };

export type PaymentEventKind = PaymentEvent['kind'];

export interface PaymentGateway {
  createCheckoutSession(request: CheckoutRequest): Promise<CheckoutSession>;
  refund(request: RefundRequest): Promise<RefundResult>;
  /**
   * Every refund of a payment intent, oldest first, whoever made it (the service or the provider's
   * dashboard), fetched from the provider page by page. This is how to reconcile a `charge_refunded`
   * event whose `refundsListed` is false.
   *
   * Only refunds that took or may still take money back are returned: status 'succeeded', 'pending'
   * or 'requires_action'. Refunds that are 'failed' or 'canceled' are left out, as the provider
   * leaves them out of the charge's refunded total; a refund already returned may still fail later
   * (some payment methods report failure days after 'succeeded'), so keep `status` in mind.
   * A payment intent with no refunds, or one the provider does not know, gives an empty list.
   * Other failures are `PaymentProviderError`s, as for the other calls; the read is safe to retry.
   */
  listRefunds(paymentIntentId: string): Promise<RefundOnCharge[]>;
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
    createCheckoutSession: async () => refuse(),
    refund: async () => refuse(),
    listRefunds: async () => refuse(),
    parseWebhook: () => refuse(),
  };
}
