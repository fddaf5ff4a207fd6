/**
 * The Stripe adapter through the real `stripe` SDK against the local Stripe double: what goes on
 * the wire for checkout and refunds, how idempotency keys make retries safe when a response is
 * lost, how Stripe's errors reach the service, how refunds are listed across pages, and how webhooks
 * are verified and narrowed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import {
  InvalidWebhookSignature,
  PaymentProviderError,
  PaymentsNotConfigured,
  unconfiguredPaymentGateway,
  type CheckoutRequest,
  type PaymentEvent,
  type PaymentGateway,
} from '../../src/payments/payment-gateway';
import { createStripeGateway } from '../../src/payments/stripe-gateway';
import {
  decodeStripeForm,
  startStripeDouble,
  type StripeDouble,
  type WebhookDelivery,
} from '../../tools/stripe-double';

const SECRET_KEY = 'sk_test_credits_service_double';
const WEBHOOK_SECRET = 'whsec_test_credits_service_double';
const PRICE_ID = 'price_test_pack_500';

let double: StripeDouble;
let gateway: PaymentGateway;

beforeAll(async () => {
  double = await startStripeDouble({
    webhookSecret: WEBHOOK_SECRET,
    secretKey: SECRET_KEY,
    prices: { [PRICE_ID]: { unitAmount: 5000, currency: 'usd', productName: '500 credits' } },
  });
  gateway = createStripeGateway({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, apiBase: double.url });
});
afterAll(async () => {
  await double.close();
});

let keyCounter = 0;
const newKey = (what: string): string => `${what}-${process.pid}-${++keyCounter}`;

const checkoutRequest = (overrides: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
  workspaceId: 'ws-acme',
  checkoutId: 'checkout-test-1',
  packageId: 'pack-500',
  packageName: '500 credits',
  credits: 500,
  price: { amount: 5000, currency: 'USD' },
  startedBy: 'user-billing-manager',
  successUrl: 'https://app.example/billing?checkout={CHECKOUT_SESSION_ID}',
  cancelUrl: 'https://app.example/billing',
  idempotencyKey: newKey('checkout'),
  ...overrides,
});

const ourMetadata = {
  workspaceId: 'ws-acme',
  checkoutId: 'checkout-test-1',
  packageId: 'pack-500',
  credits: '500',
  startedBy: 'user-billing-manager',
};

/** A checkout paid by card at the double; returns its payment intent. */
async function paidPurchase(): Promise<{ sessionId: string; paymentIntentId: string }> {
  const session = await gateway.createCheckoutSession(checkoutRequest());
  await double.completeCheckout(session.id, { deliver: false });
  return { sessionId: session.id, paymentIntentId: double.session(session.id)?.payment_intent ?? '' };
}

const parse = (delivery: WebhookDelivery): PaymentEvent =>
  gateway.parseWebhook(Buffer.from(delivery.payload), delivery.signature);

async function providerError(promise: Promise<unknown>): Promise<PaymentProviderError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(PaymentProviderError);
  return error as PaymentProviderError;
}

