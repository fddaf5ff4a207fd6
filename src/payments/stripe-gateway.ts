/**
 * The payments port on Stripe: Checkout Sessions for buying credit packages, the Refunds API, and
 * webhook verification with the SDK's own signature check. Everything Stripe-specific (parameter
 * names, lower-case currencies, unix timestamps, error classes) stays in this file.
 */
import Stripe from 'stripe';
import {
  InvalidWebhookSignature,
  PaymentProviderError,
  PaymentsNotConfigured,
  type CheckoutRequest,
  type CheckoutSession,
  type OffSessionCharge,
  type OffSessionChargeRequest,
  type PaymentEvent,
  type PaymentGateway,
  type ProviderSavedCard,
  type SetupSessionRequest,
  type ProviderDispute,
  type ProviderRefund,
  type ProviderRefundStatus,
  type RefundRequest,
} from './payment-gateway';

export interface StripeGatewayOptions {
  secretKey: string;
  webhookSecret: string;
  /** Where the API lives, e.g. `http://127.0.0.1:12111` for a local double; Stripe's own API when absent. */
  apiBase?: string;
}

/**
 * Automatic retries of failed requests (connection errors, 409, 5xx). The SDK resends the same
 * Idempotency-Key on each retry, so a retry after a lost response replays it instead of repeating it.
 */
const MAX_NETWORK_RETRIES = 2;
/** Checkout and refunds are on a user's request path; fail fast rather than after the SDK's 80 s default. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Stripe's largest page: a payment intent with up to 100 refunds is listed in one request. */
const REFUNDS_PAGE_SIZE = 100;

