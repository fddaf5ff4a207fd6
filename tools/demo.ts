/**
 * `npm run demo`: the whole purchase on one machine, without a Stripe account or the internet. It
 * starts the local Stripe double (./stripe-double: the hosted checkout page a browser pays on,
 * and webhooks signed as Stripe signs them, delivered to this server), then the server on a fresh
 * embedded store with Stripe pointed at the double, gives the `demo` workspace this month's plan
 * allowance and a few spends, and prints the Billing page's address with an owner's token in it.
 *
 * Everything is the demo's own: a temporary data directory and test secrets made for this run,
 * all gone when it stops (the double keeps its sessions in memory, so a log that outlived it
 * would name payments nobody can refund). It listens on 127.0.0.1 unless HOST says otherwise,
 * on PORT (4000), and honours PUBLIC_URL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../src/server/config';
import { demoSession, DEMO_WORKSPACE_ID, seedDemoWorkspace } from '../src/server/demo-session';
import { createLogger } from '../src/server/logger';
import { serve, type Serving } from '../src/server/serve';
import { startStripeDouble, type StripeDouble } from './stripe-double';

/** A port nothing listens on now: the double must know where to deliver before the server starts. */
const freePort = (host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** Where this machine reaches a server listening on `host`. */
const localAddressOf = (host: string): string =>
  ['0.0.0.0', '::', 'localhost'].includes(host) ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

/** The environment the server reads, with the demo's store and its Stripe double in place of any real ones. */
function demoEnvironment(stripe: { url: string; secretKey: string; webhookSecret: string }, dataDir: string) {
  const environment = { ...process.env };
  // The embedded store, and Checkout's return pages on this server (they follow PUBLIC_URL).
  for (const name of ['EVENTSTORE_URL', 'CHECKOUT_SUCCESS_URL', 'CHECKOUT_CANCEL_URL']) delete environment[name];
  return {
    ...environment,
    HOST: process.env.HOST || '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
    DATA_DIR: dataDir,
    STRIPE_SECRET_KEY: stripe.secretKey,
    STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
    STRIPE_API_BASE: stripe.url,
  };
}

function banner(config: Config, serving: Serving, stripe: StripeDouble): string {
  const site = serving.service.publicUrl.url;
  const token = demoSession(serving.jwtSecret).tokens.OWNER;
  return `
The credits demo is running: the server on a fresh embedded store, with a local Stripe test double.
Buy credits as a billing manager would, in a browser on this machine:

  1. Go to Billing (this link signs you in as the owner of workspace "${DEMO_WORKSPACE_ID}" for an hour):
     ${site}/billing#token=${token}
  2. Review Available, Included and Purchased credits and the current plan.
  3. Find Buy credits, under the balance.
  4. Select a package: press its Buy credits button.
  5. Complete payment: press Pay on the test checkout page (no card, no money).
  6. Confirm: back on Billing, "Payment confirmed" and Purchased credits have risen.

  GraphQL explorer  ${site}/graphql
  Stripe double     ${stripe.url} (test secrets made for this run)
  Data              ${config.dataDir} (removed when the demo stops)
  Another token     DATA_DIR=${config.dataDir} npm run --silent token -- --workspace ${DEMO_WORKSPACE_ID} --role BILLING_MANAGER

Ctrl-C stops the demo.
`;
}

async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('The demo is for development: it signs tokens with a throwaway secret. Unset NODE_ENV=production.');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'credits-demo-'));
  let stripe: StripeDouble | undefined;
  let serving: Serving | undefined;
  const cleanUp = async (): Promise<void> => {
    await serving?.close();
    await stripe?.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const secretKey = `sk_test_demo_${randomBytes(12).toString('hex')}`;
    const webhookSecret = `whsec_demo_${randomBytes(24).toString('hex')}`;
    // Checked once before the double starts, so that a bad PORT or HOST is reported as such.
    const { host, port: asked } = loadConfig(demoEnvironment({ url: '', secretKey, webhookSecret }, dataDir));
    const port = asked === 0 ? await freePort(host) : asked;
    stripe = await startStripeDouble({
      secretKey,
      webhookSecret,
      webhookUrl: `http://${localAddressOf(host)}:${port}/webhooks/stripe`,
    });
    const config = loadConfig({
      ...demoEnvironment({ url: stripe.url, secretKey, webhookSecret }, dataDir),
      PORT: String(port),
    });
    serving = await serve(config, createLogger(config.logLevel));
    await seedDemoWorkspace(serving.service.services);
    serving.announce();
    process.stdout.write(banner(config, serving, stripe));
  } catch (error) {
    await cleanUp().catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      message.includes('EADDRINUSE')
        ? `${message}: another program uses that port; try PORT=4010 npm run demo`
        : message,
    );
  }

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    try {
      await cleanUp();
      process.stdout.write('The demo stopped; its data is gone.\n');
      process.exit(0);
    } catch (error) {
      console.error('The demo did not stop cleanly:', error);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
