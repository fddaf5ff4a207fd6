/**
 * The Stripe double charging saved cards off-session, through the real `stripe` SDK: each test
 * card's outcome as the SDK surfaces it (a `StripeCardError` with `code` and `payment_intent` for
 * a 402), Stripe's idempotency rules, the double's faults on this endpoint, the events that follow
 * (verified with `stripe.webhooks.constructEvent`), and a test switching a card's behaviour.
 */
import Stripe from 'stripe';
import { createStripeGateway } from '../../src/payments/stripe-gateway';
import { failure, sdkTestbed, SDK_SECRET_KEY, SDK_WEBHOOK_SECRET, stripeClient } from '../support/stripe-sdk-testbed';

const testbed = sdkTestbed();

const offSession = (
  customer: string,
  paymentMethod: string,
  extra: Partial<Stripe.PaymentIntentCreateParams> = {},
) => ({
  amount: 5000,
  currency: 'usd',
  customer,
  payment_method: paymentMethod,
  off_session: true,
  confirm: true,
  metadata: { workspaceId: 'ws-cards', topUpId: 'top-up-1' },
  ...extra,
});

const cardError = async (promise: Promise<unknown>): Promise<Stripe.errors.StripeCardError> => {
  const error = await failure(promise);
  expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
  expect(error.statusCode).toBe(402);
  return error as Stripe.errors.StripeCardError;
};

/** The service's own gateway, pointed at the double. */
const gatewayOnDouble = () =>
  createStripeGateway({ secretKey: SDK_SECRET_KEY, webhookSecret: SDK_WEBHOOK_SECRET, apiBase: testbed.double.url });

const intentOf = (error: Stripe.errors.StripeError): Stripe.PaymentIntent =>
  error.payment_intent as Stripe.PaymentIntent;

