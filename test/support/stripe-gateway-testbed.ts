/**
 * What the Stripe adapter's tests share: the real `stripe` SDK, through the adapter, against the
 * local Stripe double (tools/stripe-double/), and the requests and payments they start from.
 */
import {
  PaymentProviderError,
  type CheckoutRequest,
  type PaymentEvent,
  type PaymentGateway,
} from '../../src/payments/payment-gateway';
import { createStripeGateway } from '../../src/payments/stripe-gateway';
import { startStripeDouble, type StripeDouble, type WebhookDelivery } from '../../tools/stripe-double';

export const SECRET_KEY = 'sk_test_credits_service_double';
export const WEBHOOK_SECRET = 'whsec_test_credits_service_double';
export const PRICE_ID = 'price_test_pack_500';

/** The checkout metadata the adapter sets for checkoutRequest(). */
export const ourMetadata = {
  workspaceId: 'ws-acme',
  checkoutId: 'checkout-test-1',
  packageId: 'pack-500',
  credits: '500',
  startedBy: 'user-billing-manager',
};

/** The error a call to the provider failed with, which must be a PaymentProviderError. */
export async function providerError(promise: Promise<unknown>): Promise<PaymentProviderError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(PaymentProviderError);
  return error as PaymentProviderError;
}

/** Starts a Stripe double and a gateway on it before the calling file's tests, and stops it after. */
export function gatewayTestbed() {
  let double: StripeDouble | undefined;
  let gateway: PaymentGateway | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('The gateway testbed starts in beforeAll.');
    return value;
  };

  beforeAll(async () => {
    double = await startStripeDouble({
      webhookSecret: WEBHOOK_SECRET,
      secretKey: SECRET_KEY,
      prices: { [PRICE_ID]: { unitAmount: 5000, currency: 'usd', productName: '500 credits' } },
    });
    gateway = createStripeGateway({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, apiBase: double.url });
  });
  afterAll(async () => {
    await double?.close();
  });

  let keyCounter = 0;
  const testbed = {
    get double(): StripeDouble {
      return started(double);
    },
    get gateway(): PaymentGateway {
      return started(gateway);
    },
    newKey: (what: string): string => `${what}-${process.pid}-${++keyCounter}`,

    checkoutRequest: (overrides: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
      workspaceId: 'ws-acme',
      checkoutId: 'checkout-test-1',
      packageId: 'pack-500',
      packageName: '500 credits',
      credits: 500,
      price: { amount: 5000, currency: 'USD' },
      startedBy: 'user-billing-manager',
      successUrl: 'https://app.example/billing?checkout={CHECKOUT_SESSION_ID}',
      cancelUrl: 'https://app.example/billing',
      idempotencyKey: testbed.newKey('checkout'),
      ...overrides,
    }),

    /** A checkout paid by card at the double; returns its payment intent. */
    paidPurchase: async (): Promise<{ sessionId: string; paymentIntentId: string }> => {
      const session = await testbed.gateway.createCheckoutSession(testbed.checkoutRequest());
      await testbed.double.completeCheckout(session.id, { deliver: false });
      return { sessionId: session.id, paymentIntentId: testbed.double.session(session.id)?.payment_intent ?? '' };
    },

    parse: (delivery: WebhookDelivery): PaymentEvent =>
      testbed.gateway.parseWebhook(Buffer.from(delivery.payload), delivery.signature),
  };
  return testbed;
}
