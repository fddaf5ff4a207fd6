/**
 * Sends each due webhook message (through a WebhookSender, sender.ts) and records the attempt on its endpoint's stream
 * (WebhookDeliveryAttempted), whatever came of it: delivered (2xx), or failed (any other status,
 * a 3xx included since redirects are not followed, no answer within the timeout, a refused address)
 * with the time of the next attempt from the retry schedule, or null once the schedule is spent.
 * The derivation then completes or reschedules the work from that event, so a restart resumes the
 * schedule where the log left it. Every attempt of a message carries its webhook-id; a crash
 * between the receiver's answer and the record sends it again with the same id (at least once). A
 * record the store could not write (an outage) is kept: the executor tries the work again on
 * `retry`, and each try records the attempt made rather than sending the message again.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../src/clock';
import type { CommandMetadata } from '../../src/commands/command-handler';
import type { WebhookEndpointCommands } from '../../src/commands/webhook-endpoint-commands';
import { publicUrlOf, WEBHOOK_TEST_TYPE } from '../../src/domain/webhooks/messages';
import type { PerformResult, ReactionPerformer, RetryPolicy, WorkItem } from '../reaction';
import { delivered, type WebhookSender } from './sender';
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
  /**
   * Attempts in flight at once to an endpoint whose last attempt failed or took longer than
   * `slowAnswerMs`: a dead or slow receiver then holds this many of the places all endpoints share,
   * not `concurrencyPerEndpoint`. Each 2xx in time gives it one more place back, any failure takes
   * it back to this many: an endpoint that answers one message and hangs on the next stays small.
   */
  concurrencyWhileStruggling: number;
  slowAnswerMs: number;
  /**
   * Attempts in flight at once to all the endpoints of one workspace together (platform endpoints,
   * configured by admins, are not counted), and how to tell an endpoint's workspace (null: a
   * platform endpoint; undefined: unknown). Without them, no such bound.
   */
  concurrencyPerWorkspace?: number;
  workspaceOf?: (endpointId: string) => string | null | undefined;
  /** Told of every attempt made (for metrics); `test`: a message sent by sendTestWebhook. */
  observe?: (attempt: { succeeded: boolean; latencyMs: number; test: boolean }) => void;
}

const NO_RETRIES: readonly number[] = [];

/** A wait of the schedule, made up to 20 % longer at random so that retries of many messages spread out. */
export const withJitter = (delayMs: number, random: () => number = Math.random): number =>
  Math.round(delayMs * (1 + 0.2 * random()));

/**
 * Longer than any wait between two attempts of one delivery (the schedule's longest with its
 * jitter, an attempt's timeout, and a minute for the executor): a failure this long after an
 * endpoint's previous one follows a time in which it was not tried at all.
 */
export const quietAfterMs = (retryScheduleMs: readonly number[], timeoutMs: number): number =>
  Math.ceil(Math.max(0, ...retryScheduleMs) * 1.2) + timeoutMs + 60_000;

/** Endpoints remembered (struggling, or their workspace); past this many the memory starts afresh. */
const ENDPOINTS_KEPT = 10_000;

export class WebhooksPerformer implements ReactionPerformer<WebhookWork> {
  readonly name = WEBHOOKS_REACTION;
  /** Only for failures to record an attempt (the store refusing): delivery failures follow the schedule. */
  readonly retry: RetryPolicy = { maxAttempts: 20, firstDelayMs: 1_000, maxDelayMs: 10 * 60 * 1000 };
  readonly concurrency: number;
  readonly partitionConcurrency: number;
  readonly groupConcurrency: number | undefined;
  /** Struggling endpoints together hold at most half the places, whichever workspaces own them. */
  readonly reducedPoolConcurrency: number;
  /**
   * Endpoints working their way back from a failed or slow attempt, with the places they have now
   * (in this process; a restart starts them at full share).
   */
  private readonly struggling = new Map<string, number>();
  /** Each endpoint's workspace, as asked once (it never changes). */
  private readonly owners = new Map<string, string | null>();
  /**
   * Attempts sent whose record the store refused (an outage), by the work they were for: the next
   * try of that work records it rather than sending the message again, so that an outage of the
   * store does not send a delivered message to its receiver every second. Only in this process: a
   * restart, or another replica taking the work, sends it again (at least once, the same id).
   */
  private readonly unrecorded = new Map<string, { attempt: AttemptRecord; url: string }>();

