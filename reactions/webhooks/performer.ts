/**
 * Sends each due webhook message and records the attempt on its endpoint's stream
 * (WebhookDeliveryAttempted), whatever came of it: delivered (2xx), or failed (any other status,
 * a 3xx included since redirects are not followed, no answer within the timeout, a refused address)
 * with the time of the next attempt from the retry schedule, or null once the schedule is spent.
 * The derivation then completes or reschedules the work from that event, so a restart resumes the
 * schedule where the log left it. Every attempt of a message carries its webhook-id; a crash
 * between the receiver's answer and the record sends it again with the same id (at least once).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../src/clock';
import type { CommandMetadata } from '../../src/commands/command-handler';
import type { WebhookEndpointCommands } from '../../src/commands/webhook-endpoint-commands';
import type { WebhookSecrets, WebhookTransport } from '../../src/webhooks/port';
import type { PerformResult, ReactionPerformer, RetryPolicy, WorkItem } from '../reaction';
import type { WebhookReader } from './reader';
import { signedHeaders, signerFor, type Signer } from './signature';
import { WEBHOOKS_REACTION, type WebhookWork } from './work';

export const WEBHOOKS_ACTOR: CommandMetadata = { actorId: 'webhooks-reaction' };

/** 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about 27.6 hours (docs/webhooks.md). */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000].map(
  (seconds) => seconds * 1000,
);

export interface WebhookDeliverySettings {
  /** The wait before each retry, in order; its length is the number of retries. */
  retryScheduleMs: readonly number[];
  /** Attempts in flight at once, over all endpoints. */
  concurrency: number;
  /** Attempts in flight at once to one endpoint. */
  concurrencyPerEndpoint: number;
  /** Told of every attempt made (for metrics). */
  observe?: (attempt: { succeeded: boolean; latencyMs: number }) => void;
}

/** Signers kept in memory (two per endpoint during a secret's overlap). */
const SIGNERS_KEPT = 1_000;

/** A wait of the schedule, made up to 20 % longer at random so that retries of many messages spread out. */
export const withJitter = (delayMs: number, random: () => number = Math.random): number =>
  Math.round(delayMs * (1 + 0.2 * random()));

const describe = (error: unknown): string => {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error instanceof Error ? `${error.name}: ${error.message}${cause}`.slice(0, 500) : String(error);
};

export class WebhooksPerformer implements ReactionPerformer<WebhookWork> {
  readonly name = WEBHOOKS_REACTION;
  /** Only for failures to record an attempt (the store refusing): delivery failures follow the schedule. */
  readonly retry: RetryPolicy = { maxAttempts: 20, firstDelayMs: 1_000, maxDelayMs: 10 * 60 * 1000 };
  readonly concurrency: number;
  readonly partitionConcurrency: number;
  private readonly signers = new Map<string, Signer>();

  constructor(
    private readonly reader: WebhookReader,
    private readonly commands: WebhookEndpointCommands,
    private readonly transport: WebhookTransport,
    private readonly secrets: WebhookSecrets,
    private readonly clock: Clock,
    private readonly settings: WebhookDeliverySettings,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {
    this.concurrency = settings.concurrency;
    this.partitionConcurrency = settings.concurrencyPerEndpoint;
  }

  /** A signer per sealed secret, opened once rather than at every attempt. */
  private signer(sealed: string): Signer {
    let signer = this.signers.get(sealed);
    if (!signer) {
      if (this.signers.size >= SIGNERS_KEPT) this.signers.clear();
      signer = signerFor(this.secrets.open(sealed));
      this.signers.set(sealed, signer);
    }
    return signer;
  }

  async perform(item: WorkItem<WebhookWork>): Promise<PerformResult> {
    const work = item.payload;
    const endpoint = this.reader.outgoing(work.deliveryId);
    // Disabled or deleted since: its derivation drops the work; nothing is sent.
    if (!endpoint || endpoint.status !== 'ENABLED') return;
    const sentAt = this.clock.now();
    const secrets = [
      endpoint.current,
      ...(endpoint.previous && endpoint.previous.expiresAt > sentAt.getTime() ? [endpoint.previous.sealed] : []),
    ];
    const { body } = endpoint;
    const headers = signedHeaders(
      work.deliveryId,
      sentAt,
      body,
      secrets.map((sealed) => this.signer(sealed)),
    );
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      ({ statusCode } = await this.transport.post({ url: endpoint.url, headers, body }));
    } catch (failure) {
      error = describe(failure);
    }
    const latencyMs = Math.round(performance.now() - started);
    const succeeded = statusCode !== null && statusCode >= 200 && statusCode < 300;
    if (statusCode !== null && !succeeded) {
      error =
        statusCode >= 300 && statusCode < 400 ? `HTTP ${statusCode}: redirects are not followed` : `HTTP ${statusCode}`;
    }
    this.settings.observe?.({ succeeded, latencyMs });
    const attemptedAt = this.clock.now();
    const wait = succeeded ? undefined : this.settings.retryScheduleMs[item.attempts];
    const { events, position } = await this.commands.recordAttempt(
      {
        endpointId: work.endpointId,
        deliveryId: work.deliveryId,
        eventType: work.eventType,
        attempt: work.firstAttempt + item.attempts,
        succeeded,
        statusCode,
        error,
        latencyMs,
        nextAttemptAt: wait === undefined ? null : new Date(attemptedAt.getTime() + withJitter(wait, this.random)),
        attemptedAt,
      },
      WEBHOOKS_ACTOR,
    );
    const disabled = events.find((event) => event.type === 'WebhookEndpointDisabled');
    if (disabled) {
      this.logger.warn(
        { endpointId: work.endpointId, url: endpoint.url, failingSince: disabled.data.failingSince },
        'webhook endpoint disabled: every attempt to it failed for longer than WEBHOOK_DISABLE_AFTER',
      );
    }
    return position === undefined ? undefined : { outcomeAt: position };
  }
}