describe('charging a saved card off-session', () => {
  it('succeeds with 4242: the intent is paid, refundable, replayed for the same key, and payment_intent.succeeded follows', async () => {
    const { customerId, paymentMethodId } = await testbed.savedCard();
    const key = testbed.newKey('top-up');

    const intent = await testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId), {
      idempotencyKey: key,
    });
    const replayed = await testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId), {
      idempotencyKey: key,
    });

    expect(intent).toMatchObject({
      object: 'payment_intent',
      status: 'succeeded',
      amount: 5000,
      amount_received: 5000,
      currency: 'usd',
      customer: customerId,
      payment_method: paymentMethodId,
      metadata: { workspaceId: 'ws-cards', topUpId: 'top-up-1' },
      latest_charge: expect.stringMatching(/^ch_/) as string,
      last_payment_error: null,
    });
    expect(replayed).toEqual(intent);
    expect(replayed.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(testbed.double.paymentIntents(customerId)).toHaveLength(1);
    const [event] = await testbed.eventsArrived(intent.id);
    expect(event).toMatchObject({ type: 'payment_intent.succeeded', data: { object: { id: intent.id } } });
    expect((event?.data.object as Stripe.PaymentIntent).metadata).toEqual(intent.metadata);

    const other = await failure(
      testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId, { amount: 9000 }), {
        idempotencyKey: key,
      }),
    );
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);

    const refund = await testbed.stripe.refunds.create({ payment_intent: intent.id, amount: 1000 });
    expect(refund).toMatchObject({ status: 'succeeded', amount: 1000, payment_intent: intent.id });
    expect(await testbed.stripe.paymentIntents.retrieve(intent.id, { expand: ['payment_method'] })).toMatchObject({
      status: 'succeeded',
      payment_method: { id: paymentMethodId, card: { last4: '4242' } },
    });
  });

  it('declines 0341 (saved fine): 402 card_declined / generic_decline with the intent, the same answer for the same key, then payment_intent.payment_failed', async () => {
    const { customerId, paymentMethodId } = await testbed.savedCard('4000000000000341');
    const key = testbed.newKey('top-up');

    const error = await cardError(
      testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId), { idempotencyKey: key }),
    );

    expect(error).toMatchObject({
      type: 'StripeCardError',
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
      charge: expect.stringMatching(/^ch_/) as string,
      payment_method: { id: paymentMethodId },
    });
    expect(intentOf(error)).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
      customer: customerId,
      metadata: { topUpId: 'top-up-1' },
      last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline' },
    });

    const replayed = await cardError(
      testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId), { idempotencyKey: key }),
    );
    expect(intentOf(replayed).id).toBe(intentOf(error).id);
    expect(testbed.double.paymentIntents(customerId)).toHaveLength(1);

    const [event] = await testbed.eventsArrived(intentOf(error).id);
    expect(event?.type).toBe('payment_intent.payment_failed');
    expect((event?.data.object as Stripe.PaymentIntent).last_payment_error).toMatchObject({
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
    });
    expect(await testbed.stripe.paymentIntents.retrieve(intentOf(error).id)).toMatchObject({
      status: 'requires_payment_method',
    });
    const refund = await failure(testbed.stripe.refunds.create({ payment_intent: intentOf(error).id }));
    expect(refund.code).toBe('charge_not_refundable');
  });

  it('fails 3184 with authentication_required while the holder is away, and waits in requires_action when present', async () => {
    const { customerId, paymentMethodId } = await testbed.savedCard('4000002760003184');

    const error = await cardError(testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId)));
    expect(error).toMatchObject({ code: 'authentication_required', decline_code: 'authentication_required' });
    expect(intentOf(error)).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { code: 'authentication_required' },
    });
    const [event] = await testbed.eventsArrived(intentOf(error).id);
    expect(event?.type).toBe('payment_intent.payment_failed');

    const present = await testbed.stripe.paymentIntents.create(
      offSession(customerId, paymentMethodId, { off_session: undefined }),
    );
    expect(present).toMatchObject({
      status: 'requires_action',
      next_action: { type: 'use_stripe_sdk' },
      payment_method: paymentMethodId,
    });
    expect((await testbed.eventsArrived(present.id))[0]?.type).toBe('payment_intent.requires_action');
  });

  it('reads a charge back through the gateway without making it again (a look at one still processing)', async () => {
    const gateway = gatewayOnDouble();
    const { customerId, paymentMethodId } = await testbed.savedCard();
    const charged = await gateway.chargeSavedCard({
      workspaceId: 'ws-cards',
      topUpId: 'top-up-read',
      attempt: 1,
      customerId,
      paymentMethodId,
      amount: { amount: 5000, currency: 'USD' },
      idempotencyKey: testbed.newKey('top-up'),
    });
    expect(charged).toMatchObject({ status: 'SUCCEEDED', amountReceived: { amount: 5000, currency: 'USD' } });
    const paymentIntentId = charged.paymentIntentId ?? '';
    const creates = () =>
      testbed.double.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents');
    const before = creates().length;
    await expect(gateway.offSessionCharge(paymentIntentId)).resolves.toEqual(charged);
    expect(creates()).toHaveLength(before);
    await expect(gateway.offSessionCharge('pi_unknown')).rejects.toMatchObject({ retryable: false });
  });

  it('finds the charge made for one attempt at a top-up by its metadata, and none for an attempt never made', async () => {
    const gateway = gatewayOnDouble();
    const { customerId, paymentMethodId } = await testbed.savedCard();
    const charge = (attempt: number) =>
      gateway.chargeSavedCard({
        workspaceId: 'ws-cards',
        topUpId: 'top-up-find',
        attempt,
        customerId,
        paymentMethodId,
        amount: { amount: 5000, currency: 'USD' },
        idempotencyKey: testbed.newKey('top-up'),
      });
    const first = await charge(1);
    const second = await charge(2);
    const creates = () =>
      testbed.double.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents');
    const before = creates().length;
    const find = (attempt: number, topUpId = 'top-up-find') =>
      gateway.findTopUpCharge({ customerId, workspaceId: 'ws-cards', topUpId, attempt });
    await expect(find(1)).resolves.toEqual(first);
    await expect(find(2)).resolves.toEqual(second);
    await expect(find(3)).resolves.toBeUndefined();
    await expect(find(1, 'another-top-up')).resolves.toBeUndefined();
    // Looked for, never made.
    expect(creates()).toHaveLength(before);
  });

  it('lets a test make a customer’s card start declining, then recover', async () => {
    const { customerId, paymentMethodId } = await testbed.savedCard();
    const charge = () => testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId));

    expect((await charge()).status).toBe('succeeded');
    expect(testbed.double.setCardBehaviour(customerId, 'insufficient_funds').map((card) => card.id)).toEqual([
      paymentMethodId,
    ]);
    expect(await cardError(charge())).toMatchObject({
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
    });
    testbed.double.setCardBehaviour(paymentMethodId, 'authentication_required');
    expect((await cardError(charge())).code).toBe('authentication_required');
    testbed.double.setCardBehaviour(paymentMethodId, 'succeed');
    expect((await charge()).status).toBe('succeeded');
    expect(testbed.double.cardBehaviour(paymentMethodId)).toBe('succeed');
    expect(() => testbed.double.setCardBehaviour('cus_test_without_cards', 'succeed')).toThrow(/no saved card/);
  });

  it('refuses a detached card, an unknown customer or card, and a card without its customer, as Stripe does', async () => {
    const { customerId, paymentMethodId } = await testbed.savedCard();
    const other = await testbed.savedCard();

    const unknownCustomer = await failure(
      testbed.stripe.paymentIntents.create(offSession('cus_test_missing', paymentMethodId)),
    );
    expect(unknownCustomer).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'customer' });
    const unknownCard = await failure(testbed.stripe.paymentIntents.create(offSession(customerId, 'pm_test_missing')));
    expect(unknownCard).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'payment_method' });
    const noCustomer = await failure(
      testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId, { customer: undefined })),
    );
    expect(noCustomer.message).toContain(`belongs to the Customer ${customerId}`);
    const someoneElses = await failure(
      testbed.stripe.paymentIntents.create(offSession(customerId, other.paymentMethodId)),
    );
    expect(someoneElses.message).toContain('The customer does not have a payment method');

    await testbed.stripe.paymentMethods.detach(paymentMethodId);
    const detached = await failure(testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId)));
    expect(detached).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(detached).toMatchObject({ statusCode: 400, param: 'payment_method' });
    expect(detached.message).toContain('was detached from a Customer. It may not be used again.');
    expect(testbed.double.paymentIntents(customerId)).toEqual([]);
  });
});

