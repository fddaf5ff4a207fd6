/**
 * A reaction turns requests recorded in the log into side effects outside the service (a refund at
 * the payment provider, a webhook to a customer's endpoint) and records each outcome as another
 * event. It has two halves:
 *
 * - Its derivation follows the global log like a projection, on the projection thread and in the
 *   same transactions, and keeps the reaction's work: what was requested and is not finished yet,
 *   when to try it next, and how often it failed. Work is a function of the log, so a replay or a
 *   second replica derives the same work, and a request whose outcome is recorded is never redone.
 * - Its performer runs on the main thread: it takes due work, performs the side effect with an
 *   idempotency key derived from the request, and records the outcome through the command side.
 *   A failure is recorded as an event too (ReactionAttemptFailed), with the time of the next attempt
 *   (exponential backoff with jitter) or, once retries are spent, as parked for an operator.
 *
 * The guarantee: every requested side effect is performed until its outcome is recorded, with the
 * same idempotency key each time, so the receiver applies it once; it is never performed again once
 * recorded. A crash between performing and recording repeats the call with the same key.
 */
import type { Database } from 'better-sqlite3';
import type { RecordedEvent } from '../src/eventstore/port';
import type { WorkQueue } from './work-queue';

export interface ReactionDerivation {
  readonly name: string;
  /** Bump when what the derivation makes of events changes: its work is then derived afresh. */
  readonly version: number;
  /** Creates the derivation's own tables, if it keeps any beside its work. */
  migrate?(db: Database): void;
  reset?(db: Database): void;
  /** Prepares statements once; returns what derives work from each event of the log, in order. */
  prepare(db: Database, work: WorkQueue): (event: RecordedEvent) => void;
}

/** One piece of due work, as the performer gets it. */
export interface WorkItem<Payload = unknown> {
  reaction: string;
  key: string;
  payload: Payload;
  /** Attempts that failed so far. */
  attempts: number;
  dueAt: number;
  /** When the work was first derived (the request's instant in the log). */
  requestedAt: number;
}

export interface RetryPolicy {
  /** Attempts before the work is parked for an operator. */
  maxAttempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

/**
 * What a performer may say besides success: to look again later (e.g. a refund still pending); to
 * mark the work done when its outcome leaves no event of its own for the derivation to see (a card
 * forgotten at the provider, a charge whose answer was recorded already); or where in the log it
 * recorded the outcome, so the work is held back only until its derivation has seen it (rather
 * than for the executor's grace period). A look later may carry a new payload for the work (what the
 * performer learned that the next look needs, such as the id of a charge still processing).
 */
export type PerformResult = { checkAgainAt: Date; payload?: unknown } | { done: true } | { outcomeAt: bigint } | void;

export interface ReactionPerformer<Payload = unknown> {
  readonly name: string;
  readonly retry: RetryPolicy;
  /** Pieces of this reaction's work performed at once. Default 4. */
  readonly concurrency?: number;
  /**
   * Pieces performed at once per partition of the work, the part of its key before the first `/`
   * (one webhook endpoint): a slow receiver then holds only its own share. Default: no such bound.
   */
  readonly partitionConcurrency?: number;
  /**
   * The bound for one partition now, when the performer keeps some partitions to less than
   * `partitionConcurrency` (a webhook endpoint that is failing or slow to answer). Default: that bound.
   */
  concurrencyIn?(partition: string): number;
  /**
   * The group a partition belongs to (the workspace that owns a webhook endpoint), whose
   * partitions together hold at most `groupConcurrency` places, so that many partitions of one
   * owner cannot take every place; undefined: the partition is in no group.
   */
  groupOf?(partition: string): string | undefined;
  readonly groupConcurrency?: number;
  /**
   * Whether a partition is in the performer's reduced pool now (webhook endpoints failing or slow
   * to answer), whose partitions together hold at most `reducedPoolConcurrency` places, whoever
   * owns them: struggling receivers of several owners cannot take every place between them.
   */
  inReducedPool?(partition: string): boolean;
  readonly reducedPoolConcurrency?: number;
  /**
   * Performs the side effect and records its outcome; throws when it failed (a retry may succeed
   * when the error is a PaymentProviderError with `retryable`, or any other error).
   */
  perform(item: WorkItem<Payload>): Promise<PerformResult>;
}
