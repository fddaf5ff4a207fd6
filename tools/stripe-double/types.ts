/**
 * The Stripe double's public shape: its options, what it records, the Stripe objects it keeps (in
 * Stripe's wire format), and the faults a test can inject.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type {
  CardBehaviour,
  DoubleCustomer,
  DoublePaymentError,
  DoublePaymentMethod,
  DoubleSetupIntent,
} from './card-types';

export interface StripeDoubleOptions {
  /** The `whsec_...` secret webhooks are signed with (the service verifies with the same one). */
  webhookSecret: string;
  /** Where to POST webhooks. When set, event builders deliver by default. */
  webhookUrl?: string;
  /** When set, API requests must carry exactly this bearer key; otherwise any `Bearer ...` is accepted. */
  secretKey?: string;
  /** Prices configured "in the Dashboard", for line items that name a `price` instead of `price_data`. */
  prices?: Record<string, DoublePrice>;
  /**
   * Send the events Stripe sends by itself, after answering the request that caused them:
   * - `refunds`: when a refund is made (`refund.created`, `charge.refunded`);
   * - `paymentIntents`: when `POST /v1/payment_intents` charged a saved card
   *   (`payment_intent.succeeded`, `payment_intent.payment_failed`, `payment_intent.requires_action`).
   * `true` means both, `false` neither; a kind left out of the object form is not sent.
   * Default true when there is a `webhookUrl`. Events not sent can be sent by `chargeRefundedFor`
   * and `paymentIntentEventFor`.
   */
  automaticEvents?: boolean | { refunds?: boolean; paymentIntents?: boolean };
}