export function createStripeGateway(options: StripeGatewayOptions): PaymentGateway {
  if (!options.secretKey.trim() || !options.webhookSecret.trim()) {
    throw new PaymentsNotConfigured('Payments need both a Stripe secret key and a webhook signing secret.');
  }
  const stripe = new Stripe(options.secretKey, {
    // The SDK's types describe exactly the API version it pins, so use that one rather than a
    // hand-written date that would drift from the types on the next upgrade.
    apiVersion: Stripe.API_VERSION,
    maxNetworkRetries: MAX_NETWORK_RETRIES,
    timeout: REQUEST_TIMEOUT_MS,
    ...(options.apiBase ? apiBaseConfig(options.apiBase) : {}),
  });
  const webhookSecret = options.webhookSecret;

  return {
    enabled: true,

    async createCheckoutSession(request: CheckoutRequest): Promise<CheckoutSession> {
      const metadata = checkoutMetadata(request);
      const session = await call('create the checkout session', () =>
        stripe.checkout.sessions.create(
          {
            mode: 'payment',
            line_items: [
              request.stripePriceId
                ? { price: request.stripePriceId, quantity: 1 }
                : {
                    price_data: {
                      currency: request.price.currency.toLowerCase(),
                      unit_amount: request.price.amount,
                      product_data: { name: request.packageName },
                    },
                    quantity: 1,
                  },
            ],
            metadata,
            // Also on the payment intent, so the payment, its charge and refunds in the Dashboard
            // say which workspace and package they were for.
            payment_intent_data: { metadata },
            client_reference_id: request.workspaceId,
            success_url: request.successUrl,
            cancel_url: request.cancelUrl,
          },
          { idempotencyKey: request.idempotencyKey },
        ),
      );
      if (!session.url) {
        throw new PaymentProviderError(`Stripe returned checkout session ${session.id} without a payment page URL.`, {
          retryable: false,
        });
      }
      return { id: session.id, url: session.url, expiresAt: new Date(session.expires_at * 1000) };
    },

    async refund(request: RefundRequest): Promise<ProviderRefund> {
      const refund = await call('refund the payment', () =>
        stripe.refunds.create(
          { payment_intent: request.paymentIntentId, amount: request.amount, metadata: request.metadata },
          { idempotencyKey: request.idempotencyKey },
        ),
      );
      return providerRefund(refund);
    },

    async retrieveRefund(refundId: string): Promise<ProviderRefund | undefined> {
      try {
        return providerRefund(await stripe.refunds.retrieve(refundId));
      } catch (error) {
        if (error instanceof Stripe.errors.StripeError && error.code === 'resource_missing') return undefined;
        throw toProviderError('read the refund', error);
      }
    },

    async paymentIntentMetadata(paymentIntentId: string): Promise<Record<string, string> | undefined> {
      try {
        return metadataOf(await stripe.paymentIntents.retrieve(paymentIntentId));
      } catch (error) {
        if (error instanceof Stripe.errors.StripeError && error.code === 'resource_missing') return undefined;
        throw toProviderError('read the payment', error);
      }
    },

    async listRefunds(paymentIntentId: string): Promise<ProviderRefund[]> {
      const newestFirst: Stripe.Refund[] = [];
      try {
        // The SDK follows `has_more` with `starting_after` = the last id of each page.
        for await (const refund of stripe.refunds.list({ payment_intent: paymentIntentId, limit: REFUNDS_PAGE_SIZE })) {
          newestFirst.push(refund);
        }
      } catch (error) {
        // The request names only the payment intent (and cursors Stripe itself gave): an unknown one has no refunds.
        if (error instanceof Stripe.errors.StripeError && error.code === 'resource_missing') return [];
        throw toProviderError('list the refunds', error);
      }
      // Stripe lists newest first; reversing (rather than sorting by `created`, which has one-second
      // resolution) keeps Stripe's order for refunds made within the same second.
      return newestFirst.reverse().map(providerRefund);
    },

    async createCustomer(request: { workspaceId: string; idempotencyKey: string }): Promise<{ customerId: string }> {
      const customer = await call('create the customer', () =>
        stripe.customers.create(
          { description: `Credits workspace ${request.workspaceId}`, metadata: { workspaceId: request.workspaceId } },
          { idempotencyKey: request.idempotencyKey },
        ),
      );
      return { customerId: customer.id };
    },

    async createSetupSession(request: SetupSessionRequest): Promise<CheckoutSession> {
      const metadata = { workspaceId: request.workspaceId, setupId: request.setupId };
      const session = await call('open the page that saves a card', () =>
        stripe.checkout.sessions.create(
          {
            mode: 'setup',
            customer: request.customerId,
            currency: 'usd',
            metadata,
            // On the setup intent too, so the saved card says which workspace it was saved for.
            setup_intent_data: { metadata },
            success_url: request.successUrl,
            cancel_url: request.cancelUrl,
          },
          { idempotencyKey: request.idempotencyKey },
        ),
      );
      if (!session.url) {
        throw new PaymentProviderError(`Stripe returned setup session ${session.id} without a page URL.`, {
          retryable: false,
        });
      }
      return { id: session.id, url: session.url, expiresAt: new Date(session.expires_at * 1000) };
    },

    async savedCard(setupIntentId: string): Promise<ProviderSavedCard> {
      const intent = await call('read the saved card', () =>
        stripe.setupIntents.retrieve(setupIntentId, { expand: ['payment_method'] }),
      );
      const method = intent.payment_method;
      const card = typeof method === 'object' && method !== null ? method.card : undefined;
      const customerId = idOf(intent.customer);
      if (typeof method !== 'object' || method === null || !card || customerId === null) {
        throw new PaymentProviderError(`Setup intent ${setupIntentId} saved no card on a customer.`, {
          retryable: false,
        });
      }
      return {
        paymentMethodId: method.id,
        customerId,
        card: { brand: card.brand, last4: card.last4, expMonth: card.exp_month, expYear: card.exp_year },
      };
    },

    async chargeSavedCard(request: OffSessionChargeRequest): Promise<OffSessionCharge> {
      let intent: Stripe.PaymentIntent;
      try {
        intent = await stripe.paymentIntents.create(
          {
            amount: request.amount.amount,
            currency: request.amount.currency.toLowerCase(),
            customer: request.customerId,
            payment_method: request.paymentMethodId,
            off_session: true,
            confirm: true,
            description: `Auto top-up ${request.topUpId} of workspace ${request.workspaceId}`,
            metadata: {
              workspaceId: request.workspaceId,
              topUpId: request.topUpId,
              attempt: String(request.attempt),
            },
          },
          { idempotencyKey: request.idempotencyKey },
        );
      } catch (error) {
        // A decline, or a card that needs its holder, is Stripe's answer about this attempt.
        if (error instanceof Stripe.errors.StripeCardError) {
          return {
            status: 'FAILED',
            paymentIntentId: idOf(error.payment_intent) ?? null,
            reason: failureReason(error),
            code: error.decline_code ?? error.code ?? null,
            message: firstLine(error.message),
          };
        }
        throw toProviderError('charge the saved card', error);
      }
      return offSessionOutcome(intent);
    },

    async offSessionCharge(paymentIntentId: string): Promise<OffSessionCharge> {
      const intent = await call('read the charge', () => stripe.paymentIntents.retrieve(paymentIntentId));
      return offSessionOutcome(intent);
    },

    async findTopUpCharge({ customerId, workspaceId, topUpId, attempt }) {
      try {
        // The SDK follows `has_more`; a customer's off-session payments are few.
        for await (const intent of stripe.paymentIntents.list({ customer: customerId, limit: 100 })) {
          const { metadata } = intent;
          if (
            metadata.workspaceId === workspaceId &&
            metadata.topUpId === topUpId &&
            metadata.attempt === String(attempt)
          ) {
            return offSessionOutcome(intent);
          }
        }
      } catch (error) {
        throw toProviderError('look for the charge', error);
      }
      return undefined;
    },

    async detachPaymentMethod(paymentMethodId: string): Promise<void> {
      try {
        await stripe.paymentMethods.detach(paymentMethodId);
      } catch (error) {
        // Unknown, or no longer attached to a customer (Stripe says so in words, without a code).
        const gone =
          error instanceof Stripe.errors.StripeError &&
          (error.code === 'resource_missing' ||
            error.code === 'payment_method_unexpected_state' ||
            (error.type === 'StripeInvalidRequestError' && /not attached to a customer/i.test(error.message)));
        if (!gone) throw toProviderError('forget the saved card', error);
      }
    },

    parseWebhook(rawBody: Buffer, signatureHeader: string | undefined): PaymentEvent {
      if (!signatureHeader) throw new InvalidWebhookSignature('The webhook has no Stripe-Signature header.');
      let event: Stripe.Event;
      try {
        // Default tolerance (300 s): an old signed payload replayed later is refused.
        event = stripe.webhooks.constructEvent(rawBody, signatureHeader, webhookSecret);
      } catch (error) {
        if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
          throw new InvalidWebhookSignature(`Invalid webhook signature: ${firstLine(error.message)}`, { cause: error });
        }
        // The signature matched but the body is not an event (e.g. not JSON): still not something to act on.
        throw new InvalidWebhookSignature('The webhook body is not a Stripe event.', { cause: error });
      }
      return narrow(event);
    },
  };
}