describe('createCheckoutSession', () => {
  it('sends a one-line payment checkout with our metadata and the caller’s idempotency key', async () => {
    const request = checkoutRequest();
    const before = Date.now();
    const session = await gateway.createCheckoutSession(request);

    const [sent, ...others] = double
      .requestsTo('/v1/checkout/sessions', 'POST')
      .filter((r) => r.idempotencyKey === request.idempotencyKey);
    expect(others).toHaveLength(0);
    expect(sent?.headers['idempotency-key']).toBe(request.idempotencyKey);
    expect(sent?.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    expect(sent?.headers['stripe-version']).toBe(Stripe.API_VERSION);
    expect(sent?.body).toEqual({
      mode: 'payment',
      line_items: [
        {
          price_data: { currency: 'usd', unit_amount: '5000', product_data: { name: '500 credits' } },
          quantity: '1',
        },
      ],
      metadata: ourMetadata,
      payment_intent_data: { metadata: ourMetadata },
      client_reference_id: 'ws-acme',
      success_url: request.successUrl,
      cancel_url: request.cancelUrl,
    });

    expect(session.id).toMatch(/^cs_test_/);
    expect(session.url).toBe(`${double.url}/checkout/${session.id}`);
    const expiresIn = session.expiresAt.getTime() - before;
    expect(expiresIn).toBeGreaterThan(23.9 * 3600_000);
    expect(expiresIn).toBeLessThanOrEqual(24 * 3600_000 + 1000);
    expect(double.session(session.id)).toMatchObject({ amount_total: 5000, currency: 'usd', payment_status: 'unpaid' });
  });

  it('names the configured Stripe price instead of an inline price when the package has one', async () => {
    const request = checkoutRequest({ stripePriceId: PRICE_ID });
    const session = await gateway.createCheckoutSession(request);

    const sent = double.requestsTo('/v1/checkout/sessions').find((r) => r.idempotencyKey === request.idempotencyKey);
    expect(sent?.body.line_items).toEqual([{ price: PRICE_ID, quantity: '1' }]);
    expect(double.session(session.id)?.amount_total).toBe(5000);
  });

  it('returns the same session for a repeated key, and Stripe creates only one', async () => {
    const request = checkoutRequest();
    const sessionsBefore = double.sessions().length;

    const first = await gateway.createCheckoutSession(request);
    const second = await gateway.createCheckoutSession(request);

    expect(second).toEqual(first);
    expect(double.sessions().length).toBe(sessionsBefore + 1);
    const sent = double.requestsTo('/v1/checkout/sessions').filter((r) => r.idempotencyKey === request.idempotencyKey);
    expect(sent.map((r) => r.replayed)).toEqual([false, true]);
  });

  it('refuses a key reused for a different purchase, without retrying', async () => {
    const request = checkoutRequest();
    await gateway.createCheckoutSession(request);

    const error = await providerError(gateway.createCheckoutSession({ ...request, credits: 2000 }));
    expect(error).toMatchObject({ code: 'PAYMENT_PROVIDER_ERROR', retryable: false, statusCode: 400 });
    expect(error.providerType).toBe('idempotency_error');
  });

  it('reports Stripe’s validation errors as not retryable', async () => {
    const error = await providerError(
      gateway.createCheckoutSession(checkoutRequest({ stripePriceId: 'price_unknown' })),
    );
    expect(error).toMatchObject({ retryable: false, statusCode: 400, providerCode: 'resource_missing' });
    expect(error.message).toContain("No such price: 'price_unknown'");
  });

  it('survives a connection dropped before Stripe saw the request: the SDK resends it with the same key', async () => {
    const request = checkoutRequest();
    double.failNext('/v1/checkout/sessions', 'drop-before');
    const sessionsBefore = double.sessions().length;

    const session = await gateway.createCheckoutSession(request);

    const sent = double.requestsTo('/v1/checkout/sessions').filter((r) => r.idempotencyKey === request.idempotencyKey);
    expect(sent.map((r) => r.fault)).toEqual(['drop-before', undefined]);
    expect(double.sessions().length).toBe(sessionsBefore + 1);
    expect(double.session(session.id)).toBeDefined();
  });

  it('retries a Stripe 500 by itself', async () => {
    double.failNext('/v1/checkout/sessions', { status: 500 });
    const session = await gateway.createCheckoutSession(checkoutRequest());
    expect(session.id).toMatch(/^cs_test_/);
  });
});

describe('refund', () => {
  it('sends the payment intent, amount, metadata and idempotency key', async () => {
    const { paymentIntentId } = await paidPurchase();
    const key = newKey('refund');

    const refund = await gateway.refund({
      paymentIntentId,
      amount: 2000,
      idempotencyKey: key,
      metadata: { workspaceId: 'ws-acme', refundedBy: 'admin-1' },
    });

    const [sent] = double.requestsTo('/v1/refunds').filter((r) => r.idempotencyKey === key);
    expect(sent?.body).toEqual({
      payment_intent: paymentIntentId,
      amount: '2000',
      metadata: { workspaceId: 'ws-acme', refundedBy: 'admin-1' },
    });
    expect(refund).toEqual({
      refundId: expect.stringMatching(/^re_test_/) as string,
      paymentIntentId,
      amount: 2000,
      currency: 'USD',
      status: 'SUCCEEDED',
      failureReason: undefined,
      metadata: { workspaceId: 'ws-acme', refundedBy: 'admin-1' },
    });
    expect(double.refunds(paymentIntentId).map((r) => r.id)).toEqual([refund.refundId]);
  });

  it('refunds once when the answer is lost and the SDK resends with the same key', async () => {
    const { paymentIntentId } = await paidPurchase();
    const key = newKey('refund');
    double.failNext('/v1/refunds', 'drop-after');

    const refund = await gateway.refund({ paymentIntentId, amount: 1500, idempotencyKey: key, metadata: {} });

    const sent = double.requestsTo('/v1/refunds').filter((r) => r.idempotencyKey === key);
    expect(sent.map((r) => [r.fault, r.replayed])).toEqual([
      ['drop-after', false],
      [undefined, true],
    ]);
    expect(double.refunds(paymentIntentId).map((r) => r.id)).toEqual([refund.refundId]);
    expect(double.refundedTotal(paymentIntentId)).toBe(1500);
  });

  it('refunds once when every answer is lost and the caller retries later with the same key', async () => {
    const { paymentIntentId } = await paidPurchase();
    const request = { paymentIntentId, amount: 1500, idempotencyKey: newKey('refund'), metadata: { purchase: 'p-1' } };
    double.failNext('/v1/refunds', 'drop-after', 3); // the first attempt and both SDK retries

    const lost = await providerError(gateway.refund(request));
    expect(lost.retryable).toBe(true);
    expect(lost.statusCode).toBeUndefined();
    expect(double.refunds(paymentIntentId)).toHaveLength(1); // it happened, the caller just never heard

    const retried = await gateway.refund(request);

    expect(double.refunds(paymentIntentId).map((r) => r.id)).toEqual([retried.refundId]);
    expect(double.refundedTotal(paymentIntentId)).toBe(1500);
    const sent = double.requestsTo('/v1/refunds').filter((r) => r.idempotencyKey === request.idempotencyKey);
    expect(sent).toHaveLength(4);
  });

  it('refunds once when the connection drops before Stripe saw the request', async () => {
    const { paymentIntentId } = await paidPurchase();
    const key = newKey('refund');
    double.failNext('/v1/refunds', 'drop-before');

    const refund = await gateway.refund({ paymentIntentId, amount: 500, idempotencyKey: key, metadata: {} });

    expect(
      double
        .requestsTo('/v1/refunds')
        .filter((r) => r.idempotencyKey === key)
        .map((r) => r.fault),
    ).toEqual(['drop-before', undefined]);
    expect(double.refunds(paymentIntentId).map((r) => r.id)).toEqual([refund.refundId]);
  });

  it('reports a 400 as not retryable, and nothing is refunded', async () => {
    const { paymentIntentId } = await paidPurchase();
    double.failNext('/v1/refunds', { status: 400, message: 'Something about the request is wrong.' });

    const error = await providerError(
      gateway.refund({ paymentIntentId, amount: 500, idempotencyKey: newKey('refund'), metadata: {} }),
    );

    expect(error).toMatchObject({ retryable: false, statusCode: 400, providerType: 'invalid_request_error' });
    expect(double.refunds(paymentIntentId)).toHaveLength(0);
  });

  it.each([
    [402, false],
    [401, false],
    [429, true],
  ])('reports an HTTP %i from Stripe with retryable=%s', async (status, retryable) => {
    const { paymentIntentId } = await paidPurchase();
    double.failNext('/v1/refunds', { status });
    const error = await providerError(
      gateway.refund({ paymentIntentId, amount: 500, idempotencyKey: newKey('refund'), metadata: {} }),
    );
    expect(error).toMatchObject({ retryable, statusCode: status });
  });

  it('reports Stripe errors that outlast the SDK’s retries as retryable', async () => {
    const { paymentIntentId } = await paidPurchase();
    double.failNext('/v1/refunds', { status: 503 }, 3);
    const error = await providerError(
      gateway.refund({ paymentIntentId, amount: 500, idempotencyKey: newKey('refund'), metadata: {} }),
    );
    expect(error).toMatchObject({ retryable: true, statusCode: 503 });
  });

  it('refuses to refund more than is left on the payment', async () => {
    const { paymentIntentId } = await paidPurchase();
    await gateway.refund({ paymentIntentId, amount: 3000, idempotencyKey: newKey('refund'), metadata: {} });

    const error = await providerError(
      gateway.refund({ paymentIntentId, amount: 3000, idempotencyKey: newKey('refund'), metadata: {} }),
    );

    expect(error).toMatchObject({ retryable: false, statusCode: 400, providerCode: 'amount_too_large' });
    expect(double.refundedTotal(paymentIntentId)).toBe(3000);
  });

  it('reports an unreachable Stripe as retryable', async () => {
    const closedPort = await freePort();
    const offline = createStripeGateway({
      secretKey: SECRET_KEY,
      webhookSecret: WEBHOOK_SECRET,
      apiBase: `http://127.0.0.1:${closedPort}`,
    });
    const error = await providerError(
      offline.refund({ paymentIntentId: 'pi_x', amount: 1, idempotencyKey: newKey('refund'), metadata: {} }),
    );
    expect(error).toMatchObject({ retryable: true, code: 'PAYMENT_PROVIDER_ERROR' });
    expect(error.statusCode).toBeUndefined();
  });
});

describe('listRefunds', () => {
  const listRequests = (paymentIntentId: string) =>
    double.requestsTo('/v1/refunds', 'GET').filter((r) => r.query.payment_intent === paymentIntentId);

  it('lists our refund and a Dashboard refund, oldest first, with their metadata', async () => {
    const { paymentIntentId } = await paidPurchase();
    const ours = await gateway.refund({
      paymentIntentId,
      amount: 1000,
      idempotencyKey: newKey('refund'),
      metadata: { purchaseRefund: 'r-3' },
    });
    // Stripe's default payload: the charge does not list its refunds, so the service must ask.
    const delivery = await double.refundFromDashboard(paymentIntentId, 500, { deliver: false, listRefunds: false });
    expect(parse(delivery)).toMatchObject({ kind: 'charge_refunded', paymentIntentId, refundsListed: false });

    const refunds = await gateway.listRefunds(paymentIntentId);

    const dashboardRefund = double.refunds(paymentIntentId)[1];
    const listed = { paymentIntentId, currency: 'USD', status: 'SUCCEEDED', failureReason: undefined };
    expect(refunds).toEqual([
      { ...listed, refundId: ours.refundId, amount: 1000, metadata: { purchaseRefund: 'r-3' } },
      { ...listed, refundId: dashboardRefund?.id, amount: 500, metadata: {} },
    ]);
    const [sent, ...others] = listRequests(paymentIntentId);
    expect(others).toHaveLength(0);
    expect(sent?.query).toEqual({ payment_intent: paymentIntentId, limit: '100' });
    expect(sent?.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
  });

  it('follows Stripe’s pagination: all 120 refunds of a payment intent come back, oldest first', async () => {
    const { paymentIntentId } = await paidPurchase();
    const made: string[] = [];
    for (let n = 0; n < 120; n += 1) {
      const refund = await gateway.refund({
        paymentIntentId,
        amount: 1,
        idempotencyKey: newKey('refund'),
        metadata: { n: String(n) },
      });
      made.push(refund.refundId);
    }

    const refunds = await gateway.listRefunds(paymentIntentId);

    expect(refunds).toHaveLength(120);
    expect(refunds.map((r) => r.refundId)).toEqual(made);
    expect(refunds.map((r) => r.metadata.n)).toEqual(made.map((_, n) => String(n)));
    expect(refunds.every((r) => r.amount === 1 && r.status === 'SUCCEEDED')).toBe(true);
    // Newest first from Stripe: the first page ends with the 21st refund made, the second starts after it.
    expect(listRequests(paymentIntentId).map((r) => r.query)).toEqual([
      { payment_intent: paymentIntentId, limit: '100' },
      { payment_intent: paymentIntentId, limit: '100', starting_after: made[20] },
    ]);
  });

  it('lists refunds that failed or were canceled with their status, so that a failure is seen', async () => {
    const { paymentIntentId } = await paidPurchase();
    const refund = (amount: number) =>
      gateway.refund({ paymentIntentId, amount, idempotencyKey: newKey('refund'), metadata: {} });
    const failed = await refund(100);
    const kept = await refund(200);
    const canceled = await refund(300);
    double.failRefund(failed.refundId, 'failed');
    double.failRefund(canceled.refundId, 'canceled');

    const refunds = await gateway.listRefunds(paymentIntentId);

    expect(refunds.map((r) => [r.refundId, r.status])).toEqual([
      [failed.refundId, 'FAILED'],
      [kept.refundId, 'SUCCEEDED'],
      [canceled.refundId, 'CANCELED'],
    ]);
    const gaveBack = refunds.filter((r) => r.status !== 'FAILED' && r.status !== 'CANCELED');
    expect(gaveBack.reduce((sum, r) => sum + r.amount, 0)).toBe(double.refundedTotal(paymentIntentId));
  });

  it('lists nothing for a payment intent without refunds, or one Stripe does not know', async () => {
    const { paymentIntentId } = await paidPurchase();
    await expect(gateway.listRefunds(paymentIntentId)).resolves.toEqual([]);
    await expect(gateway.listRefunds('pi_test_unknown')).resolves.toEqual([]);
  });

  it('takes Stripe’s resource_missing for an unknown payment intent, so lists nothing', async () => {
    double.failNext('/v1/refunds', {
      status: 400,
      code: 'resource_missing',
      message: "No such payment_intent: 'pi_x'",
    });
    await expect(gateway.listRefunds('pi_x')).resolves.toEqual([]);
  });

  it.each([
    [401, false, 1],
    [429, true, 1],
    [503, true, 3], // the first attempt and both SDK retries
  ])('reports an HTTP %i from Stripe with retryable=%s', async (status, retryable, attempts) => {
    const { paymentIntentId } = await paidPurchase();
    double.failNext('/v1/refunds', { status }, attempts);
    const error = await providerError(gateway.listRefunds(paymentIntentId));
    expect(error).toMatchObject({ retryable, statusCode: status, code: 'PAYMENT_PROVIDER_ERROR' });
    expect(error.message).toMatch(/^Stripe could not list the refunds/);
    expect(listRequests(paymentIntentId).map((r) => r.fault)).toEqual(Array(attempts).fill({ status }));
  });
});

describe('parseWebhook', () => {
  it('narrows a card checkout to checkout_paid', async () => {
    const session = await gateway.createCheckoutSession(checkoutRequest());
    const delivery = await double.completeCheckout(session.id, { deliver: false });

    expect(parse(delivery)).toEqual({
      kind: 'checkout_paid',
      eventId: delivery.event.id,
      sessionId: session.id,
      paymentIntentId: double.session(session.id)?.payment_intent,
      amountPaid: 5000,
      currency: 'USD',
      metadata: ourMetadata,
    });
  });

  it('reports the amount Stripe collected, so a mismatch with the package price can be caught', async () => {
    const session = await gateway.createCheckoutSession(checkoutRequest());
    const delivery = await double.completeCheckout(session.id, { amountTotal: 50, deliver: false });
    expect(parse(delivery)).toMatchObject({ kind: 'checkout_paid', amountPaid: 50 });
  });

  it('narrows a delayed payment to processing, then paid when it succeeds', async () => {
    const session = await gateway.createCheckoutSession(checkoutRequest());
    const completed = await double.completeCheckout(session.id, { paymentStatus: 'unpaid', deliver: false });
    expect(parse(completed)).toEqual({
      kind: 'checkout_unpaid',
      eventId: completed.event.id,
      sessionId: session.id,
      status: 'PROCESSING',
      metadata: ourMetadata,
    });

    const succeeded = await double.asyncPaymentSucceeded(session.id, { deliver: false });
    expect(succeeded.event.type).toBe('checkout.session.async_payment_succeeded');
    expect(parse(succeeded)).toEqual({
      kind: 'checkout_paid',
      eventId: succeeded.event.id,
      sessionId: session.id,
      paymentIntentId: double.session(session.id)?.payment_intent,
      amountPaid: 5000,
      currency: 'USD',
      metadata: ourMetadata,
    });
  });

  it('narrows a failed delayed payment, and an expired session, to checkout_unpaid', async () => {
    const session = await gateway.createCheckoutSession(checkoutRequest());
    await double.completeCheckout(session.id, { paymentStatus: 'unpaid', deliver: false });
    const failed = await double.asyncPaymentFailed(session.id, { deliver: false });

    expect(parse(failed)).toEqual({
      kind: 'checkout_unpaid',
      eventId: failed.event.id,
      sessionId: session.id,
      status: 'FAILED',
      metadata: ourMetadata,
    });
    const unpaid = await gateway.createCheckoutSession(checkoutRequest({ idempotencyKey: newKey('checkout') }));
    const expired = await double.expireSession(unpaid.id, { deliver: false });
    expect(parse(expired)).toMatchObject({ kind: 'checkout_unpaid', sessionId: unpaid.id, status: 'EXPIRED' });
  });

  it('lists our own refund, with its metadata, in charge_refunded', async () => {
    const { paymentIntentId } = await paidPurchase();
    const refund = await gateway.refund({
      paymentIntentId,
      amount: 2000,
      idempotencyKey: newKey('refund'),
      metadata: { purchaseRefund: 'r-1' },
    });
    const delivery = await double.chargeRefundedFor(refund.refundId, { deliver: false });

    expect(parse(delivery)).toEqual({
      kind: 'charge_refunded',
      eventId: delivery.event.id,
      paymentIntentId,
      metadata: {},
      refunds: [
        {
          refundId: refund.refundId,
          paymentIntentId,
          amount: 2000,
          currency: 'USD',
          status: 'SUCCEEDED',
          failureReason: undefined,
          metadata: { purchaseRefund: 'r-1' },
        },
      ],
      refundsListed: true,
    });
  });

  it('lists a Dashboard refund without our metadata next to ours', async () => {
    const { paymentIntentId } = await paidPurchase();
    const ours = await gateway.refund({
      paymentIntentId,
      amount: 1000,
      idempotencyKey: newKey('refund'),
      metadata: { purchaseRefund: 'r-2' },
    });
    const delivery = await double.refundFromDashboard(paymentIntentId, 500, { deliver: false });

    const event = parse(delivery);
    expect(event).toMatchObject({ kind: 'charge_refunded', paymentIntentId, refundsListed: true });
    const refunds = event.kind === 'charge_refunded' ? event.refunds : [];
    expect(refunds).toHaveLength(2);
    expect(refunds).toContainEqual(
      expect.objectContaining({
        refundId: ours.refundId,
        amount: 1000,
        status: 'SUCCEEDED',
        metadata: { purchaseRefund: 'r-2' },
      }),
    );
    expect(refunds).toContainEqual(
      expect.objectContaining({
        refundId: expect.stringMatching(/^re_test_/) as string,
        amount: 500,
        status: 'SUCCEEDED',
        metadata: {},
      }),
    );
  });

  it('lists a failed refund with its status', async () => {
    const { paymentIntentId } = await paidPurchase();
    const kept = await gateway.refund({ paymentIntentId, amount: 300, idempotencyKey: newKey('refund'), metadata: {} });
    const failed = await gateway.refund({
      paymentIntentId,
      amount: 400,
      idempotencyKey: newKey('refund'),
      metadata: {},
    });
    double.failRefund(failed.refundId);
    const delivery = await double.chargeRefundedFor(kept.refundId, { deliver: false });

    const event = parse(delivery);
    expect(event).toMatchObject({ kind: 'charge_refunded', refundsListed: true });
    const statuses = event.kind === 'charge_refunded' ? event.refunds.map((r) => [r.refundId, r.status]) : [];
    expect(statuses).toEqual([
      [failed.refundId, 'FAILED'],
      [kept.refundId, 'SUCCEEDED'],
    ]);
  });

  it('says when the charge does not list its refunds (Stripe’s default payload), so they are listed', async () => {
    const { paymentIntentId } = await paidPurchase();
    const delivery = await double.refundFromDashboard(paymentIntentId, 700, { deliver: false, listRefunds: false });

    expect(parse(delivery)).toMatchObject({
      kind: 'charge_refunded',
      paymentIntentId,
      refunds: [],
      refundsListed: false,
    });
  });

  it('narrows refund status changes and disputes', async () => {
    const { paymentIntentId } = await paidPurchase();
    double.setRefundStatus('pending');
    const refund = await gateway.refund({
      paymentIntentId,
      amount: 100,
      idempotencyKey: newKey('refund'),
      metadata: { refundId: 'r-9' },
    });
    double.setRefundStatus('succeeded');
    expect(refund.status).toBe('PENDING');
    const [updated, failedEvent] = await double.settleRefund(refund.refundId, 'failed', { deliver: false });
    if (!updated || !failedEvent) throw new Error('no events');
    expect(updated.event.type).toBe('refund.updated');
    expect(parse(updated)).toMatchObject({
      kind: 'refund_updated',
      refund: {
        refundId: refund.refundId,
        paymentIntentId,
        status: 'FAILED',
        failureReason: 'lost_or_stolen_card',
        metadata: { refundId: 'r-9' },
      },
    });
    expect(failedEvent.event.type).toBe('refund.failed');
    await expect(gateway.retrieveRefund(refund.refundId)).resolves.toMatchObject({ status: 'FAILED' });
    await expect(gateway.retrieveRefund('re_test_unknown')).resolves.toBeUndefined();

    const { dispute, delivery: opened } = await double.openDispute(paymentIntentId, { deliver: false });
    expect(parse(opened)).toEqual({
      kind: 'dispute_updated',
      eventId: opened.event.id,
      dispute: {
        disputeId: dispute.id,
        paymentIntentId,
        amount: 5000,
        currency: 'USD',
        status: 'OPEN',
        reason: 'fraudulent',
      },
    });
    const closed = await double.closeDispute(dispute.id, 'lost', { deliver: false });
    expect(parse(closed)).toMatchObject({
      kind: 'dispute_updated',
      dispute: { disputeId: dispute.id, status: 'LOST' },
    });
  });

  it('reads a payment intent’s metadata, and nothing for one Stripe does not know', async () => {
    const { paymentIntentId } = await paidPurchase();
    await expect(gateway.paymentIntentMetadata(paymentIntentId)).resolves.toEqual(ourMetadata);
    await expect(gateway.paymentIntentMetadata('pi_test_unknown')).resolves.toBeUndefined();
  });

  it('ignores other event types', () => {
    const payload = JSON.stringify({
      id: 'evt_test_other',
      object: 'event',
      type: 'customer.created',
      data: { object: { id: 'cus_1', object: 'customer' } },
    });
    expect(gateway.parseWebhook(Buffer.from(payload), double.sign(payload))).toEqual({
      kind: 'ignored',
      eventId: 'evt_test_other',
      type: 'customer.created',
    });
  });

  describe('refuses webhooks it cannot trust', () => {
    let delivery: WebhookDelivery;
    beforeAll(async () => {
      const session = await gateway.createCheckoutSession(checkoutRequest());
      delivery = await double.completeCheckout(session.id, { deliver: false });
    });

    const refused = (body: string, header: string | undefined): InvalidWebhookSignature => {
      let caught: unknown;
      try {
        gateway.parseWebhook(Buffer.from(body), header);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidWebhookSignature);
      expect((caught as InvalidWebhookSignature).code).toBe('INVALID_SIGNATURE');
      return caught as InvalidWebhookSignature;
    };

    it('accepts the genuine delivery', () => {
      expect(parse(delivery).kind).toBe('checkout_paid');
    });
    it('without a signature header', () => {
      refused(delivery.payload, undefined);
      refused(delivery.payload, '');
    });
    it('with a malformed or wrong signature', () => {
      refused(delivery.payload, 'not-a-signature');
      refused(delivery.payload, `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`);
    });
    it('signed with another secret', () => {
      refused(delivery.payload, double.sign(delivery.payload, { secret: 'whsec_someone_else' }));
    });
    it('with a tampered body', () => {
      refused(delivery.payload.replace('"amount_total": 5000', '"amount_total": 50000'), delivery.signature);
    });
    it('re-serialized instead of the raw bytes received', () => {
      refused(JSON.stringify(JSON.parse(delivery.payload)), delivery.signature);
    });
    it('signed too long ago (a replay)', () => {
      const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
      const error = refused(delivery.payload, double.sign(delivery.payload, { timestamp: tenMinutesAgo }));
      expect(error.message).toMatch(/tolerance/i);

      const aMinuteAgo = Math.floor(Date.now() / 1000) - 60;
      expect(parse({ ...delivery, signature: double.sign(delivery.payload, { timestamp: aMinuteAgo }) }).kind).toBe(
        'checkout_paid',
      );
    });
  });
});

describe('without credentials', () => {
  it('refuses to build a Stripe gateway', () => {
    expect(() => createStripeGateway({ secretKey: '', webhookSecret: WEBHOOK_SECRET })).toThrow(PaymentsNotConfigured);
    expect(() => createStripeGateway({ secretKey: SECRET_KEY, webhookSecret: ' ' })).toThrow(PaymentsNotConfigured);
  });

  it('offers a gateway that says payments are not configured', async () => {
    const unconfigured = unconfiguredPaymentGateway();
    await expect(unconfigured.createCheckoutSession(checkoutRequest())).rejects.toMatchObject({
      code: 'PAYMENTS_NOT_CONFIGURED',
    });
    await expect(
      unconfigured.refund({ paymentIntentId: 'pi', amount: 1, idempotencyKey: 'k', metadata: {} }),
    ).rejects.toBeInstanceOf(PaymentsNotConfigured);
    await expect(unconfigured.listRefunds('pi')).rejects.toBeInstanceOf(PaymentsNotConfigured);
    expect(() => unconfigured.parseWebhook(Buffer.from('{}'), 'sig')).toThrow(PaymentsNotConfigured);
  });
});

describe('the Stripe double', () => {
  it('decodes Stripe’s bracketed form keys into objects and arrays', () => {
    expect(
      decodeStripeForm(
        'mode=payment&line_items[0][price_data][unit_amount]=5000&line_items[1][price]=p&metadata[a%20b]=x%26y&expand[0]=z',
      ),
    ).toEqual({
      mode: 'payment',
      line_items: [{ price_data: { unit_amount: '5000' } }, { price: 'p' }],
      metadata: { 'a b': 'x&y' },
      expand: ['z'],
    });
  });

  it.each([
    ['no line item', 'mode=payment&success_url=https%3A%2F%2Fx', 'line_items'],
    [
      'no amount',
      'mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][product_data][name]=P&line_items[0][quantity]=1',
      'line_items[0][price_data][unit_amount]',
    ],
    ['an unknown parameter', 'mode=payment&payment_method_types[0]=card', 'payment_method_types'],
    [
      'an unknown line item field',
      'mode=payment&line_items[0][price]=price_test_pack_500&line_items[0][quantity]=1&line_items[0][tax_rates][0]=t',
      'line_items[0][tax_rates]',
    ],
  ])('answers a checkout with %s like Stripe: 400 and an invalid_request_error', async (_case, form, param) => {
    const response = await fetch(`${double.url}/v1/checkout/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { type: string; message: string; param?: string } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(body.error.message).toEqual(expect.any(String));
  });

  it('serves a stored checkout session, and 404 with resource_missing for an unknown one', async () => {
    const session = await gateway.createCheckoutSession(checkoutRequest());
    const headers = { authorization: `Bearer ${SECRET_KEY}` };

    const found = await fetch(`${double.url}/v1/checkout/sessions/${session.id}`, { headers });
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({
      id: session.id,
      object: 'checkout.session',
      amount_total: 5000,
      currency: 'usd',
      metadata: ourMetadata,
      payment_status: 'unpaid',
      status: 'open',
      mode: 'payment',
      client_reference_id: 'ws-acme',
      payment_intent: null,
      url: session.url,
    });

    const missing = await fetch(`${double.url}/v1/checkout/sessions/cs_test_missing`, { headers });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'resource_missing' } });
  });

  it('lists refunds newest first, honouring limit, starting_after and ending_before', async () => {
    const { paymentIntentId } = await paidPurchase();
    const ids: string[] = [];
    for (const amount of [100, 200, 300]) {
      const refund = await gateway.refund({ paymentIntentId, amount, idempotencyKey: newKey('refund'), metadata: {} });
      ids.push(refund.refundId);
    }
    const [first, second, third] = ids;
    const headers = { authorization: `Bearer ${SECRET_KEY}` };
    const list = async (query: string) => {
      const response = await fetch(`${double.url}/v1/refunds?payment_intent=${paymentIntentId}&${query}`, { headers });
      const body = (await response.json()) as {
        object: string;
        data: { id: string }[];
        has_more: boolean;
        url: string;
      };
      return { status: response.status, ...body, data: body.data.map((refund) => refund.id) };
    };

    expect(await list('limit=2')).toEqual({
      status: 200,
      object: 'list',
      data: [third, second],
      has_more: true,
      url: '/v1/refunds',
    });
    expect(await list(`limit=2&starting_after=${second}`)).toMatchObject({ data: [first], has_more: false });
    expect(await list(`limit=1&ending_before=${first}`)).toMatchObject({ data: [second], has_more: true });
    expect(await list('')).toMatchObject({ data: [third, second, first], has_more: false }); // default limit 10

    const refused = await fetch(`${double.url}/v1/refunds?limit=101`, { headers });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'limit' } });
    const badCursor = await fetch(`${double.url}/v1/refunds?starting_after=re_test_missing`, { headers });
    expect(await badCursor.json()).toMatchObject({ error: { code: 'resource_missing', param: 'starting_after' } });
  });

  it('refuses requests without the API key', async () => {
    const response = await fetch(`${double.url}/v1/refunds`, { method: 'POST' });
    expect(response.status).toBe(401);
  });
});

describe('the hosted checkout page', () => {
  let receiver: Server;
  let hosted: StripeDouble;
  let hostedGateway: PaymentGateway;
  const received: { status: number; event?: PaymentEvent }[] = [];

  beforeAll(async () => {
    // A webhook endpoint as the service will have one: raw body in, verified event out.
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        try {
          const header = request.headers['stripe-signature'];
          const event = hostedGateway.parseWebhook(
            Buffer.concat(chunks),
            typeof header === 'string' ? header : undefined,
          );
          received.push({ status: 200, event });
          response.writeHead(200).end('{"received":true}');
        } catch (error) {
          received.push({ status: 400 });
          response.writeHead(error instanceof InvalidWebhookSignature ? 400 : 500).end();
        }
      });
    });
    await new Promise<void>((listening) => receiver.listen(0, '127.0.0.1', listening));
    const port = (receiver.address() as AddressInfo).port;
    hosted = await startStripeDouble({
      webhookSecret: WEBHOOK_SECRET,
      webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe`,
    });
    hostedGateway = createStripeGateway({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, apiBase: hosted.url });
  });
  afterAll(async () => {
    await hosted.close();
    await new Promise<void>((closed) => {
      receiver.close(() => closed());
      receiver.closeAllConnections();
    });
  });

  it('shows the package and amount, pays on "Pay", delivers a signed webhook and returns to the success URL', async () => {
    const request = checkoutRequest();
    const session = await hostedGateway.createCheckoutSession(request);

    const page = await fetch(session.url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Test checkout: 500 credits — $50.00');
    expect(html).toMatch(/<button type="submit">Pay<\/button>/);
    expect(html).toContain(`<a href="${request.cancelUrl}">Cancel</a>`);
    const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
    expect(action).toBe(`${hosted.url}/checkout/${session.id}/pay`);

    const paid = await fetch(action ?? '', { method: 'POST', redirect: 'manual' });

    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe(`https://app.example/billing?checkout=${session.id}`);
    expect(received).toHaveLength(1);
    expect(received[0]?.event).toMatchObject({
      kind: 'checkout_paid',
      sessionId: session.id,
      amountPaid: 5000,
      currency: 'USD',
      metadata: ourMetadata,
    });
    expect(hosted.events.at(-1)?.status).toBe(200);

    // The session is complete: paying again is refused, and the page says so.
    expect((await fetch(action ?? '', { method: 'POST', redirect: 'manual' })).status).toBe(409);
    expect(await (await fetch(`${hosted.url}/checkout/${session.id}`)).text()).toContain(
      'This checkout session is complete.',
    );
  });

  it('lets a test redeliver an event, and a forged signature is answered 400', async () => {
    const session = await hostedGateway.createCheckoutSession(checkoutRequest());
    const delivery = await hosted.completeCheckout(session.id);
    expect(delivery.status).toBe(200);

    const again = await hosted.redeliver(delivery);
    expect(again.status).toBe(200);
    expect(received.at(-1)?.event).toEqual(received.at(-2)?.event); // same eventId: the handler must dedupe

    const forged = await hosted.redeliver(delivery, hosted.sign(delivery.payload, { secret: 'whsec_forger' }));
    expect(forged.status).toBe(400);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