export interface DoublePrice {
  unitAmount: number;
  /** Lower case, as Stripe returns it ("usd"). */
  currency: string;
  productName: string;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/refunds`. */
  path: string;
  query: Record<string, unknown>;
  /** Node's lower-cased headers: `idempotency-key`, `authorization`, `stripe-version`... */
  headers: IncomingHttpHeaders;
  idempotencyKey: string | undefined;
  /** The form-encoded body decoded into nested objects and arrays (all leaf values are strings). */
  body: Record<string, unknown>;
  rawBody: string;
  /** The injected fault this request met, if any. */
  fault?: FailMode;
  /** The status answered (undefined when the socket was destroyed instead). */
  status?: number;
  /** True when the answer was replayed from an earlier request with the same idempotency key. */
  replayed: boolean;
}

/**
 * `drop-before`: destroy the connection without processing (nothing is created).
 * `drop-after`: process and store the result, then destroy the connection (it exists, the client never heard).
 * `error-after`: process and store the result, then answer 500, and (as Stripe does for a request
 *   that started executing) answer every retry with the same idempotency key with that same 500.
 * `{ status }`: answer that HTTP error with a Stripe error body, without processing.
 */
export type FailMode =
  'drop-before' | 'drop-after' | 'error-after' | { status: number; type?: string; code?: string; message?: string };

export interface DoubleCheckoutSession {
  id: string;
  object: 'checkout.session';
  /** Null in setup mode. */
  amount_subtotal: number | null;
  amount_total: number | null;
  cancel_url: string | null;
  client_reference_id: string | null;
  created: number;
  currency: string;
  /** The customer a setup-mode session saves the card on. */
  customer: string | null;
  customer_email: string | null;
  expires_at: number;
  livemode: false;
  metadata: Record<string, string>;
  mode: string;
  payment_intent: string | null;
  /** 'no_payment_required' in setup mode. */
  payment_status: 'paid' | 'unpaid' | 'no_payment_required';
  /** Setup mode: the SetupIntent that saved the card, once the session is complete (as Stripe, not before). */
  setup_intent: string | null;
  status: 'open' | 'complete' | 'expired';
  success_url: string | null;
  url: string | null;
}

export interface DoublePaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_received: number;
  capture_method: 'automatic';
  confirmation_method: 'automatic';
  currency: string;
  created: number;
  customer: string | null;
  description: string | null;
  /** Why the latest attempt failed (a decline, or 3-D Secure needed); null after a success. */
  last_payment_error: DoublePaymentError | null;
  /** The latest charge, failed ones included. */
  latest_charge: string | null;
  livemode: false;
  metadata: Record<string, string>;
  /** In `requires_action`: what the cardholder must do (3-D Secure). */
  next_action: { type: 'use_stripe_sdk'; use_stripe_sdk: Record<string, string> } | null;
  /** The card charged; null again after a failed attempt, as Stripe does. */
  payment_method: string | null;
  payment_method_types: string[];
  status: 'processing' | 'succeeded' | 'requires_payment_method' | 'requires_action';
}

export interface DoubleRefund {
  id: string;
  object: 'refund';
  amount: number;
  charge: string;
  created: number;
  currency: string;
  metadata: Record<string, string>;
  payment_intent: string;
  reason: string | null;
  /** As `refundStatus` says when created ('succeeded' by default); `settleRefund` moves it on. */
  status: DoubleRefundStatus;
  failure_reason: string | null;
}

export interface DoubleDispute {
  id: string;
  object: 'dispute';
  amount: number;
  charge: string;
  created: number;
  currency: string;
  livemode: false;
  metadata: Record<string, string>;
  payment_intent: string;
  reason: string;
  status: 'needs_response' | 'under_review' | 'won' | 'lost' | 'warning_needs_response' | 'warning_closed';
}

export type DoubleRefundStatus = 'succeeded' | 'pending' | 'requires_action' | 'failed' | 'canceled';

export interface DoubleCharge {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  created: number;
  currency: string;
  customer: string | null;
  failure_code: string | null;
  failure_message: string | null;
  livemode: false;
  metadata: Record<string, string>;
  paid: boolean;
  payment_intent: string;
  payment_method: string | null;
  refunded: boolean;
  /** A declined attempt leaves a failed charge: nothing to refund or dispute. */
  status: 'succeeded' | 'failed';
  refunds?: { object: 'list'; data: DoubleRefund[]; has_more: false; total_count: number; url: string };
}

export interface DoubleEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: DoubleCheckoutSession | DoubleCharge | DoubleRefund | DoubleDispute | DoublePaymentIntent };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface WebhookDelivery {
  event: DoubleEvent;
  /** The exact JSON body that was signed (and sent). */
  payload: string;
  /** The `Stripe-Signature` header value. */
  signature: string;
  /** The webhook endpoint's HTTP status, when delivered. */
  status?: number;
  /** The webhook endpoint's response body, when delivered. */
  responseBody?: string;
  /** Why the POST itself failed (the endpoint was down): Stripe will try again (`retryFailedDeliveries`). */
  failure?: string;
}

export interface DeliverOption {
  /** POST the event to `webhookUrl` (default: true when the double was given a `webhookUrl`). */
  deliver?: boolean;
}

export interface RefundEventOptions extends DeliverOption {
  /**
   * Include `charge.refunds` in the event's charge (default true). Real Stripe omits it since API
   * version 2022-11-15 unless expanded; pass false to test that shape.
   */
  listRefunds?: boolean;
}

export interface CompleteCheckoutOptions extends DeliverOption {
  /** 'paid' (default) for a card; 'unpaid' for a delayed payment method still in flight. */
  paymentStatus?: 'paid' | 'unpaid';
  /** Pretend Stripe collected a different total (a tampered or mismatched amount). */
  amountTotal?: number;
}

export interface CompleteSetupOptions extends DeliverOption {
  /**
   * The test card typed on the page (default `4242424242424242`); see TEST_CARDS. One Stripe declines
   * while saving (`4000000000000002`) makes `completeSetup` reject, and the session stays open.
   */
  card?: string;
  /** Default 12. */
  expMonth?: number;
  /** Default three years from now. */
  expYear?: number;
}

export interface StripeDouble {
  /** Base URL, e.g. `http://127.0.0.1:43123`; pass it as the gateway's `apiBase`. */
  readonly url: string;
  readonly webhookSecret: string;
  /** Every request received, in order, including dropped ones. */
  readonly requests: readonly RecordedRequest[];
  requestsTo(path: string, method?: string): RecordedRequest[];
  /** Every event built, in order, delivered or not. */
  readonly events: readonly WebhookDelivery[];

  session(id: string): DoubleCheckoutSession | undefined;
  sessions(): DoubleCheckoutSession[];
  paymentIntent(id: string): DoublePaymentIntent | undefined;
  /** Stored refunds, oldest first, whatever their status. */
  refunds(paymentIntentId?: string): DoubleRefund[];
  /** What the refunds of a payment intent gave back: 'failed' and 'canceled' ones do not count. */
  refundedTotal(paymentIntentId: string): number;
  /**
   * A refund Stripe later reports as failed (it can, even after 'succeeded'), or a canceled one:
   * it gives the money back to the charge's refundable amount, and stays listed with that status.
   * No event is sent; `settleRefund` sends them.
   */
  failRefund(refundId: string, status?: 'failed' | 'canceled'): DoubleRefund;
  /** The status refunds made from now on start in (Stripe makes some 'pending'). */
  setRefundStatus(status: DoubleRefundStatus): void;
  /**
   * Moves a refund to `status` and sends what Stripe sends: `refund.updated` (and `refund.failed`
   * when it failed), `charge.refund.updated`, and `charge.refunded`.
   */
  settleRefund(refundId: string, status: DoubleRefundStatus, options?: DeliverOption): Promise<WebhookDelivery[]>;
  /** The buyer's bank disputes a payment: `charge.dispute.created`. Default: the whole charge. */
  openDispute(
    paymentIntentId: string,
    options?: DeliverOption & { amount?: number; reason?: string },
  ): Promise<{ dispute: DoubleDispute; delivery: WebhookDelivery }>;
  /** The bank decides: `charge.dispute.closed` with the dispute won or lost. */
  closeDispute(disputeId: string, outcome: 'won' | 'lost', options?: DeliverOption): Promise<WebhookDelivery>;
  dispute(id: string): DoubleDispute | undefined;
  /** An unpaid session reaches its expiry: `checkout.session.expired`. */
  expireSession(sessionId: string, options?: DeliverOption): Promise<WebhookDelivery>;
  /** From now on, keep events instead of delivering them, until `releaseDeliveries`. */
  holdDeliveries(): void;
  /** Delivers every event held, in the order given (default: the order they happened), and stops holding. */
  releaseDeliveries(order?: (held: WebhookDelivery[]) => WebhookDelivery[]): Promise<WebhookDelivery[]>;