/** `http://127.0.0.1:12111` → the SDK's separate host, port and protocol options. */
function apiBaseConfig(apiBase: string): { host: string; port: number; protocol: 'http' | 'https' } {
  const url = new URL(apiBase);
  const protocol = url.protocol === 'http:' ? 'http' : url.protocol === 'https:' ? 'https' : undefined;
  if (!protocol) throw new Error(`Stripe API base must be an http(s) URL, got ${apiBase}`);
  // The SDK always requests /v1/...; a path prefix on the base would be silently dropped.
  if (url.pathname !== '/' && url.pathname !== '') throw new Error(`Stripe API base must not have a path: ${apiBase}`);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443,
    protocol,
  };
}

function checkoutMetadata(request: CheckoutRequest): Record<string, string> {
  return {
    workspaceId: request.workspaceId,
    checkoutId: request.checkoutId,
    packageId: request.packageId,
    credits: String(request.credits),
    startedBy: request.startedBy,
  };
}

function narrow(event: Stripe.Event): PaymentEvent {
  switch (event.type) {
    case 'checkout.session.completed': {
      const session = event.data.object;
      if (session.mode === 'setup') {
        return {
          kind: 'setup_completed',
          eventId: event.id,
          sessionId: session.id,
          setupIntentId: idOf(session.setup_intent),
          metadata: metadataOf(session),
        };
      }
      // Delayed methods (bank debits, vouchers) complete the checkout before the money arrives;
      // only 'paid' (or nothing to pay) may be credited now.
      if (session.payment_status === 'unpaid') return checkoutUnpaid(event.id, session, 'PROCESSING');
      return checkoutPaid(event.id, session);
    }
    case 'checkout.session.async_payment_succeeded':
      return checkoutPaid(event.id, event.data.object);
    case 'checkout.session.async_payment_failed':
      return checkoutUnpaid(event.id, event.data.object, 'FAILED');
    case 'checkout.session.expired':
      return checkoutUnpaid(event.id, event.data.object, 'EXPIRED');
    case 'charge.refunded':
      return chargeRefunded(event.id, event.data.object);
    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed':
    case 'charge.refund.updated':
      return { kind: 'refund_updated', eventId: event.id, refund: providerRefund(event.data.object) };
    case 'charge.dispute.created':
    case 'charge.dispute.updated':
    case 'charge.dispute.closed':
    case 'charge.dispute.funds_withdrawn':
    case 'charge.dispute.funds_reinstated':
      return { kind: 'dispute_updated', eventId: event.id, dispute: providerDispute(event.data.object) };
    case 'payment_intent.succeeded': {
      const intent = event.data.object;
      return {
        kind: 'payment_succeeded',
        eventId: event.id,
        paymentIntentId: intent.id,
        amountReceived: intent.amount_received,
        currency: intent.currency.toUpperCase(),
        metadata: metadataOf(intent),
      };
    }
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      const error = intent.last_payment_error;
      return {
        kind: 'payment_failed',
        eventId: event.id,
        paymentIntentId: intent.id,
        reason: failureReason(error),
        code: error?.decline_code ?? error?.code ?? null,
        message: firstLine(error?.message ?? 'The payment failed.'),
        metadata: metadataOf(intent),
      };
    }
    default:
      return { kind: 'ignored', eventId: event.id, type: event.type };
  }
}

