/**
 * The Stripe double's saved cards, through the real `stripe` SDK: customers, Checkout in setup mode
 * (by a test, and on the hosted page), the SetupIntent and PaymentMethod it leaves, and detaching a
 * card, each answered and refused as Stripe does. Auto top-up's tests trust it for this.
 */
import Stripe from 'stripe';
import { failure, sdkTestbed } from '../support/stripe-sdk-testbed';

const testbed = sdkTestbed();

const setupSession = (params: Partial<Stripe.Checkout.SessionCreateParams> = {}) =>
  testbed.stripe.checkout.sessions.create({
    mode: 'setup',
    currency: 'usd',
    success_url: 'https://app.example/billing?setup={CHECKOUT_SESSION_ID}',
    cancel_url: 'https://app.example/billing',
    ...params,
  });

describe('customers', () => {
  it('creates one with its metadata, once per idempotency key, and serves it', async () => {
    const key = testbed.newKey('customer');
    const params = { description: 'Credits workspace ws-1', metadata: { workspaceId: 'ws-1' } };
    const customer = await testbed.stripe.customers.create(params, { idempotencyKey: key });
    const again = await testbed.stripe.customers.create(params, { idempotencyKey: key });

    expect(again.id).toBe(customer.id);
    expect(customer).toMatchObject({
      object: 'customer',
      description: 'Credits workspace ws-1',
      metadata: { workspaceId: 'ws-1' },
      invoice_settings: { default_payment_method: null },
    });
    expect(customer.id).toMatch(/^cus_/);
    expect(testbed.double.customers().filter((each) => each.metadata.workspaceId === 'ws-1')).toHaveLength(1);
    expect(await testbed.stripe.customers.retrieve(customer.id)).toMatchObject({ id: customer.id });

    const missing = await failure(testbed.stripe.customers.retrieve('cus_test_missing'));
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id' });
  });
});

