/**
 * The thread that sends webhook attempts: it reads the delivery and its endpoint from the read
 * models, signs as Standard Webhooks verifies, answers what came of each attempt, sends nothing for
 * an endpoint that is not enabled, and, when it dies with attempts in hand, is replaced by a thread
 * that sends them again with the same webhook-id and body.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import pino from 'pino';
import { openReadModelDb } from '../../projections/read-model-db';
import { WEBHOOK_TABLES } from '../../reactions/webhooks/tables';
import { WebhookSenderThread } from '../../src/server/webhook-sender-thread';
import { aesGcmSecrets } from '../../src/webhooks/secret-box';
import { isVerifiedBy, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const key = randomBytes(32);
const secrets = aesGcmSecrets(key);
const secret = secrets.generate();
const T0 = Date.now();

let dir: string;
let db: Database;
let receiver: WebhookReceiver;
let thread: WebhookSenderThread;

function addEndpoint(endpointId: string, status: 'ENABLED' | 'DISABLED'): void {
  db.prepare(
    `INSERT INTO webhook_endpoints (endpoint_id, workspace_id, url, event_types, description, status, secret, created_by, created_at, updated_at)
     VALUES (?, 'acme', ?, '["credits.low"]', 'test', ?, ?, 'test', ?, ?)`,
  ).run(endpointId, `${receiver.url}/${endpointId}`, status, secrets.seal(secret), T0, T0);
}

function addDelivery(deliveryId: string, endpointId: string): string {
  const body = JSON.stringify({ type: 'credits.low', data: { deliveryId } });
  db.prepare(
    `INSERT INTO webhook_deliveries (delivery_id, endpoint_id, workspace_id, event_type, event_position, body, status, next_attempt_at, created_at)
     VALUES (?, ?, 'acme', 'credits.low', 1, ?, 'PENDING', ?, ?)`,
  ).run(deliveryId, endpointId, body, T0, T0);
  return body;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webhook-sender-'));
  db = openReadModelDb(join(dir, 'read-models.sqlite'));
  db.exec(WEBHOOK_TABLES);
  receiver = await startWebhookReceiver();
  thread = new WebhookSenderThread({
    readModelFile: join(dir, 'read-models.sqlite'),
    secretKey: key,
    allowPrivateUrls: true,
    timeoutMs: 5_000,
    connectionsPerOrigin: 4,
    logLevel: 'silent',
    logger: pino({ level: 'silent' }),
    restartDelayMs: 50,
  });
});

afterEach(async () => {
  await thread.close();
  await receiver.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

it('sends each attempt signed, answers what the receiver said, and sends nothing to an endpoint not enabled or a delivery canceled', async () => {
  addEndpoint('we_on', 'ENABLED');
  addEndpoint('we_off', 'DISABLED');
  const body = addDelivery('msg_1', 'we_on');
  addDelivery('msg_2', 'we_off');
  receiver.answer = ({ index }) => ({ status: index === 0 ? 204 : 503 });

  addDelivery('msg_3', 'we_on');
  db.prepare("UPDATE webhook_deliveries SET status = 'CANCELED' WHERE delivery_id = 'msg_3'").run();

  const outcomes = await Promise.all([
    thread.send({ deliveryId: 'msg_1', at: Date.now() }),
    thread.send({ deliveryId: 'msg_2', at: Date.now() }),
    thread.send({ deliveryId: 'msg_unknown', at: Date.now() }),
    // Canceled since its work was taken (its type unsubscribed): not sent.
    thread.send({ deliveryId: 'msg_3', at: Date.now() }),
  ]);
  const again = await thread.send({ deliveryId: 'msg_1', at: Date.now() });

  expect(outcomes).toEqual([
    {
      sent: true,
      url: `${receiver.url}/we_on`,
      statusCode: 204,
      error: null,
      latencyMs: expect.any(Number) as number,
      attemptsBefore: 0,
    },
    { sent: false },
    { sent: false },
    { sent: false },
  ]);
  expect(again).toMatchObject({ sent: true, statusCode: 503, error: 'HTTP 503' });
  expect(receiver.received.map((request) => [request.path, request.headers['webhook-id'], request.body])).toEqual([
    ['/we_on', 'msg_1', body],
    ['/we_on', 'msg_1', body],
  ]);
  expect(receiver.received.every((request) => isVerifiedBy(secret, request))).toBe(true);
});

it('replaces a thread that died with attempts in hand, and sends them again with the same webhook-id', async () => {
  addEndpoint('we_on', 'ENABLED');
  const body = addDelivery('msg_1', 'we_on');
  let arrived = 0;
  receiver.answer = () => ({ status: 204, ...(arrived++ === 0 && { delayMs: 1_000 }) });

  const sending = thread.send({ deliveryId: 'msg_1', at: Date.now() });
  while (arrived === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  await thread.crash();

  await expect(sending).resolves.toMatchObject({ sent: true, statusCode: 204 });
  const sent = await receiver.waitFor(() => true, 2);
  expect(sent.map((request) => [request.headers['webhook-id'], request.body])).toEqual([
    ['msg_1', body],
    ['msg_1', body],
  ]);
  expect(sent.every((request) => isVerifiedBy(secret, request))).toBe(true);
  // The new thread goes on sending.
  await expect(thread.send({ deliveryId: 'msg_1', at: Date.now() })).resolves.toMatchObject({ statusCode: 204 });
});

it('refuses what it is asked once it has stopped', async () => {
  await thread.close();
  await expect(thread.send({ deliveryId: 'msg_1', at: Date.now() })).rejects.toThrow('stopped');
});