/**
 * Why a charge failed: its cardholder is needed (3-D Secure), so that charging off-session again
 * would fail the same way, or the card was declined. Stripe says the first with the error's code or,
 * for some issuers' soft declines, its decline code; a failed off-session PaymentIntent read back
 * afterwards has the status requires_payment_method, so the status alone cannot tell.
 */
function failureReason(
  error: { code?: string; decline_code?: string } | null | undefined,
): 'REQUIRES_ACTION' | 'DECLINED' {
  return error?.code === 'authentication_required' || error?.decline_code === 'authentication_required'
    ? 'REQUIRES_ACTION'
    : 'DECLINED';
}

/** A created payment intent: paid, on its way (e.g. a bank debit), or waiting for its cardholder. */
function offSessionOutcome(intent: Stripe.PaymentIntent): OffSessionCharge {
  if (intent.status === 'succeeded') {
    return {
      status: 'SUCCEEDED',
      paymentIntentId: intent.id,
      amountReceived: { amount: intent.amount_received, currency: intent.currency.toUpperCase() },
    };
  }
  if (intent.status === 'processing') return { status: 'PROCESSING', paymentIntentId: intent.id };
  const error = intent.last_payment_error;
  return {
    status: 'FAILED',
    paymentIntentId: intent.id,
    reason: intent.status === 'requires_action' ? 'REQUIRES_ACTION' : failureReason(error),
    code: error?.decline_code ?? error?.code ?? intent.status,
    message: firstLine(error?.message ?? `The payment is ${intent.status.replace(/_/g, ' ')}.`),
  };
}