  /**
   * The next `times` (default 1) requests to `path` meet `mode`; then the fault is cleared. `path`
   * may name a method too (`POST /v1/refunds`: creating a refund, not listing them).
   */
  failNext(path: string, mode: FailMode, times?: number): void;
  /** Clears every fault still waiting: Stripe is back. */
  clearFaults(): void;
  /**
   * Forgets every idempotency key, as Stripe does 24 hours after a key was first used: a request
   * with a key seen before is then a new request, and acts again.
   */
  forgetIdempotencyKeys(): void;

  completeCheckout(sessionId: string, options?: CompleteCheckoutOptions): Promise<WebhookDelivery>;
  asyncPaymentSucceeded(sessionId: string, options?: DeliverOption): Promise<WebhookDelivery>;
  asyncPaymentFailed(sessionId: string, options?: DeliverOption): Promise<WebhookDelivery>;
  /** A refund made outside the service (no metadata of ours), and the `charge.refunded` event it causes. */
  refundFromDashboard(paymentIntentId: string, amount: number, options?: RefundEventOptions): Promise<WebhookDelivery>;
  /** The `charge.refunded` event Stripe sends after a refund made through the API. */
  chargeRefundedFor(refundId: string, options?: RefundEventOptions): Promise<WebhookDelivery>;
  /** POST an event again (Stripe delivers at least once), optionally with another signature header. */
  redeliver(delivery: WebhookDelivery, signature?: string): Promise<WebhookDelivery>;
  /** A `Stripe-Signature` header for any payload, made with the SDK's helper. */
  sign(payload: string, options?: { timestamp?: number; secret?: string }): string;

  // ---- Saved cards (auto top-up): customers, setup-mode Checkout, off-session payments ----

  customer(id: string): DoubleCustomer | undefined;
  /** Every customer created, oldest first (find a workspace's by `metadata`). */
  customers(): DoubleCustomer[];
  setupIntent(id: string): DoubleSetupIntent | undefined;
  paymentMethod(id: string): DoublePaymentMethod | undefined;
  /** Saved cards, oldest first, detached ones included (`customer: null`); only a customer's when given. */
  paymentMethods(customerId?: string): DoublePaymentMethod[];
  /** Payment intents, oldest first (checkout ones too); only a customer's when given. */
  paymentIntents(customerId?: string): DoublePaymentIntent[];
  /**
   * The tester saves a card on a setup-mode session's page: a SetupIntent `succeeded` with a
   * PaymentMethod attached to the session's customer, the session `complete`, and
   * `checkout.session.completed` (mode 'setup', `setup_intent`, `customer`, `metadata`) sent.
   */
  completeSetup(sessionId: string, options?: CompleteSetupOptions): Promise<WebhookDelivery>;
  /**
   * From the next charge on, a saved card (`pm_...`), or every card attached to a customer
   * (`cus_...`), behaves as told: a card that starts declining, or recovers. Returns the cards
   * switched; throws when there is none.
   */
  setCardBehaviour(id: string, behaviour: CardBehaviour): DoublePaymentMethod[];
  /** How a saved card behaves when charged now. */
  cardBehaviour(paymentMethodId: string): CardBehaviour | undefined;
  /**
   * The event Stripe sends about a payment intent's latest outcome (`payment_intent.succeeded`,
   * `payment_intent.payment_failed` or `payment_intent.requires_action`), for a double started
   * without automatic payment-intent events.
   */
  paymentIntentEventFor(paymentIntentId: string, options?: DeliverOption): Promise<WebhookDelivery>;
  /**
   * Stripe retries an event until the endpoint acknowledges it: posts again, in order, every event
   * whose deliveries all failed (unreachable or not 2xx), e.g. after the service was killed.
   */
  retryFailedDeliveries(): Promise<WebhookDelivery[]>;

  close(): Promise<void>;
}