  constructor(
    private readonly commands: WebhookEndpointCommands,
    private readonly sender: WebhookSender,
    private readonly clock: Clock,
    private readonly settings: WebhookDeliverySettings,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {
    this.concurrency = settings.concurrency;
    this.partitionConcurrency = settings.concurrencyPerEndpoint;
    this.groupConcurrency = settings.workspaceOf && settings.concurrencyPerWorkspace;
    this.reducedPoolConcurrency = Math.max(1, Math.floor(settings.concurrency / 2));
  }

  /** An endpoint's places: its full share, or fewer while it is failing or slow to answer. */
  concurrencyIn(endpointId: string): number {
    return Math.min(this.struggling.get(endpointId) ?? this.partitionConcurrency, this.partitionConcurrency);
  }

  /** Whether an endpoint is struggling now (its last attempt failed or was slow): it shares the reduced pool. */
  inReducedPool(endpointId: string): boolean {
    return this.struggling.has(endpointId);
  }

  /** The workspace whose endpoints share `concurrencyPerWorkspace`; none for platform endpoints. */
  groupOf(endpointId: string): string | undefined {
    let owner = this.owners.get(endpointId);
    if (owner === undefined) {
      owner = this.settings.workspaceOf?.(endpointId);
      if (owner === undefined) return undefined;
      if (this.owners.size >= ENDPOINTS_KEPT) this.owners.clear();
      this.owners.set(endpointId, owner);
    }
    return owner ?? undefined;
  }

  /**
   * A failed or slow answer takes the endpoint down to the struggling share; each prompt 2xx gives
   * one place back (so the share doubles, at most, with each round of answers) until it is whole.
   */
  private adjustShare(endpointId: string, prompt: boolean): void {
    const places = this.struggling.get(endpointId);
    if (!prompt) {
      if (places === undefined && this.struggling.size >= ENDPOINTS_KEPT) this.struggling.clear();
      this.struggling.set(endpointId, this.settings.concurrencyWhileStruggling);
    } else if (places !== undefined) {
      if (places + 1 >= this.partitionConcurrency) this.struggling.delete(endpointId);
      else this.struggling.set(endpointId, places + 1);
    }
  }

  async perform(item: WorkItem<WebhookWork>): Promise<PerformResult> {
    const work = item.payload;
    const sentBefore = this.unrecorded.get(unrecordedKey(work));
    if (sentBefore) return this.record(work, sentBefore.attempt, sentBefore.url);
    // The attempt is dated when it was sent (its signature's timestamp), not when its answer came:
    // a timed-out attempt happened WEBHOOK_TIMEOUT_MS before it was known to have failed.
    const attemptedAt = this.clock.now();
    const outcome = await this.sender.send({ deliveryId: work.deliveryId, at: attemptedAt.getTime() });
    // Disabled or deleted since: its derivation drops the work; nothing was sent.
    if (!outcome.sent) return;
    const { statusCode, error, latencyMs } = outcome;
    const succeeded = delivered(statusCode);
    const test = work.eventType === WEBHOOK_TEST_TYPE;
    this.settings.observe?.({ succeeded, latencyMs, test });
    this.adjustShare(work.endpointId, succeeded && latencyMs < this.settings.slowAnswerMs);
    const answeredAt = this.clock.now().getTime();
    // Numbered after the delivery's last recorded attempt, not by the work's failures: a failure of
    // this service's own (a store that could not record, a sender thread that died) is no attempt
    // at the receiver, and must neither skip a number nor move the schedule on.
    const attempt = Math.max(work.firstAttempt, outcome.attemptsBefore + 1);
    // A test is tried once, not on the schedule: its sender sees at once what came of it, and may
    // send it again (redeliverWebhook) or another one.
    const retries = test ? NO_RETRIES : this.settings.retryScheduleMs;
    const wait = succeeded ? undefined : retries[attempt - work.firstAttempt];
    const record: AttemptRecord = {
      endpointId: work.endpointId,
      deliveryId: work.deliveryId,
      eventType: work.eventType,
      attempt,
      succeeded,
      statusCode,
      error,
      latencyMs,
      nextAttemptAt: wait === undefined ? null : new Date(answeredAt + withJitter(wait, this.random)),
      attemptedAt,
      ...(work.redeliveryRequestedAt !== undefined && {
        redeliveryRequestedAt: new Date(work.redeliveryRequestedAt),
      }),
    };
    return this.record(work, record, outcome.url);
  }

  private async record(work: WebhookWork, attempt: AttemptRecord, url: string): Promise<PerformResult> {
    const key = unrecordedKey(work);
    let recorded: Awaited<ReturnType<WebhookEndpointCommands['recordAttempt']>>;
    try {
      recorded = await this.commands.recordAttempt(attempt, WEBHOOKS_ACTOR);
    } catch (error) {
      if (!this.unrecorded.has(key) && this.unrecorded.size >= ENDPOINTS_KEPT) this.unrecorded.clear();
      this.unrecorded.set(key, { attempt, url });
      throw error;
    }
    this.unrecorded.delete(key);
    const disabled = recorded.events.find((event) => event.type === 'WebhookEndpointDisabled');
    if (disabled) {
      this.logger.warn(
        { endpointId: work.endpointId, url: publicUrlOf(url), failingSince: disabled.data.failingSince },
        'webhook endpoint disabled: every attempt to it failed for longer than WEBHOOK_DISABLE_AFTER',
      );
    }
    return recorded.position === undefined ? undefined : { outcomeAt: recorded.position };
  }
}

type AttemptRecord = Parameters<WebhookEndpointCommands['recordAttempt']>[0];

/** The work an unrecorded attempt was for: its delivery, from its first attempt or a redelivery. */
const unrecordedKey = (work: WebhookWork): string =>
  `${work.deliveryId}\n${work.firstAttempt}\n${work.redeliveryRequestedAt ?? ''}`;