function checkoutPaid(eventId: string, session: Stripe.Checkout.Session): PaymentEvent {
  return {
    kind: 'checkout_paid',
    eventId,
    sessionId: session.id,
    paymentIntentId: idOf(session.payment_intent),
    amountPaid: session.amount_total ?? 0,
    currency: (session.currency ?? '').toUpperCase(),
    metadata: metadataOf(session),
  };
}

function checkoutUnpaid(
  eventId: string,
  session: Stripe.Checkout.Session,
  status: 'PROCESSING' | 'FAILED' | 'EXPIRED',
): PaymentEvent {
  return { kind: 'checkout_unpaid', eventId, sessionId: session.id, status, metadata: metadataOf(session) };
}

function chargeRefunded(eventId: string, charge: Stripe.Charge): PaymentEvent {
  const listed = charge.refunds?.data;
  return {
    kind: 'charge_refunded',
    eventId,
    // A charge outside a payment intent (legacy Charges API) is not one of ours; '' keeps it unmatched.
    paymentIntentId: idOf(charge.payment_intent) ?? '',
    metadata: metadataOf(charge),
    refunds: (listed ?? []).map(providerRefund),
    refundsListed: listed !== undefined,
  };
}

const REFUND_STATUSES: Record<string, ProviderRefundStatus> = {
  pending: 'PENDING',
  requires_action: 'REQUIRES_ACTION',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  canceled: 'CANCELED',
};

function providerRefund(refund: Stripe.Refund): ProviderRefund {
  return {
    refundId: refund.id,
    paymentIntentId: idOf(refund.payment_intent) ?? '',
    amount: refund.amount,
    currency: refund.currency.toUpperCase(),
    status: REFUND_STATUSES[refund.status ?? 'pending'] ?? 'PENDING',
    failureReason: refund.failure_reason ?? undefined,
    metadata: metadataOf(refund),
  };
}

/** Stripe's dispute statuses: `warning_*` are inquiries; one closed without a chargeback is won. */
function providerDispute(dispute: Stripe.Dispute): ProviderDispute {
  const status =
    dispute.status === 'lost'
      ? 'LOST'
      : dispute.status === 'won' || dispute.status === 'warning_closed'
        ? 'WON'
        : 'OPEN';
  return {
    disputeId: dispute.id,
    paymentIntentId: idOf(dispute.payment_intent) ?? '',
    amount: dispute.amount,
    currency: dispute.currency.toUpperCase(),
    status,
    reason: dispute.reason,
  };
}

/** Expandable fields are an id or the expanded object, depending on the request. */
function idOf(value: string | { id: string } | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.id;
}

function metadataOf(object: { metadata?: Stripe.Metadata | null }): Record<string, string> {
  return { ...(object.metadata ?? {}) };
}

/** Runs an API call and turns the SDK's errors into the port's. */
async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw toProviderError(what, error);
  }
}

function toProviderError(what: string, error: unknown): unknown {
  const errors = Stripe.errors;
  if (!(error instanceof errors.StripeError)) return error; // a bug of ours, not Stripe's answer
  const status = error.statusCode;
  const retryable =
    // Never reached Stripe, or the answer was lost: resending with the same idempotency key is safe.
    error instanceof errors.StripeConnectionError ||
    (error instanceof errors.StripeAPIError && status === undefined) ||
    error instanceof errors.StripeRateLimitError ||
    // A concurrent request with the same idempotency key was still in flight.
    status === 409 ||
    (status !== undefined && status >= 500);
  return new PaymentProviderError(`Stripe could not ${what}: ${firstLine(error.message)}`, {
    retryable,
    ...(status !== undefined && { statusCode: status }),
    ...(error.rawType !== undefined && { providerType: error.rawType }),
    ...(error.code !== undefined && { providerCode: error.code }),
    ...(error.requestId !== undefined && { requestId: error.requestId }),
    cause: error,
  });
}

const firstLine = (message: string): string => message.split('\n')[0] ?? message;
