/**
 * The Stripe adapter's calls, through the real `stripe` SDK against the local Stripe double: what
 * goes on the wire for checkout and refunds, how idempotency keys make retries safe when a response
 * is lost, how Stripe's errors reach the service, and how refunds are listed across pages.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { PaymentsNotConfigured, unconfiguredPaymentGateway } from '../../src/payments/payment-gateway';
import { createStripeGateway } from '../../src/payments/stripe-gateway';

import {
  gatewayTestbed,
  ourMetadata,
  PRICE_ID,
  providerError,
  SECRET_KEY,
  WEBHOOK_SECRET,
} from '../support/stripe-gateway-testbed';

const testbed = gatewayTestbed();
const { newKey, checkoutRequest, paidPurchase, parse } = testbed;

describe('createCheckoutSession', () => {
  it('sends a one-line payment checkout with our metadata and the caller’s idempotency key', async () => {
    const request = checkoutRequest();
    const before = Date.now();
    const session = await testbed.gateway.createCheckoutSession(request);

    const [sent, ...others] = testbed.double
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
    expect(session.url).toBe(`${testbed.double.url}/checkout/${session.id}`);
    const expiresIn = session.expiresAt.getTime() - before;
    expect(expiresIn).toBeGreaterThan(23.9 * 3600_000);
    expect(expiresIn).toBeLessThanOrEqual(24 * 3600_000 + 1000);
    expect(testbed.double.session(session.id)).toMatchObject({
      amount_total: 5000,
      currency: 'usd',
      payment_status: 'unpaid',
    });
  });

  it('names the configured Stripe price instead of an inline price when the package has one', async () => {
    const request = checkoutRequest({ stripePriceId: PRICE_ID });
    const session = await testbed.gateway.createCheckoutSession(request);

    const sent = testbed.double
      .requestsTo('/v1/checkout/sessions')
      .find((r) => r.idempotencyKey === request.idempotencyKey);
    expect(sent?.body.line_items).toEqual([{ price: PRICE_ID, quantity: '1' }]);
    expect(testbed.double.session(session.id)?.amount_total).toBe(5000);
  });

  it('returns the same session for a repeated key, and Stripe creates only one', async () => {
    const request = checkoutRequest();
    const sessionsBefore = testbed.double.sessions().length;

    const first = await testbed.gateway.createCheckoutSession(request);
    const second = await testbed.gateway.createCheckoutSession(request);

    expect(second).toEqual(first);
    expect(testbed.double.sessions().length).toBe(sessionsBefore + 1);
    const sent = testbed.double
      .requestsTo('/v1/checkout/sessions')
      .filter((r) => r.idempotencyKey === request.idempotencyKey);
    expect(sent.map((r) => r.replayed)).toEqual([false, true]);
  });

  it('refuses a key reused for a different purchase, without retrying', async () => {
    const request = checkoutRequest();
    await testbed.gateway.createCheckoutSession(request);

    const error = await providerError(testbed.gateway.createCheckoutSession({ ...request, credits: 2000 }));
    expect(error).toMatchObject({ code: 'PAYMENT_PROVIDER_ERROR', retryable: false, statusCode: 400 });
    expect(error.providerType).toBe('idempotency_error');
  });

  it('reports Stripe’s validation errors as not retryable', async () => {
    const error = await providerError(
      testbed.gateway.createCheckoutSession(checkoutRequest({ stripePriceId: 'price_unknown' })),
    );
    expect(error).toMatchObject({ retryable: false, statusCode: 400, providerCode: 'resource_missing' });
    expect(error.message).toContain("No such price: 'price_unknown'");
  });

  it('survives a connection dropped before Stripe saw the request: the SDK resends it with the same key', async () => {
    const request = checkoutRequest();
    testbed.double.failNext('/v1/checkout/sessions', 'drop-before');
    const sessionsBefore = testbed.double.sessions().length;

    const session = await testbed.gateway.createCheckoutSession(request);

    const sent = testbed.double
      .requestsTo('/v1/checkout/sessions')
      .filter((r) => r.idempotencyKey === request.idempotencyKey);
    expect(sent.map((r) => r.fault)).toEqual(['drop-before', undefined]);
    expect(testbed.double.sessions().length).toBe(sessionsBefore + 1);
    expect(testbed.double.session(session.id)).toBeDefined();
  });

  it('retries a Stripe 500 by itself', async () => {
    testbed.double.failNext('/v1/checkout/sessions', { status: 500 });
    const session = await testbed.gateway.createCheckoutSession(checkoutRequest());
    expect(session.id).toMatch(/^cs_test_/);
  });
});

describe('refund', () => {
  it('sends the payment intent, amount, metadata and idempotency key', async () => {
    const { paymentIntentId } = await paidPurchase();
    const key = newKey('refund');

    const refund = await testbed.gateway.refund({
      paymentIntentId,
      amount: 2000,
      idempotencyKey: key,
      metadata: { workspaceId: 'ws-acme', refundedBy: 'admin-1' },
    });

    const [sent] = testbed.double.requestsTo('/v1/refunds').filter((r) => r.idempotencyKey === key);
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
    expect(testbed.double.refunds(paymentIntentId).map((r) => r.id)).toEqual([refund.refundId]);
  });

  it('refunds once when the answer is lost and the SDK resends with the same key', async () => {
    const { paymentIntentId } = await paidPurchase();
    const key = newKey('refund');
    testbed.double.failNext('/v1/refunds', 'drop-after');

    const refund = await testbed.gateway.refund({ paymentIntentId, amount: 1500, idempotencyKey: key, metadata: {} });

    const sent = testbed.double.requestsTo('/v1/refunds').filter((r) => r.idempotencyKey === key);
    expect(sent.map((r) => [r.fault, r.replayed])).toEqual([
      ['drop-after', false],
      [undefined, true],
    ]);
    expect(testbed.double.refunds(paymentIntentId).map((r) => r.id)).toEqual([refund.refundId]);
    expect(testbed.double.refundedTotal(paymentIntentId)).toBe(1500);
  });

  it('refunds once when every answer is lost and the caller retries later with the same key', async () => {
    const { paymentIntentId } = await paidPurchase();
    const request = { paymentIntentId, amount: 1500, idempotencyKey: newKey('refund'), metadata: { purchase: 'p-1' } };
    testbed.double.failNext('/v1/refunds', 'drop-after', 3); // the first attempt and both SDK retries

    const lost = await providerError(testbed.gateway.refund(request));
    expect(lost.retryable).toBe(true);
    expect(lost.statusCode).toBeUndefined();
    expect(testbed.double.refunds(paymentIntentId)).toHaveLength(1); // it happened, the caller just never heard

    const retried = await testbed.gateway.refund(request);

    expect(testbed.double.refunds(paymentIntentId).map((r) => r.id)).toEqual([retried.refundId]);
    expect(testbed.double.refundedTotal(paymentIntentId)).toBe(1500);
    const sent = testbed.double.requestsTo('/v1/refunds').filter((r) => r.idempotencyKey === request.idempotencyKey);
    expect(sent).toHaveLength(4);
  });

  it('refunds once when the connection drops before Stripe saw the request', async () => {
    const { paymentIntentId } = await paidPurchase();
    const key = newKey('refund');
    testbed.double.failNext('/v1/refunds', 'drop-before');

    const refund = await testbed.gateway.refund({ paymentIntentId, amount: 500, idempotencyKey: key, metadata: {} });

    expect(
      testbed.double
        .requestsTo('/v1/refunds')
        .filter((r) => r.idempotencyKey === key)
        .map((r) => r.fault),
    ).toEqual(['drop-before', undefined]);
    expect(testbed.double.refunds(paymentIntentId).map((r) => r.id)).toEqual([refund.refundId]);
  });

  it('reports a 400 as not retryable, and nothing is refunded', async () => {
    const { paymentIntentId } = await paidPurchase();
    testbed.double.failNext('/v1/refunds', { status: 400, message: 'Something about the request is wrong.' });

    const error = await providerError(
      testbed.gateway.refund({ paymentIntentId, amount: 500, idempotencyKey: newKey('refund'), metadata: {} }),
    );

    expect(error).toMatchObject({ retryable: false, statusCode: 400, providerType: 'invalid_request_error' });
    expect(testbed.double.refunds(paymentIntentId)).toHaveLength(0);
  });

  it.each([
    [402, false],
    [401, false],
    [429, true],
  ])('reports an HTTP %i from Stripe with retryable=%s', async (status, retryable) => {
    const { paymentIntentId } = await paidPurchase();
    testbed.double.failNext('/v1/refunds', { status });
    const error = await providerError(
      testbed.gateway.refund({ paymentIntentId, amount: 500, idempotencyKey: newKey('refund'), metadata: {} }),
    );
    expect(error).toMatchObject({ retryable, statusCode: status });
  });

  it('reports Stripe errors that outlast the SDK’s retries as retryable', async () => {
    const { paymentIntentId } = await paidPurchase();
    testbed.double.failNext('/v1/refunds', { status: 503 }, 3);
    const error = await providerError(
      testbed.gateway.refund({ paymentIntentId, amount: 500, idempotencyKey: newKey('refund'), metadata: {} }),
    );
    expect(error).toMatchObject({ retryable: true, statusCode: 503 });
  });

  it('refuses to refund more than is left on the payment', async () => {
    const { paymentIntentId } = await paidPurchase();
    await testbed.gateway.refund({ paymentIntentId, amount: 3000, idempotencyKey: newKey('refund'), metadata: {} });

    const error = await providerError(
      testbed.gateway.refund({ paymentIntentId, amount: 3000, idempotencyKey: newKey('refund'), metadata: {} }),
    );

    expect(error).toMatchObject({ retryable: false, statusCode: 400, providerCode: 'amount_too_large' });
    expect(testbed.double.refundedTotal(paymentIntentId)).toBe(3000);
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
    testbed.double.requestsTo('/v1/refunds', 'GET').filter((r) => r.query.payment_intent === paymentIntentId);

  it('lists our refund and a Dashboard refund, oldest first, with their metadata', async () => {
    const { paymentIntentId } = await paidPurchase();
    const ours = await testbed.gateway.refund({
      paymentIntentId,
      amount: 1000,
      idempotencyKey: newKey('refund'),
      metadata: { purchaseRefund: 'r-3' },
    });
    // Stripe's default payload: the charge does not list its refunds, so the service must ask.
    const delivery = await testbed.double.refundFromDashboard(paymentIntentId, 500, {
      deliver: false,
      listRefunds: false,
    });
    expect(parse(delivery)).toMatchObject({ kind: 'charge_refunded', paymentIntentId, refundsListed: false });

    const refunds = await testbed.gateway.listRefunds(paymentIntentId);

    const dashboardRefund = testbed.double.refunds(paymentIntentId)[1];
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
      const refund = await testbed.gateway.refund({
        paymentIntentId,
        amount: 1,
        idempotencyKey: newKey('refund'),
        metadata: { n: String(n) },
      });
      made.push(refund.refundId);
    }

    const refunds = await testbed.gateway.listRefunds(paymentIntentId);

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
      testbed.gateway.refund({ paymentIntentId, amount, idempotencyKey: newKey('refund'), metadata: {} });
    const failed = await refund(100);
    const kept = await refund(200);
    const canceled = await refund(300);
    testbed.double.failRefund(failed.refundId, 'failed');
    testbed.double.failRefund(canceled.refundId, 'canceled');

    const refunds = await testbed.gateway.listRefunds(paymentIntentId);

    expect(refunds.map((r) => [r.refundId, r.status])).toEqual([
      [failed.refundId, 'FAILED'],
      [kept.refundId, 'SUCCEEDED'],
      [canceled.refundId, 'CANCELED'],
    ]);
    const gaveBack = refunds.filter((r) => r.status !== 'FAILED' && r.status !== 'CANCELED');
    expect(gaveBack.reduce((sum, r) => sum + r.amount, 0)).toBe(testbed.double.refundedTotal(paymentIntentId));
  });

  it('lists nothing for a payment intent without refunds, or one Stripe does not know', async () => {
    const { paymentIntentId } = await paidPurchase();
    await expect(testbed.gateway.listRefunds(paymentIntentId)).resolves.toEqual([]);
    await expect(testbed.gateway.listRefunds('pi_test_unknown')).resolves.toEqual([]);
  });

  it('takes Stripe’s resource_missing for an unknown payment intent, so lists nothing', async () => {
    testbed.double.failNext('/v1/refunds', {
      status: 400,
      code: 'resource_missing',
      message: "No such payment_intent: 'pi_x'",
    });
    await expect(testbed.gateway.listRefunds('pi_x')).resolves.toEqual([]);
  });

  it.each([
    [401, false, 1],
    [429, true, 1],
    [503, true, 3], // the first attempt and both SDK retries
  ])('reports an HTTP %i from Stripe with retryable=%s', async (status, retryable, attempts) => {
    const { paymentIntentId } = await paidPurchase();
    testbed.double.failNext('/v1/refunds', { status }, attempts);
    const error = await providerError(testbed.gateway.listRefunds(paymentIntentId));
    expect(error).toMatchObject({ retryable, statusCode: status, code: 'PAYMENT_PROVIDER_ERROR' });
    expect(error.message).toMatch(/^Stripe could not list the refunds/);
    expect(listRequests(paymentIntentId).map((r) => r.fault)).toEqual(Array(attempts).fill({ status }));
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

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
