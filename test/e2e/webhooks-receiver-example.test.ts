/**
 * The receiver docs/webhooks.md shows, run exactly as written (its code block copied to a file)
 * against the real server: it verifies and handles a delivery, handles a redelivery of it once
 * more not at all, and refuses a request whose signature does not hold.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateWebhookEndpointDocument,
  PurchaseCreditsDocument,
  RedeliverWebhookDocument,
  WebhookDeliveriesDocument,
} from '../generated/graphql';
import { expectData } from '../support/graphql-client';
import { adminToken, freePort, startServer, type ServerProcess } from '../support/server-process';

const ROOT = join(__dirname, '../..');

/** The ```js block right after the receiver-example marker of docs/webhooks.md. */
function documentedReceiver(): string {
  const doc = readFileSync(join(ROOT, 'docs/webhooks.md'), 'utf8');
  const marker = doc.indexOf('<!-- receiver-example');
  const block = /```js\n([\s\S]*?)```/.exec(doc.slice(marker));
  if (marker < 0 || !block?.[1]) throw new Error('docs/webhooks.md has no receiver example');
  return block[1];
}

let server: ServerProcess;
let receiver: ChildProcess | undefined;
const lines: string[] = [];
beforeAll(async () => {
  server = await startServer({ env: { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } });
});
afterAll(async () => {
  receiver?.kill();
  await server?.stop();
});

async function until<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('verifies and handles a delivery once, and refuses a forged one', async () => {
  // Written inside the repository, so that `express` and `standardwebhooks` resolve as in a project.
  const file = join(ROOT, 'test/artifacts/receiver-example.mjs');
  mkdirSync(join(ROOT, 'test/artifacts'), { recursive: true });
  writeFileSync(file, documentedReceiver());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/credits-webhooks`;
  const workspaceId = `ws-receiver-${process.pid}`;
  const created = await expectData(
    server.url,
    CreateWebhookEndpointDocument,
    { input: { workspaceId, url, eventTypes: ['purchase.completed'], description: 'the documented receiver' } },
    adminToken(),
  );
  const { id: endpointId, secret } = created.createWebhookEndpoint;
  receiver = spawn(process.execPath, [file], {
    env: { PATH: process.env.PATH, CREDITS_WEBHOOK_SECRET: secret, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  receiver.stdout?.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').trim().split('\n')));
  await until(
    () =>
      fetch(url, { method: 'POST' })
        .then((answer) => answer.status)
        .catch(() => 0),
    (status) => status === 400, // listening, and a request with no signature is refused
  );

  await expectData(
    server.url,
    PurchaseCreditsDocument,
    { input: { workspaceId, packageId: 'credits-500', paymentReference: 'INV-receiver-1' } },
    adminToken(),
  );
  await until(
    () => lines,
    (seen) => seen.length === 1,
  );
  const handled = JSON.parse(lines[0] ?? '{}') as { id: string; type: string; data: Record<string, unknown> };
  expect(handled).toMatchObject({ type: 'purchase.completed', data: { workspaceId, credits: 500 } });

  // Sent again with the same webhook-id: answered 2xx, handled no second time.
  const [delivery] = (await expectData(server.url, WebhookDeliveriesDocument, { endpointId }, adminToken()))
    .webhookDeliveries;
  expect(delivery?.id).toBe(handled.id);
  await expectData(server.url, RedeliverWebhookDocument, { input: { deliveryId: handled.id } }, adminToken());
  await until(
    async () =>
      (await expectData(server.url, WebhookDeliveriesDocument, { endpointId }, adminToken())).webhookDeliveries[0],
    (latest) => latest?.status === 'SUCCEEDED' && latest.attempts === 2,
  );
  expect(lines).toHaveLength(1);

  // The same body and id with a signature made by another secret: refused.
  const forged = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': 'msg_forged',
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': 'v1,bm90IHRoZSBzaWduYXR1cmU=',
    },
    body: delivery?.payload,
  });
  expect(forged.status).toBe(400);
  expect(lines).toHaveLength(1);
});
