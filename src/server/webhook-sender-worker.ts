/**
 * The webhook sender thread's entry point (see webhook-sender-thread.ts): reads deliveries and
 * endpoints through its own read-only connection to the read-model database, opens signing
 * secrets with the service's key, and POSTs with its own HTTP client. Outcomes go back to the
 * main thread in one message per turn of this thread's event loop.
 */
import BetterSqlite3 from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { WebhookReader } from '../../reactions/webhooks/reader';
import { webhookSender, type SendOrder } from '../../reactions/webhooks/sender';
import { httpTransport } from '../webhooks/http-transport';
import { aesGcmSecrets } from '../webhooks/secret-box';
import { createLogger } from './logger';
import type {
  FromWebhookSender,
  SenderAnswer as Answer,
  ToWebhookSender,
  WebhookSenderWorkerData,
} from './webhook-sender-thread';

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('webhook-sender-worker.js runs as a worker thread of the server');
  const data = workerData as WebhookSenderWorkerData;
  const logger = createLogger(data.logLevel).child({ thread: 'webhook-sender' });
  const db = new BetterSqlite3(data.readModelFile, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const sender = webhookSender(
    new WebhookReader(db),
    httpTransport({
      allowPrivate: data.allowPrivateUrls,
      timeoutMs: data.timeoutMs,
      connectionsPerOrigin: data.connectionsPerOrigin,
      // The endpoint's owner reads one wording for every host that does not resolve to a public
      // address; the operator learns here why a name did not resolve at all (a resolver outage).
      onLookupFailure: (host, error) =>
        logger.warn({ host, code: error.code }, 'a webhook host did not resolve; the attempt failed'),
    }),
    aesGcmSecrets(Buffer.from(data.secretKey)),
  );

  let answers: Answer[] = [];
  const answer = (): void => {
    port.postMessage({ type: 'sent', answers } satisfies FromWebhookSender);
    answers = [];
  };
  const reply = (next: Answer): void => {
    if (answers.length === 0) setImmediate(answer);
    answers.push(next);
  };
  const inFlight = new Set<Promise<void>>();
  const sendAll = db.transaction((orders: (SendOrder & { id: number })[]) =>
    orders.map(({ id, ...order }) => ({ id, order, sending: sender.send(order) })),
  );
  port.on('message', (message: ToWebhookSender) => {
    if (message.type === 'stop') {
      void Promise.all(inFlight)
        .then(() => sender.close())
        .finally(() => {
          db.close();
          port.close();
        });
      return;
    }
    // Each send reads its delivery before its first await: the batch's reads share one read
    // transaction (one snapshot, one look at the WAL) rather than one each.
    for (const { id, order, sending } of sendAll(message.orders)) {
      const done = sending.then(
        (outcome) => reply({ id, outcome }),
        // send answers every failure of the exchange itself: this is a fault in reading or signing.
        (error: unknown) => {
          logger.error({ err: error, deliveryId: order.deliveryId }, 'could not send a webhook');
          reply({ id, error: error instanceof Error ? error.message : String(error) });
        },
      );
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
    }
  });
}

main();
