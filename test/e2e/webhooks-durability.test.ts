/**
 * Webhooks across restarts and replays, and the SSRF rules in production mode: a delivery whose
 * retry was pending when the server was killed completes after a restart with the same
 * webhook-id; rebuilding every read model and the reaction's derivation from the log sends
 * nothing that was delivered; production refuses http, private, loopback and metadata addresses.
 */
import {
  CreateWebhookEndpointDocument,
  PurchaseCreditsDocument,
  WebhookDeliveriesDocument,
} from '../generated/graphql';
import { runCreditsCli } from '../support/cli';
import { expectData, expectError } from '../support/graphql-client';
import { adminToken, newDataDir, startServer, tokenFor, type ServerProcess } from '../support/server-process';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const ENV = { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_RETRY_SCHEDULE: '1500ms,1500ms,1500ms' };
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

const buy = (server: ServerProcess, workspaceId: string, reference: string) =>
  expectData(
    server.url,
    PurchaseCreditsDocument,
    { input: { workspaceId, packageId: 'credits-500', paymentReference: reference } },
    adminToken(),
  );

const deliveries = async (server: ServerProcess, endpointId: string) =>
  (await expectData(server.url, WebhookDeliveriesDocument, { endpointId, first: 100 }, adminToken())).webhookDeliveries;

jest.setTimeout(90_000);

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('resumes a pending retry after a crash, and sends nothing delivered again after a replay of the log', async () => {
  const dataDir = newDataDir();
  const workspaceId = `ws-hooks-durable-${process.pid}`;
  let server = await startServer({ dataDir, env: ENV });
  let up = true;
  receiver.answer = () => ({ status: up ? 204 : 503 });
  try {
    const created = await expectData(
      server.url,
      CreateWebhookEndpointDocument,
      { input: { workspaceId, url: `${receiver.url}/durable`, eventTypes: ['purchase.completed'] } },
      tokenFor(workspaceId, 'OWNER'),
    );
    const endpointId = created.createWebhookEndpoint.id;
    await buy(server, workspaceId, 'INV-1');
    await until(
      () => deliveries(server, endpointId),
      (list) => list[0]?.status === 'SUCCEEDED',
    );

    up = false;
    await buy(server, workspaceId, 'INV-2');
    const [pending] = await until(
      () => deliveries(server, endpointId),
      (list) => list[0]?.attempts === 1,
    );
    expect(pending).toMatchObject({ status: 'PENDING', lastStatusCode: 503 });
    expect(pending?.nextAttemptAt).not.toBeNull();
    server.child.kill('SIGKILL');
    await server.exited;

    up = true;
    server = await startServer({ dataDir, env: ENV });
    // The dead process's reactor lease runs out first (15 s), then the retry is due (5 s + jitter).
    const [resumed] = await until(
      () => deliveries(server, endpointId),
      (list) => list[0]?.status === 'SUCCEEDED',
      40_000,
    );
    expect(resumed).toMatchObject({ id: pending?.id, attempts: 2 });
    const sent = receiver.received.filter((request) => request.path === '/durable');
    expect(sent.map((request) => [request.headers['webhook-id'], request.status])).toEqual([
      [expect.any(String), 204],
      [pending?.id, 503],
      [pending?.id, 204],
    ]);

    await server.stop();
    runCreditsCli(dataDir, ['replay', '--no-progress']);
    server = await startServer({ dataDir, env: ENV });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(receiver.received.filter((request) => request.path === '/durable')).toHaveLength(sent.length);
    const rebuilt = await deliveries(server, endpointId);
    expect(rebuilt.map((delivery) => [delivery.id, delivery.status, delivery.attempts])).toEqual([
      [pending?.id, 'SUCCEEDED', 2],
      [sent[0]?.headers['webhook-id'], 'SUCCEEDED', 1],
    ]);
  } finally {
    await server.stop();
  }
});

describe('in production', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each([
    ['http://hooks.example.com/credits', /must use https/],
    ['https://127.0.0.1/hooks', /127\.0\.0\.1.*not a public address/],
    ['https://localhost/hooks', /not a public address/],
    ['https://169.254.169.254/latest/meta-data', /not a public address/],
    ['https://10.0.0.5/hooks', /not a public address/],
    ['https://[::1]/hooks', /not a public address/],
    ['https://[::ffff:192.168.0.1]/hooks', /not a public address/],
    ['http://127.0.0.1:8080/hooks', /must use https/],
  ])('refuses %s', async (url, reason) => {
    const error = await expectError(
      server.url,
      CreateWebhookEndpointDocument,
      { input: { workspaceId: 'ws-prod', url, eventTypes: ['credits.low'] } },
      adminToken(),
    );
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(reason);
    // The operator's switch that lifts these rules is not named to a production server's tenants.
    expect(error.message).not.toMatch(/WEBHOOK_ALLOW_PRIVATE_URLS/);
  });

  it('refuses to start without WEBHOOK_SECRET_KEY', async () => {
    await expect(startServer({ env: { NODE_ENV: 'production', WEBHOOK_SECRET_KEY: '' } })).rejects.toThrow(
      /WEBHOOK_SECRET_KEY must be set/,
    );
  });
});