describe('Checkout in setup mode', () => {
  it('saves a test card on the customer: the SetupIntent succeeds with the card attached, and checkout.session.completed says so', async () => {
    const customer = await testbed.stripe.customers.create({ metadata: { workspaceId: 'ws-setup' } });
    const metadata = { workspaceId: 'ws-setup', setupId: 'setup-1' };
    const session = await setupSession({ customer: customer.id, metadata, setup_intent_data: { metadata } });

    expect(session).toMatchObject({
      mode: 'setup',
      customer: customer.id,
      currency: 'usd',
      status: 'open',
      payment_status: 'no_payment_required',
      amount_total: null,
      setup_intent: null, // Stripe makes the SetupIntent when the card is saved
      payment_intent: null,
    });
    expect(session.url).toBe(`${testbed.double.url}/checkout/${session.id}`);

    const delivery = await testbed.double.completeSetup(session.id, {
      card: '5555555555554444',
      expMonth: 4,
      expYear: 2031,
    });

    expect(delivery.status).toBe(200);
    const [event] = testbed.eventsAbout(session.id, 'checkout.session.completed');
    const completed = event?.data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({
      mode: 'setup',
      status: 'complete',
      customer: customer.id,
      metadata,
      setup_intent: expect.stringMatching(/^seti_/) as string,
    });

    const setupIntent = await testbed.stripe.setupIntents.retrieve(completed.setup_intent as string, {
      expand: ['payment_method'],
    });
    expect(setupIntent).toMatchObject({
      object: 'setup_intent',
      status: 'succeeded',
      usage: 'off_session',
      customer: customer.id,
      metadata,
      payment_method: {
        object: 'payment_method',
        type: 'card',
        customer: customer.id,
        card: { brand: 'mastercard', last4: '4444', exp_month: 4, exp_year: 2031 },
      },
    });
    const card = setupIntent.payment_method as Stripe.PaymentMethod;
    expect(card.id).toMatch(/^pm_/);
    expect(await testbed.stripe.paymentMethods.retrieve(card.id)).toEqual(card);
    // Without expand, an id, as Stripe answers.
    expect((await testbed.stripe.setupIntents.retrieve(setupIntent.id)).payment_method).toBe(card.id);
    expect(testbed.double.paymentMethods(customer.id).map((each) => each.id)).toEqual([card.id]);
  });

  it('refuses what Stripe refuses: no currency, line items, an unknown customer, setup data in payment mode', async () => {
    const noCurrency = await failure(setupSession({ currency: undefined }));
    expect(noCurrency).toMatchObject({ statusCode: 400, param: 'currency' });

    const lineItems = await failure(setupSession({ line_items: [{ price: 'price_x', quantity: 1 }] }));
    expect(lineItems).toMatchObject({ statusCode: 400, param: 'line_items' });

    const unknown = await failure(setupSession({ customer: 'cus_test_missing' }));
    expect(unknown).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'customer' });
    expect(unknown.message).toBe("No such customer: 'cus_test_missing'");

    const paymentMode = await failure(
      testbed.stripe.checkout.sessions.create({
        mode: 'payment',
        line_items: [{ price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'P' } }, quantity: 1 }],
        setup_intent_data: { metadata: { a: 'b' } },
      }),
    );
    expect(paymentMode).toMatchObject({ statusCode: 400, param: 'setup_intent_data' });
  });

  it('declines 4000000000000002 while saving it, as Stripe does: nothing is saved and the session stays open', async () => {
    const customer = await testbed.stripe.customers.create({});
    const session = await setupSession({ customer: customer.id });

    await expect(testbed.double.completeSetup(session.id, { card: '4000000000000002' })).rejects.toThrow(
      /Your card was declined\..*4000000000000341/,
    );
    await expect(testbed.double.completeSetup(session.id, { card: '4111' })).rejects.toThrow(/incorrect/);

    expect(testbed.double.session(session.id)?.status).toBe('open');
    expect(testbed.double.paymentMethods(customer.id)).toEqual([]);
    expect(testbed.eventsAbout(session.id)).toEqual([]);
  });

  it('lets a tester pick a test card on the hosted page, refuses a declined one there, and returns to the success URL', async () => {
    const customer = await testbed.stripe.customers.create({});
    const session = await setupSession({ customer: customer.id, metadata: { workspaceId: 'ws-page' } });

    const html = await (await fetch(session.url ?? '')).text();
    expect(html).toContain('<h1>Test checkout: save a card for later payments</h1>');
    for (const number of ['4242424242424242', '4000000000000341', '4000002760003184', '4000000000000002']) {
      expect(html).toContain(`name="card" value="${number}"`);
    }
    expect(html).toMatch(/<button type="submit">Save card<\/button>/);
    const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1] ?? '';
    expect(action).toBe(`${testbed.double.url}/checkout/${session.id}/save`);
    const save = (card: string) =>
      fetch(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ card }).toString(),
        redirect: 'manual',
      });

    const declined = await save('4000000000000002');
    expect(declined.status).toBe(402);
    expect(await declined.text()).toContain('<p role="alert">Your card was declined.');

    const saved = await save('4000002760003184');
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe(`https://app.example/billing?setup=${session.id}`);
    const [event] = testbed.eventsAbout(session.id, 'checkout.session.completed');
    expect(event?.data.object).toMatchObject({ mode: 'setup', metadata: { workspaceId: 'ws-page' } });
    expect(testbed.double.paymentMethods(customer.id)).toMatchObject([{ card: { brand: 'visa', last4: '3184' } }]);
    expect((await save('4242424242424242')).status).toBe(409);
  });
});

describe('detaching a card', () => {
  it('takes it off its customer; detaching it again is refused with Stripe’s words and no code', async () => {
    const { paymentMethodId } = await testbed.savedCard();

    const detached = await testbed.stripe.paymentMethods.detach(paymentMethodId);
    expect(detached).toMatchObject({ id: paymentMethodId, customer: null });

    const again = await failure(testbed.stripe.paymentMethods.detach(paymentMethodId));
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again.message).toBe(
      'The payment method you provided is not attached to a customer so detachment is impossible.',
    );
    expect(again.code).toBeUndefined();

    const missing = await failure(testbed.stripe.paymentMethods.detach('pm_test_missing'));
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'payment_method' });
    expect(missing.message).toBe("No such PaymentMethod: 'pm_test_missing'");
  });
});
