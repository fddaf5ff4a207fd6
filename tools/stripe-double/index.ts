/**
 * A local stand-in for the parts of the Stripe API the credits service uses, so the real `stripe`
 * SDK can be exercised end to end without reaching Stripe: Checkout Sessions (payment mode, and
 * setup mode that saves a card), Payment Intents (from Checkout, or charging a saved card
 * off-session: off-session.ts), Customers, PaymentMethods and SetupIntents (saved-cards.ts, with
 * Stripe's test cards: test-cards.ts), Refunds (created, retrieved and listed page by page,
 * pending then succeeded or failed), Disputes, idempotent requests with Stripe's rules, injected
 * faults (a lost answer, an error answered after acting), tiny hosted-checkout pages, and signed
 * webhooks that a test can hold back and deliver in any order, or again, and that are retried
 * after a failed delivery as Stripe retries them.
 *
 * It speaks Stripe's wire format (form-encoded requests with bracketed keys, JSON answers, Stripe's
 * error shape) and keeps everything in memory. Webhooks are signed with the SDK's own test helper,
 * so what the service verifies is exactly what Stripe would send. `npm run demo` (tools/demo.ts)
 * runs it beside the server, so the whole purchase can be tried locally.
 *
 * Endpoints (every POST honours Idempotency-Key; `failNext(path, ...)` injects faults on any):
 *   POST /v1/checkout/sessions               mode=payment | mode=setup (customer, currency, setup_intent_data)
 *   GET  /v1/checkout/sessions/:id
 *   POST /v1/customers                       GET /v1/customers/:id
 *   GET  /v1/setup_intents/:id               expand[]=payment_method, customer
 *   GET  /v1/payment_methods/:id             POST /v1/payment_methods/:id/detach
 *   POST /v1/payment_intents                 confirm=true with a saved card (off_session), 200 or 402
 *   GET  /v1/payment_intents/:id             expand[]=payment_method, customer, latest_charge
 *   GET  /v1/payment_intents                 customer, limit, starting_after (newest first)
 *   POST /v1/refunds  GET /v1/refunds  GET /v1/refunds/:id  GET /v1/disputes/:id
 * Pages: GET /checkout/:id, POST /checkout/:id/pay (payment), POST /checkout/:id/save (setup, `card`).
 * The test controls are the methods of `StripeDouble` (types.ts).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkoutPage, type SessionRecord } from './checkout-page';
import { createCheckoutSession } from './checkout-sessions';
import {
  asStripeApiError,
  decodeStripeForm,
  expanded,
  expansions,
  invalid,
  isRecord,
  metadataParam,
  noSuch,
  optionalInteger,
  optionalString,
  refuseUnknown,
  StripeApiError,
  type Params,
} from './form';
import { newId, now } from './ids';
import { createPaymentIntent, newPaymentIntent } from './off-session';
import { CardNotSaved, savedCards } from './saved-cards';
import { webhookDeliveries } from './webhooks';
import type {
  CompleteCheckoutOptions,
  CompleteSetupOptions,
  DeliverOption,
  DoubleCharge,
  DoubleCheckoutSession,
  DoubleDispute,
  DoublePaymentIntent,
  DoubleRefund,
  DoubleRefundStatus,
  FailMode,
  RecordedRequest,
  StripeDouble,
  StripeDoubleOptions,
  WebhookDelivery,
} from './types';

export * from './types';
export * from './card-types';
export { decodeStripeForm } from './form';
export { TEST_CARDS, type TestCard } from './test-cards';

interface StoredResponse {
  method: string;
  path: string;
  fingerprint: string;
  status: number;
  body: string;
}

export async function startStripeDouble(options: StripeDoubleOptions): Promise<StripeDouble> {
  const requests: RecordedRequest[] = [];
  const sessions = new Map<string, SessionRecord>();
  const paymentIntents = new Map<string, DoublePaymentIntent>();
  const charges = new Map<string, DoubleCharge>();
  const refunds = new Map<string, DoubleRefund>();
  const idempotent = new Map<string, StoredResponse>();
  const faults = new Map<string, { mode: FailMode; remaining: number }>();
  const disputes = new Map<string, DoubleDispute>();
  const cards = savedCards();
  const automatic = options.automaticEvents ?? options.webhookUrl !== undefined;
  const automaticEvents = typeof automatic === 'boolean' ? automatic : (automatic.refunds ?? false);
  const automaticPaymentIntentEvents = typeof automatic === 'boolean' ? automatic : (automatic.paymentIntents ?? false);
  const webhooks = webhookDeliveries(options);
  const { emit, later, sign } = webhooks;
  let refundStatus: DoubleRefundStatus = 'succeeded';
  const prices = new Map(Object.entries(options.prices ?? {}));
  let baseUrl = '';

  // ---- API operations --------------------------------------------------------------------

  function createRefund(params: Params): { status: number; body: unknown } {
    refuseUnknown(params, ['payment_intent', 'charge', 'amount', 'metadata', 'reason', 'expand']);
    const intentId = optionalString(params, 'payment_intent');
    const chargeId = optionalString(params, 'charge');
    let intent: DoublePaymentIntent | undefined;
    if (intentId !== undefined) {
      intent = paymentIntents.get(intentId);
      if (!intent)
        throw invalid(`No such payment_intent: '${intentId}'`, { code: 'resource_missing', param: 'payment_intent' });
    } else if (chargeId !== undefined) {
      const charge = charges.get(chargeId);
      if (!charge) throw invalid(`No such charge: '${chargeId}'`, { code: 'resource_missing', param: 'charge' });
      intent = paymentIntents.get(charge.payment_intent);
    } else {
      throw invalid('One of the following params should be provided for this request: payment_intent or charge.', {
        code: 'parameter_missing',
      });
    }
    const reason = optionalString(params, 'reason');
    if (reason !== undefined && !['duplicate', 'fraudulent', 'requested_by_customer'].includes(reason)) {
      throw invalid(`Invalid reason: ${reason}`, { param: 'reason' });
    }
    const amount = optionalInteger(params, 'amount');
    const refund = makeRefund(intent, amount, metadataParam(params, 'metadata'), reason ?? null);
    if (automaticEvents) later(() => refundEvents(refund, ['refund.created', 'charge.refunded']));
    return { status: 200, body: refund };
  }

  /** The events about a refund: the refund itself, or its charge with every refund listed. */
  async function refundEvents(refund: DoubleRefund, types: string[], deliverOption: DeliverOption = {}) {
    const deliveries: WebhookDelivery[] = [];
    for (const type of types) {
      const object = type === 'charge.refunded' ? chargeSnapshot(chargeOf(refund.payment_intent), true) : refund;
      deliveries.push(await emit(type, object, deliverOption));
    }
    return deliveries;
  }

  /** Creates a refund against a payment intent's charge, refusing what Stripe would refuse. */
  function makeRefund(
    intent: DoublePaymentIntent | undefined,
    amount: number | undefined,
    metadata: Record<string, string>,
    reason: string | null,
  ): DoubleRefund {
    const charge = intent?.latest_charge ? charges.get(intent.latest_charge) : undefined;
    if (!intent || charge?.status !== 'succeeded') {
      throw invalid(`This PaymentIntent (${intent?.id ?? 'unknown'}) does not have a successful charge to refund.`, {
        code: 'charge_not_refundable',
        param: 'payment_intent',
      });
    }
    // A charge under a formal dispute, or one charged back, cannot be refunded; an inquiry
    // (`warning_*`) can, and a dispute won leaves the charge refundable.
    const chargedBack = [...disputes.values()].some(
      (dispute) => dispute.charge === charge.id && !dispute.status.startsWith('warning_') && dispute.status !== 'won',
    );
    if (chargedBack) {
      throw invalid(`Charge ${charge.id} has been charged back; cannot issue a refund.`, { code: 'charge_disputed' });
    }
    const refundable = charge.amount - charge.amount_refunded;
    if (refundable === 0) {
      throw invalid(`Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded' });
    }
    const value = amount ?? refundable;
    if (value < 1)
      throw invalid('Refund amount must be positive.', { code: 'parameter_invalid_integer', param: 'amount' });
    if (value > refundable) {
      throw invalid(`Refund amount (${value}) is greater than unrefunded amount on charge (${refundable}).`, {
        code: 'amount_too_large',
        param: 'amount',
      });
    }
    const refund: DoubleRefund = {
      id: newId('re'),
      object: 'refund',
      amount: value,
      charge: charge.id,
      created: now(),
      currency: charge.currency,
      metadata,
      payment_intent: intent.id,
      reason,
      status: refundStatus,
      failure_reason: null,
    };
    refunds.set(refund.id, refund);
    charge.amount_refunded += value;
    charge.refunded = charge.amount_refunded === charge.amount;
    return refund;
  }

  /**
   * `GET /v1/refunds`: newest first as Stripe lists them. The cursor is a position in the list of
   * all refunds; the filters (`payment_intent`, `charge`) then apply, then `limit` (default 10).
   * A filter naming an unknown payment intent or charge just matches nothing.
   */
  function listRefunds(params: Params): { status: number; body: unknown } {
    refuseUnknown(params, ['payment_intent', 'charge', 'limit', 'starting_after', 'ending_before', 'expand']);
    const intentId = optionalString(params, 'payment_intent');
    const chargeId = optionalString(params, 'charge');
    const limit = optionalInteger(params, 'limit') ?? 10;
    if (limit < 1 || limit > 100) {
      throw invalid(`Invalid limit: must be between 1 and 100, not ${limit}.`, { param: 'limit' });
    }
    const startingAfter = optionalString(params, 'starting_after');
    const endingBefore = optionalString(params, 'ending_before');
    if (startingAfter !== undefined && endingBefore !== undefined) {
      throw invalid('You may only specify one of these parameters: starting_after, ending_before.');
    }
    const newestFirst = [...refunds.values()].reverse();
    const cursorAt = (param: string, id: string): number => {
      const index = newestFirst.findIndex((refund) => refund.id === id);
      if (index < 0) throw invalid(`No such refund: '${id}'`, { code: 'resource_missing', param });
      return index;
    };
    const candidates =
      startingAfter !== undefined
        ? newestFirst.slice(cursorAt('starting_after', startingAfter) + 1)
        : endingBefore !== undefined
          ? newestFirst.slice(0, cursorAt('ending_before', endingBefore))
          : newestFirst;
    const matching = candidates.filter(
      (refund) =>
        (intentId === undefined || refund.payment_intent === intentId) &&
        (chargeId === undefined || refund.charge === chargeId),
    );
    // Before a cursor, the page is the `limit` refunds closest to it (still newest first).
    const data = endingBefore !== undefined ? matching.slice(-limit) : matching.slice(0, limit);
    return {
      status: 200,
      body: { object: 'list', data, has_more: matching.length > limit, url: '/v1/refunds' },
    };
  }

  function retrieve(found: unknown, kind: string, id: string): { status: number; body: unknown } {
    if (!found) throw noSuch(kind, id);
    return { status: 200, body: found };
  }

  function retrievePaymentIntent(id: string, params: Params): { status: number; body: unknown } {
    const expand = expansions(params, ['customer', 'latest_charge', 'payment_method']);
    const intent = paymentIntents.get(id);
    if (!intent) throw noSuch('payment_intent', id);
    return {
      status: 200,
      body: {
        ...intent,
        customer: expanded(intent.customer, expand, 'customer', cards.customers),
        latest_charge: expanded(intent.latest_charge, expand, 'latest_charge', charges),
        payment_method: expanded(intent.payment_method, expand, 'payment_method', cards.paymentMethods),
      },
    };
  }

  /** A customer's payment intents, newest first, paged as Stripe pages lists. */
  function listPaymentIntents(params: Params): { status: number; body: unknown } {
    const customer = typeof params.customer === 'string' ? params.customer : undefined;
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 10)));
    const startingAfter = typeof params.starting_after === 'string' ? params.starting_after : undefined;
    const newestFirst = [...paymentIntents.values()]
      .reverse()
      .filter((intent) => customer === undefined || intent.customer === customer);
    const from = startingAfter === undefined ? 0 : newestFirst.findIndex((intent) => intent.id === startingAfter) + 1;
    const data = newestFirst.slice(from, from + limit);
    return {
      status: 200,
      body: { object: 'list', data, has_more: newestFirst.length > from + limit, url: '/v1/payment_intents' },
    };
  }

  /** Charges a saved card; the event about it follows the answer, as Stripe sends it. */
  function chargeSavedCard(params: Params): { status: number; body: unknown } {
    const confirmation = createPaymentIntent(params, {
      cards,
      store: (intent) => paymentIntents.set(intent.id, intent),
      charge: newCharge,
    });
    if (automaticPaymentIntentEvents) later(() => emit(confirmation.event, confirmation.intent));
    return confirmation;
  }

  function routeApi(method: string, path: string, params: Params): { status: number; body: unknown } {
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      return createCheckoutSession(params, { prices, cards, sessions, baseUrl: () => baseUrl });
    }
    if (method === 'POST' && path === '/v1/refunds') return createRefund(params);
    if (method === 'GET' && path === '/v1/refunds') return listRefunds(params);
    if (method === 'POST' && path === '/v1/payment_intents') return chargeSavedCard(params);
    if (method === 'GET' && path === '/v1/payment_intents') return listPaymentIntents(params);
    const cardAnswer = cards.route(method, path, params);
    if (cardAnswer) return cardAnswer;
    const [, collection, id = ''] =
      /^\/v1\/(checkout\/sessions|refunds|payment_intents|disputes)\/([^/]+)$/.exec(path) ?? [];
    if (method === 'GET' && collection === 'disputes') return retrieve(disputes.get(id), 'dispute', id);
    if (method === 'GET' && collection === 'checkout/sessions')
      return retrieve(sessions.get(id)?.session, 'checkout.session', id);
    if (method === 'GET' && collection === 'refunds') return retrieve(refunds.get(id), 'refund', id);
    if (method === 'GET' && collection === 'payment_intents') return retrievePaymentIntent(id, params);
    throw new StripeApiError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  }

  function sessionRecord(sessionId: string): SessionRecord {
    const record = sessions.get(sessionId);
    if (!record) throw new Error(`The Stripe double has no checkout session ${sessionId}`);
    return record;
  }

  /** The charge of an intent: it pays the intent, or (with `failure`) records a declined attempt. */
  function newCharge(intent: DoublePaymentIntent, failure?: { code: string; message: string }): DoubleCharge {
    const charge: DoubleCharge = {
      id: newId('ch'),
      object: 'charge',
      amount: intent.amount,
      amount_captured: failure ? 0 : intent.amount,
      amount_refunded: 0,
      created: now(),
      currency: intent.currency,
      customer: intent.customer,
      failure_code: failure?.code ?? null,
      failure_message: failure?.message ?? null,
      livemode: false,
      metadata: {},
      paid: !failure,
      payment_intent: intent.id,
      payment_method: intent.payment_method,
      refunded: false,
      status: failure ? 'failed' : 'succeeded',
    };
    charges.set(charge.id, charge);
    intent.latest_charge = charge.id;
    if (!failure) {
      intent.amount_received = intent.amount;
      intent.status = 'succeeded';
      intent.last_payment_error = null;
    }
    return charge;
  }

  function completeCheckout(sessionId: string, completion: CompleteCheckoutOptions = {}): Promise<WebhookDelivery> {
    const { session, paymentIntentMetadata } = sessionRecord(sessionId);
    if (session.mode !== 'payment') throw new Error(`Checkout session ${sessionId} saves a card: completeSetup`);
    if (session.status !== 'open') throw new Error(`Checkout session ${sessionId} is ${session.status}, not open`);
    const amount = completion.amountTotal ?? session.amount_total ?? 0;
    const intent = newPaymentIntent({
      amount,
      currency: session.currency,
      customer: null,
      description: null,
      metadata: { ...paymentIntentMetadata },
      payment_method: null,
      status: 'processing',
    });
    paymentIntents.set(intent.id, intent);
    const paymentStatus = completion.paymentStatus ?? 'paid';
    if (paymentStatus === 'paid') newCharge(intent);
    session.status = 'complete';
    session.payment_status = paymentStatus;
    session.payment_intent = intent.id;
    session.amount_total = amount;
    session.url = null; // Stripe clears the URL once the session is complete
    return emit('checkout.session.completed', session, completion);
  }

  async function completeSetup(sessionId: string, completion: CompleteSetupOptions = {}): Promise<WebhookDelivery> {
    const record = sessionRecord(sessionId);
    const { session } = record;
    if (session.mode !== 'setup') throw new Error(`Checkout session ${sessionId} is a payment: completeCheckout`);
    if (session.status !== 'open') throw new Error(`Checkout session ${sessionId} is ${session.status}, not open`);
    const intent = cards.save({
      customer: session.customer,
      metadata: record.setupIntentMetadata,
      ...(completion.card !== undefined && { card: completion.card }),
      ...(completion.expMonth !== undefined && { expMonth: completion.expMonth }),
      ...(completion.expYear !== undefined && { expYear: completion.expYear }),
    });
    session.setup_intent = intent.id;
    session.status = 'complete';
    session.url = null; // Stripe clears the URL once the session is complete
    return emit('checkout.session.completed', session, completion);
  }

  /** The event Stripe sent about an intent's latest outcome. */
  function paymentIntentEventFor(paymentIntentId: string, deliverOption: DeliverOption = {}): Promise<WebhookDelivery> {
    const intent = paymentIntents.get(paymentIntentId);
    if (!intent) throw new Error(`The Stripe double has no payment intent ${paymentIntentId}`);
    const type =
      intent.status === 'succeeded'
        ? 'payment_intent.succeeded'
        : intent.status === 'requires_action'
          ? 'payment_intent.requires_action'
          : intent.last_payment_error
            ? 'payment_intent.payment_failed'
            : undefined;
    if (!type) throw new Error(`Payment intent ${paymentIntentId} is ${intent.status}: Stripe sends nothing yet`);
    return emit(type, intent, deliverOption);
  }

  function pendingIntent(sessionId: string): { session: DoubleCheckoutSession; intent: DoublePaymentIntent } {
    const { session } = sessionRecord(sessionId);
    const intent = session.payment_intent ? paymentIntents.get(session.payment_intent) : undefined;
    if (session.status !== 'complete' || !intent || intent.status !== 'processing') {
      throw new Error(`Checkout session ${sessionId} has no delayed payment in flight`);
    }
    return { session, intent };
  }

  function chargeOf(paymentIntentId: string): DoubleCharge {
    const intent = paymentIntents.get(paymentIntentId);
    const charge = intent?.latest_charge ? charges.get(intent.latest_charge) : undefined;
    if (charge?.status !== 'succeeded')
      throw new Error(`The Stripe double has no successful charge for payment intent ${paymentIntentId}`);
    return charge;
  }

  function chargeSnapshot(charge: DoubleCharge, listRefunds: boolean): DoubleCharge {
    if (!listRefunds) return charge;
    const data = [...refunds.values()].filter((refund) => refund.charge === charge.id).reverse(); // newest first
    return {
      ...charge,
      refunds: {
        object: 'list',
        data,
        has_more: false,
        total_count: data.length,
        url: `/v1/charges/${charge.id}/refunds`,
      },
    };
  }

  // ---- HTTP ------------------------------------------------------------------------------

  function send(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    response.writeHead(status, { 'content-type': 'application/json', 'request-id': newId('req'), ...headers });
    response.end(body);
  }

  function errorBody(error: StripeApiError): string {
    return JSON.stringify({
      error: {
        type: error.type,
        message: error.message,
        ...(error.extra.code !== undefined && { code: error.extra.code }),
        ...(error.extra.param !== undefined && { param: error.extra.param }),
      },
    });
  }

  function injectedError(mode: { status: number; type?: string; code?: string; message?: string }): StripeApiError {
    const type =
      mode.type ?? (mode.status === 402 ? 'card_error' : mode.status >= 500 ? 'api_error' : 'invalid_request_error');
    const code = mode.code ?? (mode.status === 402 ? 'card_declined' : mode.status === 429 ? 'rate_limit' : undefined);
    return new StripeApiError(mode.status, type, mode.message ?? `Injected failure (HTTP ${mode.status}).`, {
      ...(code !== undefined && { code }),
    });
  }

  /** The fault waiting for this request: one set for its method and path (`POST /v1/refunds`), or for its path. */
  function takeFault(method: string, path: string): FailMode | undefined {
    const key = [`${method} ${path}`, path].find((candidate) => faults.has(candidate));
    const fault = key === undefined ? undefined : faults.get(key);
    if (key === undefined || !fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.delete(key);
    return fault.mode;
  }

  function authorised(headers: IncomingHttpHeaders): boolean {
    const header = headers.authorization ?? '';
    const key = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    return options.secretKey !== undefined ? key === options.secretKey : key !== '';
  }

  function handleApi(request: IncomingMessage, response: ServerResponse, record: RecordedRequest): void {
    const fault = takeFault(record.method, record.path);
    if (fault !== undefined) record.fault = fault;
    if (fault === 'drop-before') {
      request.socket.destroy();
      return;
    }
    const answer = (status: number, body: string, headers: Record<string, string> = {}): void => {
      if (fault === 'drop-after') {
        request.socket.destroy();
        return;
      }
      record.status = status;
      send(response, status, body, headers);
    };
    const afterActing = fault === 'error-after' ? injectedError({ status: 500 }) : undefined;
    if (typeof fault === 'object') {
      const error = injectedError(fault);
      answer(error.status, errorBody(error));
      return;
    }
    if (!authorised(record.headers)) {
      const error = new StripeApiError(401, 'invalid_request_error', 'Invalid API Key provided.');
      answer(error.status, errorBody(error));
      return;
    }
    const key = record.method === 'POST' ? record.idempotencyKey : undefined;
    const fingerprint = JSON.stringify(sortedDeep(record.body));
    if (key !== undefined) {
      const earlier = idempotent.get(key);
      if (
        earlier &&
        (earlier.method !== record.method || earlier.path !== record.path || earlier.fingerprint !== fingerprint)
      ) {
        const error = new StripeApiError(
          400,
          'idempotency_error',
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        );
        answer(error.status, errorBody(error));
        return;
      }
      if (earlier) {
        record.replayed = true;
        answer(earlier.status, earlier.body, { 'idempotent-replayed': 'true', 'idempotency-key': key });
        return;
      }
    }
    try {
      // The SDK sends a GET's parameters in the query string, a POST's in the form body.
      const result = routeApi(record.method, record.path, record.method === 'GET' ? record.query : record.body);
      // Acted, then failed: Stripe saves that 500 for the key and answers every retry with it.
      const status = afterActing?.status ?? result.status;
      const body = afterActing ? errorBody(afterActing) : JSON.stringify(result.body);
      // Like Stripe, only requests that were executed are saved; validation failures are not.
      if (key !== undefined) {
        idempotent.set(key, { method: record.method, path: record.path, fingerprint, status, body });
      }
      answer(status, body, key !== undefined ? { 'idempotency-key': key } : {});
    } catch (error) {
      const failure = asStripeApiError(error);
      answer(failure.status, errorBody(failure));
    }
  }

  async function handlePage(
    request: IncomingMessage,
    response: ServerResponse,
    record: RecordedRequest,
  ): Promise<void> {
    const page = /^\/checkout\/([^/]+)(\/pay|\/save)?$/.exec(record.path);
    const found = page ? sessions.get(page[1] ?? '') : undefined;
    const action = page?.[2];
    if (!page || !found || (action !== undefined && action !== (found.session.mode === 'setup' ? '/save' : '/pay'))) {
      response.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><title>Not found</title><p>No such checkout session.</p>');
      return;
    }
    const { session } = found;
    if (action && request.method === 'POST') {
      if (session.status !== 'open') {
        response.writeHead(409, { 'content-type': 'text/html; charset=utf-8' });
        response.end(`<!doctype html><title>Checkout closed</title><p>This checkout session is ${session.status}.</p>`);
        return;
      }
      // Deliver before redirecting, as a fast Stripe would: the success page then sees the credit.
      const deliver = options.webhookUrl !== undefined;
      if (action === '/pay') await completeCheckout(session.id, { deliver });
      else {
        const card = typeof record.body.card === 'string' ? record.body.card : undefined;
        try {
          await completeSetup(session.id, { deliver, ...(card !== undefined && { card }) });
        } catch (error) {
          if (!(error instanceof CardNotSaved)) throw error;
          // As on Stripe's page: the card is refused, the tester may pick another.
          response.writeHead(402, { 'content-type': 'text/html; charset=utf-8' });
          response.end(checkoutPage(found, baseUrl, error.message));
          return;
        }
      }
      const target = (session.success_url ?? `${baseUrl}/checkout/${session.id}`).replace(
        '{CHECKOUT_SESSION_ID}',
        session.id,
      );
      response.writeHead(303, { location: target });
      response.end();
      return;
    }
    if (request.method !== 'GET' || action) {
      response.writeHead(405, { allow: action ? 'POST' : 'GET' });
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(checkoutPage(found, baseUrl));
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://double.invalid');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const record: RecordedRequest = {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: {},
        headers: request.headers,
        idempotencyKey: singleHeader(request.headers['idempotency-key']),
        body: {},
        rawBody,
        replayed: false,
      };
      requests.push(record);
      try {
        record.query = decodeStripeForm(url.search.slice(1));
        const isForm = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
        record.body = isForm ? decodeStripeForm(rawBody) : {};
      } catch (error) {
        const failure = asStripeApiError(error);
        record.status = failure.status;
        send(response, failure.status, errorBody(failure));
        return;
      }
      if (url.pathname.startsWith('/v1/')) {
        handleApi(request, response, record);
        return;
      }
      handlePage(request, response, record).catch((error: unknown) => {
        // Typically the webhook endpoint was down or threw: say so on the page rather than hang.
        response.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`The Stripe double could not complete the payment: ${String(error)}`);
      });
    });
  });

  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    webhookSecret: options.webhookSecret,
    requests,
    requestsTo: (path, method) =>
      requests.filter((request) => request.path === path && (method === undefined || request.method === method)),
    events: webhooks.events,

    session: (id) => sessions.get(id)?.session,
    sessions: () => [...sessions.values()].map((record) => record.session),
    paymentIntent: (id) => paymentIntents.get(id),
    refunds: (paymentIntentId) =>
      [...refunds.values()].filter(
        (refund) => paymentIntentId === undefined || refund.payment_intent === paymentIntentId,
      ),
    refundedTotal: (paymentIntentId) =>
      [...refunds.values()]
        .filter((refund) => refund.payment_intent === paymentIntentId && gaveBack(refund))
        .reduce((sum, refund) => sum + refund.amount, 0),
    failRefund: (refundId, status = 'failed') => moveRefund(refundId, status),
    setRefundStatus(status) {
      refundStatus = status;
    },
    async settleRefund(refundId, status, deliverOption = {}) {
      const refund = moveRefund(refundId, status);
      const types = ['refund.updated', ...(status === 'failed' ? ['refund.failed'] : []), 'charge.refund.updated'];
      return refundEvents(refund, [...types, 'charge.refunded'], deliverOption);
    },
    async openDispute(paymentIntentId, disputeOptions = {}) {
      const charge = chargeOf(paymentIntentId);
      const dispute: DoubleDispute = {
        id: newId('dp'),
        object: 'dispute',
        amount: disputeOptions.amount ?? charge.amount - charge.amount_refunded,
        charge: charge.id,
        created: now(),
        currency: charge.currency,
        livemode: false,
        metadata: {},
        payment_intent: paymentIntentId,
        reason: disputeOptions.reason ?? 'fraudulent',
        status: 'needs_response',
      };
      disputes.set(dispute.id, dispute);
      return { dispute, delivery: await emit('charge.dispute.created', dispute, disputeOptions) };
    },
    async closeDispute(disputeId, outcome, deliverOption = {}) {
      const dispute = disputes.get(disputeId);
      if (!dispute) throw new Error(`The Stripe double has no dispute ${disputeId}`);
      if (dispute.status === 'won' || dispute.status === 'lost') throw new Error(`Dispute ${disputeId} is closed`);
      dispute.status = outcome;
      return emit('charge.dispute.closed', dispute, deliverOption);
    },
    dispute: (id) => disputes.get(id),
    async expireSession(sessionId, deliverOption = {}) {
      const { session } = sessionRecord(sessionId);
      if (session.status !== 'open') throw new Error(`Checkout session ${sessionId} is ${session.status}, not open`);
      session.status = 'expired';
      session.url = null;
      return emit('checkout.session.expired', session, deliverOption);
    },
    holdDeliveries: webhooks.hold,
    releaseDeliveries: (order = (deliveries) => deliveries) => webhooks.release(order),

    failNext(path, mode, times = 1) {
      faults.set(path, { mode, remaining: times });
    },
    clearFaults() {
      faults.clear();
    },
    forgetIdempotencyKeys() {
      idempotent.clear();
    },

    completeCheckout,
    completeSetup,
    async asyncPaymentSucceeded(sessionId, deliverOption) {
      const { session, intent } = pendingIntent(sessionId);
      newCharge(intent);
      session.payment_status = 'paid';
      return emit('checkout.session.async_payment_succeeded', session, deliverOption);
    },
    async asyncPaymentFailed(sessionId, deliverOption) {
      const { session, intent } = pendingIntent(sessionId);
      intent.status = 'requires_payment_method';
      return emit('checkout.session.async_payment_failed', session, deliverOption);
    },
    async refundFromDashboard(paymentIntentId, amount, eventOptions = {}) {
      const charge = chargeOf(paymentIntentId);
      const refund = makeRefund(paymentIntents.get(paymentIntentId), amount, {}, 'requested_by_customer');
      if (automaticEvents && eventOptions.deliver !== false) later(() => emit('refund.created', refund, eventOptions));
      return emit('charge.refunded', chargeSnapshot(charge, eventOptions.listRefunds ?? true), eventOptions);
    },
    async chargeRefundedFor(refundId, eventOptions = {}) {
      const refund = refunds.get(refundId);
      if (!refund) throw new Error(`The Stripe double has no refund ${refundId}`);
      return emit(
        'charge.refunded',
        chargeSnapshot(chargeOf(refund.payment_intent), eventOptions.listRefunds ?? true),
        eventOptions,
      );
    },
    redeliver: (delivery, signature) => webhooks.redeliver(delivery, signature ?? delivery.signature),
    sign,

    customer: (id) => cards.customers.get(id),
    customers: () => [...cards.customers.values()],
    setupIntent: (id) => cards.setupIntents.get(id),
    paymentMethod: (id) => cards.paymentMethods.get(id),
    paymentMethods: (customerId) =>
      [...cards.paymentMethods.values()].filter((method) => customerId === undefined || method.customer === customerId),
    paymentIntents: (customerId) =>
      [...paymentIntents.values()].filter((intent) => customerId === undefined || intent.customer === customerId),
    setCardBehaviour: (id, behaviour) => cards.setBehaviour(id, behaviour),
    cardBehaviour: (paymentMethodId) => cards.behaviourOf(paymentMethodId),
    paymentIntentEventFor,
    retryFailedDeliveries: webhooks.retryFailed,

    close: async () => {
      await webhooks.settled();
      await new Promise<void>((closed, failed) => {
        server.close((error) => (error ? failed(error) : closed()));
        // The SDK keeps connections alive; without this, close() would wait for them to time out.
        server.closeAllConnections();
      });
    },
  };

  /**
   * A refund's status changes as Stripe changes it: one that fails or is canceled gives the money
   * back to the charge's refundable amount; nothing moves it on from there.
   */
  function moveRefund(refundId: string, status: DoubleRefundStatus): DoubleRefund {
    const refund = refunds.get(refundId);
    if (!refund) throw new Error(`The Stripe double has no refund ${refundId}`);
    if (!gaveBack(refund)) throw new Error(`Refund ${refundId} is already ${refund.status}`);
    const charge = charges.get(refund.charge);
    if (!charge) throw new Error(`The Stripe double has no charge ${refund.charge}`);
    refund.status = status;
    if (!gaveBack(refund)) {
      refund.failure_reason = status === 'failed' ? 'lost_or_stolen_card' : null;
      charge.amount_refunded -= refund.amount;
      charge.refunded = charge.amount_refunded === charge.amount;
    }
    return refund;
  }
}

const gaveBack = (refund: DoubleRefund): boolean => refund.status !== 'failed' && refund.status !== 'canceled';

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedDeep(value[key])]),
  );
}
