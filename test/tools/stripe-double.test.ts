/**
 * The Stripe double itself (tools/stripe-double/): that it answers malformed requests as Stripe
 * does, keeps Stripe's idempotency rules, and that its hosted checkout page pays and delivers a
 * signed webhook the way Stripe's would. The adapter's tests trust it for this.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidWebhookSignature, type PaymentEvent, type PaymentGateway } from '../../src/payments/payment-gateway';
import { createStripeGateway } from '../../src/payments/stripe-gateway';
import { decodeStripeForm, startStripeDouble, type StripeDouble } from '../../tools/stripe-double';
import { gatewayTestbed, ourMetadata, SECRET_KEY, WEBHOOK_SECRET } from '../support/stripe-gateway-testbed';

const testbed = gatewayTestbed();
const { newKey, checkoutRequest, paidPurchase } = testbed;

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
    const response = await fetch(`${testbed.double.url}/v1/checkout/sessions`, {
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
    const session = await testbed.gateway.createCheckoutSession(checkoutRequest());
    const headers = { authorization: `Bearer ${SECRET_KEY}` };

    const found = await fetch(`${testbed.double.url}/v1/checkout/sessions/${session.id}`, { headers });
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

    const missing = await fetch(`${testbed.double.url}/v1/checkout/sessions/cs_test_missing`, { headers });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'resource_missing' } });
  });

  it('lists refunds newest first, honouring limit, starting_after and ending_before', async () => {
    const { paymentIntentId } = await paidPurchase();
    const ids: string[] = [];
    for (const amount of [100, 200, 300]) {
      const refund = await testbed.gateway.refund({
        paymentIntentId,
        amount,
        idempotencyKey: newKey('refund'),
        metadata: {},
      });
      ids.push(refund.refundId);
    }
    const [first, second, third] = ids;
    const headers = { authorization: `Bearer ${SECRET_KEY}` };
    const list = async (query: string) => {
      const response = await fetch(`${testbed.double.url}/v1/refunds?payment_intent=${paymentIntentId}&${query}`, {
        headers,
      });
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

    const refused = await fetch(`${testbed.double.url}/v1/refunds?limit=101`, { headers });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'limit' } });
    const badCursor = await fetch(`${testbed.double.url}/v1/refunds?starting_after=re_test_missing`, { headers });
    expect(await badCursor.json()).toMatchObject({ error: { code: 'resource_missing', param: 'starting_after' } });
  });

  it('refuses to refund a charge under dispute or charged back, as Stripe does, and refunds one whose dispute was won', async () => {
    const refundOf = (paymentIntentId: string) =>
      testbed.gateway.refund({ paymentIntentId, amount: 100, idempotencyKey: newKey('refund'), metadata: {} });
    const disputed = async () => {
      const { paymentIntentId } = await paidPurchase();
      const { dispute } = await testbed.double.openDispute(paymentIntentId, { deliver: false });
      return { paymentIntentId, dispute };
    };
    const chargedBack: unknown = expect.objectContaining({
      retryable: false,
      message: expect.stringContaining('charged back') as unknown,
    });

    const open = await disputed();
    await expect(refundOf(open.paymentIntentId)).rejects.toEqual(chargedBack);
    const lost = await disputed();
    await testbed.double.closeDispute(lost.dispute.id, 'lost', { deliver: false });
    await expect(refundOf(lost.paymentIntentId)).rejects.toEqual(chargedBack);
    const won = await disputed();
    await testbed.double.closeDispute(won.dispute.id, 'won', { deliver: false });
    expect(await refundOf(won.paymentIntentId)).toMatchObject({ amount: 100, status: 'SUCCEEDED' });
    expect(testbed.double.refunds(open.paymentIntentId)).toHaveLength(0);
  });

  it('refuses requests without the API key', async () => {
    const response = await fetch(`${testbed.double.url}/v1/refunds`, { method: 'POST' });
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
