/**
 * Stripe Checkout sends the buyer back to this server's Billing page at its public URL: PUBLIC_URL
 * when set, otherwise http://localhost on the port the server listens on, whatever PORT is (a fixed
 * port, or 0 and the one the system picked). CHECKOUT_SUCCESS_URL and CHECKOUT_CANCEL_URL still
 * override it (test/e2e/stripe-checkout.test.ts sets them).
 */
import { StartCreditPurchaseDocument } from '../generated/graphql';
import { expectData } from '../support/graphql-client';
import { freePort, startServer, tokenFor, type ServerProcess } from '../support/server-process';
import { startStripeDouble, type StripeDouble } from '../../tools/stripe-double';

const WORKSPACE = 'ws-public-url';
let stripe: StripeDouble;

beforeAll(async () => {
  stripe = await startStripeDouble({ webhookSecret: 'whsec_test_public_url' });
});
afterAll(async () => {
  await stripe?.close();
});

/** Starts a server with Stripe on the double, opens a checkout, and returns the session's return URLs. */
async function returnUrlsOf(env: Record<string, string>): Promise<{ server: string; success: string; cancel: string }> {
  let server: ServerProcess | undefined;
  try {
    server = await startServer({
      env: {
        STRIPE_SECRET_KEY: 'sk_test_public_url',
        STRIPE_WEBHOOK_SECRET: 'whsec_test_public_url',
        STRIPE_API_BASE: stripe.url,
        ...env,
      },
    });
    const { startCreditPurchase } = await expectData(
      server.url,
      StartCreditPurchaseDocument,
      { workspaceId: WORKSPACE, packageId: 'credits-500' },
      tokenFor(WORKSPACE, 'OWNER'),
    );
    const session = stripe.session(startCreditPurchase.id);
    return { server: server.url, success: String(session?.success_url), cancel: String(session?.cancel_url) };
  } finally {
    await server?.stop();
  }
}

it('sends the buyer back to PUBLIC_URL, a path and all', async () => {
  const urls = await returnUrlsOf({ PUBLIC_URL: 'https://billing.example.test/credits/' });
  expect(urls.success).toBe(
    'https://billing.example.test/credits/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}',
  );
  expect(urls.cancel).toBe('https://billing.example.test/credits/billing?checkout=cancelled');
});

it('defaults to localhost on the port given in PORT, not 4000', async () => {
  const port = await freePort();
  const urls = await returnUrlsOf({ PORT: String(port) });
  expect(urls.success).toBe(`http://localhost:${port}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`);
  expect(urls.cancel).toBe(`http://localhost:${port}/billing?checkout=cancelled`);
});

it('defaults to the port the system picked when PORT is 0', async () => {
  const urls = await returnUrlsOf({ PORT: '0' });
  const port = new URL(urls.server).port;
  expect(port).not.toBe('0');
  expect(urls.success).toBe(`http://localhost:${port}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`);
});

it('refuses a PUBLIC_URL that is not an http(s) URL, before starting', async () => {
  await expect(startServer({ env: { PUBLIC_URL: 'localhost:4000' } })).rejects.toThrow(/Invalid PUBLIC_URL/);
});