describe('faults and events of off-session charges', () => {
  it('a lost answer: the intent was made and charged once; the retry with the same key gets it', async () => {
    const { customerId, paymentMethodId } = await testbed.savedCard();
    const key = testbed.newKey('top-up');
    // The SDK resends once on a closed connection even without retries: lose both answers.
    testbed.double.failNext('/v1/payment_intents', 'drop-after', 2);

    const lost = await failure(
      testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId), { idempotencyKey: key }),
    );
    expect(lost).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    const retried = await testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId), {
      idempotencyKey: key,
    });

    expect(retried.status).toBe('succeeded');
    const sent = testbed.double.requestsTo('/v1/payment_intents').filter((req) => req.idempotencyKey === key);
    expect(sent.map((req) => [req.fault, req.replayed])).toEqual([
      ['drop-after', false],
      ['drop-after', true],
      [undefined, true],
    ]);
    expect(testbed.double.paymentIntents(customerId).map((intent) => intent.id)).toEqual([retried.id]);
    expect(await testbed.eventsArrived(retried.id)).toHaveLength(1);
  });

  it('a 500 after acting: every retry with the key gets the 500, and the SDK’s own retries too; the charge was made', async () => {
    const { customerId, paymentMethodId } = await testbed.savedCard('4000000000000341');
    const key = testbed.newKey('top-up');
    testbed.double.failNext('/v1/payment_intents', 'error-after');
    const retrying = stripeClient(testbed.double, 2);

    const error = await failure(
      retrying.paymentIntents.create(offSession(customerId, paymentMethodId), { idempotencyKey: key }),
    );
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(error.statusCode).toBe(500);
    const sent = testbed.double.requestsTo('/v1/payment_intents', 'POST').filter((req) => req.idempotencyKey === key);
    expect(sent.map((req) => req.status)).toEqual([500, 500, 500]);
    expect(sent.slice(1).every((req) => req.replayed)).toBe(true);

    const [intent] = testbed.double.paymentIntents(customerId);
    expect(intent).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: 'card_declined' } });
    expect((await testbed.eventsArrived(intent?.id ?? ''))[0]?.type).toBe('payment_intent.payment_failed');
  });

  it('holds the events back, then delivers them in another order, and again', async () => {
    const { customerId, paymentMethodId } = await testbed.savedCard();
    testbed.double.holdDeliveries();
    const first = await testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId));
    const second = await testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId));
    await new Promise((resolve) => setTimeout(resolve, 20)); // the events are built after the answers
    expect(testbed.eventsAbout(first.id)).toEqual([]);

    const delivered = await testbed.double.releaseDeliveries((held) => [...held].reverse());

    expect(delivered.map((delivery) => delivery.event.data.object.id)).toEqual([second.id, first.id]);
    const again = await testbed.double.redeliver(delivered[1] ?? delivered[0]!);
    expect(again.status).toBe(200);
    expect(testbed.eventsAbout(first.id).map((event) => event.id)).toEqual([again.event.id, again.event.id]);
  });

  it('retries the events an endpoint failed, as Stripe retries them', async () => {
    const { customerId, paymentMethodId } = await testbed.savedCard();
    testbed.endpoint.status = 500;
    let intent: Stripe.PaymentIntent;
    try {
      intent = await testbed.stripe.paymentIntents.create(offSession(customerId, paymentMethodId));
      for (let waited = 0; !testbed.double.events.some((d) => d.event.data.object.id === intent.id); waited += 10) {
        if (waited > 5000) throw new Error('The event was never sent');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      testbed.endpoint.status = 200;
    }
    expect(testbed.double.events.find((d) => d.event.data.object.id === intent.id)?.status).toBe(500);

    const retried = await testbed.double.retryFailedDeliveries();

    expect(retried.map((delivery) => [delivery.event.data.object.id, delivery.status])).toEqual([[intent.id, 200]]);
    expect(testbed.eventsAbout(intent.id, 'payment_intent.succeeded')).toHaveLength(1);
    expect(await testbed.double.retryFailedDeliveries()).toEqual([]);
  });
});

describe('a double started without automatic payment-intent events', () => {
  const quiet = sdkTestbed({ automaticEvents: { refunds: true, paymentIntents: false } });

  it('sends the event about an intent when the test says so', async () => {
    const { customerId, paymentMethodId } = await quiet.savedCard('4000000000000341');
    const error = await cardError(quiet.stripe.paymentIntents.create(offSession(customerId, paymentMethodId)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(quiet.eventsAbout(intentOf(error).id)).toEqual([]);

    const delivery = await quiet.double.paymentIntentEventFor(intentOf(error).id);

    expect(delivery.status).toBe(200);
    expect(quiet.eventsAbout(intentOf(error).id, 'payment_intent.payment_failed')).toHaveLength(1);
  });
});
