/**
 * Two replicas of the server on one EventStoreDB (the gRPC test server) with the Stripe double,
 * which delivers its webhooks to the first: what the multi-replica money tests share. Started
 * before the calling file's tests and stopped after.
 */
import { startEsdbTestServer, type EsdbTestServer } from './esdb-test-server/server';
import { freePort, startServers, type ServerProcess } from './server-process';
import { startStripeDouble, type StripeDouble } from '../../tools/stripe-double';

export interface StripeReplicas {
  stripe: StripeDouble;
  replicas: [ServerProcess, ServerProcess];
}

export function stripeReplicas(name: string): () => StripeReplicas {
  const webhookSecret = `whsec_test_${name}`;
  let eventStore: EsdbTestServer | undefined;
  let running: StripeReplicas | undefined;

  beforeAll(async () => {
    eventStore = await startEsdbTestServer();
    const webhookPort = await freePort();
    const stripe = await startStripeDouble({
      webhookSecret,
      webhookUrl: `http://127.0.0.1:${webhookPort}/webhooks/stripe`,
    });
    const env = {
      EVENTSTORE_URL: eventStore.url,
      EXPIRY_SWEEP_INTERVAL_MS: '3600000',
      STRIPE_SECRET_KEY: `sk_test_${name}`,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_API_BASE: stripe.url,
    };
    try {
      const replicas = await startServers([{ env: { ...env, PORT: String(webhookPort) } }, { env }]);
      running = { stripe, replicas: replicas as [ServerProcess, ServerProcess] };
    } catch (error) {
      await stripe.close();
      throw error;
    }
  });
  afterAll(async () => {
    await Promise.all(running?.replicas.map((replica) => replica.stop()) ?? []);
    await running?.stripe.close();
    await eventStore?.close();
  });

  return () => {
    if (!running) throw new Error('The replicas start in beforeAll.');
    return running;
  };
}
