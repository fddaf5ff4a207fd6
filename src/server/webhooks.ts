/**
 * Wires outbound webhooks: the key that seals signing secrets, the URL rule, the endpoints' command
 * side, the thread that sends attempts (with its own HTTP client), and the delivery performer the
 * reaction executor runs, which hands attempts to that thread and records their outcomes.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { WebhookReader } from '../../reactions/webhooks/reader';
import { quietAfterMs, WebhooksPerformer } from '../../reactions/webhooks/performer';
import type { Clock } from '../clock';
import { WebhookEndpointCommands } from '../commands/webhook-endpoint-commands';
import { WebhookEndpointHandler } from '../commands/webhook-endpoint-handler';
import { WebhookRegistries } from '../commands/webhook-registry';
import type { EventStore } from '../eventstore/port';
import { aesGcmSecrets } from '../webhooks/secret-box';
import { webhookUrlPolicy } from '../webhooks/url-policy';
import type { Config } from './config';
import { resolveWebhookSecretKey } from './webhook-key';
import { outboundWebhookAttempts, outboundWebhookLatency } from './metrics';
import { WebhookSenderThread } from './webhook-sender-thread';

/**
 * Messages in hand at once (being sent, or their attempt being recorded) over all endpoints, of
 * one endpoint, which bounds the requests to it, and of one workspace's endpoints together. An
 * attempt holds its place until its record is committed, so under load the places per endpoint are
 * what lets it keep up: 32 of one endpoint's messages go in one append. An endpoint whose last
 * attempt failed, or took longer than SLOW_ANSWER_MS, has 4 places, one more with each 2xx in time:
 * a hanging endpoint holds 32 places for one timeout at most, then 4, and one that answers one
 * message and hangs on the next stays at about 4. However many endpoints a workspace makes, they
 * hold 64 places at most: it takes four hostile workspaces to fill the places every endpoint shares.
 */
const CONCURRENCY = 256;
const CONCURRENCY_PER_ENDPOINT = 32;
const CONCURRENCY_PER_WORKSPACE = 64;
const CONCURRENCY_WHILE_STRUGGLING = 4;
const SLOW_ANSWER_MS = 2_000;

export function wireWebhooks(config: Config, store: EventStore, readModels: Database, clock: Clock, logger: Logger) {
  const settings = config.webhooks;
  if (settings.allowPrivateUrls && config.production) {
    logger.warn('WEBHOOK_ALLOW_PRIVATE_URLS=true in production: webhooks may reach private addresses');
  }
  const secretKey = resolveWebhookSecretKey(settings.secretKey, config.dataDir, config.production);
  const secrets = aesGcmSecrets(secretKey);
  const reader = new WebhookReader(readModels);
  const commands = new WebhookEndpointCommands(
    new WebhookEndpointHandler(store),
    new WebhookRegistries(store),
    secrets,
    webhookUrlPolicy({ allowPrivate: settings.allowPrivateUrls, namesSetting: !config.production }),
    {
      disableAfterMs: settings.disableAfterMs,
      quietAfterMs: quietAfterMs(settings.retryScheduleMs, settings.timeoutMs),
      maxEndpoints: settings.maxEndpoints,
      onProblem: (message, error) => logger.warn({ err: error }, message),
    },
    clock,
  );
  const sender = new WebhookSenderThread({
    readModelFile: config.readModelFile,
    secretKey,
    allowPrivateUrls: settings.allowPrivateUrls,
    timeoutMs: settings.timeoutMs,
    // As many as the places: endpoints of one host (a shared receiving service) never wait on one
    // another for a connection while their deadlines run.
    connectionsPerOrigin: CONCURRENCY,
    logLevel: config.logLevel,
    logger,
  });
  const performer = new WebhooksPerformer(
    commands,
    sender,
    clock,
    {
      retryScheduleMs: settings.retryScheduleMs,
      concurrency: CONCURRENCY,
      concurrencyPerEndpoint: CONCURRENCY_PER_ENDPOINT,
      concurrencyWhileStruggling: CONCURRENCY_WHILE_STRUGGLING,
      concurrencyPerWorkspace: CONCURRENCY_PER_WORKSPACE,
      workspaceOf: (endpointId) => reader.endpoint(endpointId)?.workspaceId,
      slowAnswerMs: Math.min(SLOW_ANSWER_MS, settings.timeoutMs),
      observe: ({ succeeded, latencyMs, test }) => {
        // A test sent to a receiver still being set up fails often, and says nothing of deliveries.
        const labels = { outcome: succeeded ? 'delivered' : 'failed', kind: test ? 'test' : 'event' };
        outboundWebhookAttempts.inc(labels);
        outboundWebhookLatency.observe(labels, latencyMs / 1000);
      },
    },
    logger,
  );
  return { reader, commands, performer, close: () => sender.close() };
}
