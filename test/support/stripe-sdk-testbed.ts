/**
 * What the tests of the Stripe double's saved cards share: the real `stripe` SDK pointed at the
 * double, and a webhook endpoint that verifies every event with `stripe.webhooks.constructEvent`,
 * as the service does, so a test sees what the SDK makes of the double's answers and events.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { startStripeDouble, type StripeDouble, type StripeDoubleOptions } from '../../tools/stripe-double';

export const SDK_SECRET_KEY = 'sk_test_stripe_double_cards';
export const SDK_WEBHOOK_SECRET = 'whsec_test_stripe_double_cards';

/** The SDK a service would build, on the double; no retries unless a test asks for them. */
export function stripeClient(double: StripeDouble, maxNetworkRetries = 0): Stripe {
  const url = new URL(double.url);
  return new Stripe(SDK_SECRET_KEY, {
    apiVersion: Stripe.API_VERSION,
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    maxNetworkRetries,
  });
}

/** Starts a webhook endpoint and a double delivering to it before the file's tests; stops both after. */
export function sdkTestbed(options: Partial<StripeDoubleOptions> = {}) {
  let double: StripeDouble | undefined;
  let stripe: Stripe | undefined;
  let receiver: Server | undefined;
  /** Verified events, in the order they arrived. */
  const received: Stripe.Event[] = [];
  /** The status the endpoint answers (a test sets 500 to play an endpoint that fails). */
  const endpoint = { status: 200 };
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('The SDK testbed starts in beforeAll.');
    return value;
  };

  beforeAll(async () => {
    const verifier = new Stripe(SDK_SECRET_KEY);
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (endpoint.status !== 200) {
          response.writeHead(endpoint.status).end();
          return;
        }
        try {
          const signature = request.headers['stripe-signature'];
          received.push(
            verifier.webhooks.constructEvent(
              Buffer.concat(chunks),
              typeof signature === 'string' ? signature : '',
              SDK_WEBHOOK_SECRET,
            ),
          );
          response.writeHead(200).end('{"received":true}');
        } catch {
          response.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((listening) => receiver?.listen(0, '127.0.0.1', listening));
    double = await startStripeDouble({
      webhookSecret: SDK_WEBHOOK_SECRET,
      webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/stripe`,
      secretKey: SDK_SECRET_KEY,
      ...options,
    });
    stripe = stripeClient(double);
  });
  afterAll(async () => {
    await double?.close();
    await new Promise<void>((closed) => {
      if (!receiver) return closed();
      receiver.close(() => closed());
      receiver.closeAllConnections();
    });
  });

  let counter = 0;
  const testbed = {
    get double(): StripeDouble {
      return started(double);
    },
    get stripe(): Stripe {
      return started(stripe);
    },
    received,
    endpoint,
    newKey: (what: string): string => `${what}-${process.pid}-${++counter}`,

    /** The verified events about `objectId`, of `type` when given. */
    eventsAbout: (objectId: string, type?: string): Stripe.Event[] =>
      received.filter(
        (event) =>
          (event.data.object as { id?: string }).id === objectId && (type === undefined || event.type === type),
      ),

    /** Waits until the endpoint has verified `count` events about `objectId` (Stripe sends them after answering). */
    async eventsArrived(objectId: string, count = 1): Promise<Stripe.Event[]> {
      for (let waited = 0; waited < 5000; waited += 10) {
        const arrived = testbed.eventsAbout(objectId);
        if (arrived.length >= count) return arrived;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`Expected ${count} events about ${objectId}; got ${testbed.eventsAbout(objectId).length}`);
    },

    /** A workspace's customer with a test card saved through a setup-mode session. */
    async savedCard(card?: string): Promise<{ customerId: string; paymentMethodId: string; sessionId: string }> {
      const customer = await testbed.stripe.customers.create({ metadata: { workspaceId: 'ws-cards' } });
      const session = await testbed.stripe.checkout.sessions.create({
        mode: 'setup',
        customer: customer.id,
        currency: 'usd',
        success_url: 'https://app.example/billing?setup={CHECKOUT_SESSION_ID}',
        cancel_url: 'https://app.example/billing',
      });
      await testbed.double.completeSetup(session.id, { deliver: false, ...(card !== undefined && { card }) });
      const setupIntent = testbed.double.setupIntent(testbed.double.session(session.id)?.setup_intent ?? '');
      return { customerId: customer.id, paymentMethodId: setupIntent?.payment_method ?? '', sessionId: session.id };
    },
  };
  return testbed;
}

/** The error a call failed with (it must fail). */
export async function failure(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Stripe.errors.StripeError);
  return error as Stripe.errors.StripeError;
}
