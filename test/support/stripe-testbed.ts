/**
 * What the Stripe end-to-end tests share: the real server process running the real `stripe` SDK
 * against the local Stripe double (tools/stripe-double/), which signs webhooks with the SDK's own
 * helper and delivers them to the server, and the steps most of those tests start with.
 */
import { CreditPurchasesDocument, StartCreditPurchaseDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { expectData } from './graphql-client';
import { adminToken, freePort, startServer, tokenFor, type ServerProcess } from './server-process';
import { startStripeDouble, type StripeDouble } from '../../tools/stripe-double';

const WEBHOOK_SECRET = 'whsec_test_credits_e2e';

/** Starts a server and a Stripe double before the calling file's tests, and stops them after. */
export function stripeTestbed() {
  let stripe: StripeDouble | undefined;
  let server: ServerProcess | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('The Stripe testbed starts in beforeAll.');
    return value;
  };

  beforeAll(async () => {
    const port = await freePort();
    // Events are sent when a test says so.
    stripe = await startStripeDouble({
      webhookSecret: WEBHOOK_SECRET,
      webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe`,
      automaticEvents: false,
    });
    server = await startServer({
      env: {
        PORT: String(port),
        STRIPE_SECRET_KEY: 'sk_test_credits_e2e',
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_API_BASE: stripe.url,
        CHECKOUT_SUCCESS_URL: 'http://localhost:4000/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}',
        CHECKOUT_CANCEL_URL: 'http://localhost:4000/billing?checkout=cancelled',
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await stripe?.close();
  });

  let counter = 0;
  const testbed = {
    get server(): ServerProcess {
      return started(server);
    },
    get stripe(): StripeDouble {
      return started(stripe);
    },
    newWorkspace: () => `ws-stripe-${++counter}`,
    balanceOf: async (workspaceId: string) =>
      (await expectData(testbed.server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken())).workspaceCredits,
    purchasesOf: async (workspaceId: string) =>
      (await expectData(testbed.server.url, CreditPurchasesDocument, { workspaceId }, adminToken())).creditPurchases,

    /** A billing manager starts a checkout for a package; returns the session. */
    startCheckout: async (workspaceId: string, packageId = 'credits-2000') => {
      const manager = tokenFor(workspaceId, 'BILLING_MANAGER', { subject: `manager-of-${workspaceId}` });
      return (await expectData(testbed.server.url, StartCreditPurchaseDocument, { workspaceId, packageId }, manager))
        .startCreditPurchase;
    },

    /** A workspace that bought `packageId` and paid by card. */
    purchased: async (packageId = 'credits-2000') => {
      const workspaceId = testbed.newWorkspace();
      const session = await testbed.startCheckout(workspaceId, packageId);
      const delivery = await testbed.stripe.completeCheckout(session.id);
      expect(delivery.status).toBe(200);
      const paymentIntentId = testbed.stripe.session(session.id)?.payment_intent as string;
      return { workspaceId, session, paymentIntentId };
    },
  };
  return testbed;
}
