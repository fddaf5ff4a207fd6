/**
 * Performs the reactions' due work on the main thread (see reaction.ts): woken after each batch
 * the projections commit, and by a timer for work due later. Only while this replica holds the
 * reactor lease. Each reaction has its own concurrency, and a reaction may bound its work per
 * partition too (per webhook endpoint), so a slow receiver never holds up another reaction or
 * another receiver, and nothing here runs inside the command pipeline: a slow provider slows no spend.
 *
 * A piece of work being performed is not started again by this process; once performed, it waits
 * for its outcome to reach the derivation (which removes or reschedules it) rather than be retried
 * at once. Work the derivation rescheduled since (a new due time) is new work and is not held back.
 */
import type { Logger } from 'pino';
import type { Clock } from '../src/clock';
import { CreditsError } from '../src/domain/errors';
import type { EventStore } from '../src/eventstore/port';
import { PaymentProviderError } from '../src/payments/payment-gateway';
import { reactionStream, requestRetry, toNewEvent, type ReactionEvent } from './attempt-events';
import type { ReactorLease } from './lease';
import type { ReactionPerformer, RetryPolicy, WorkItem } from './reaction';
import type { DueWork, WorkReader } from './work-reader';

export interface ReactionExecutorOptions {
  reader: WorkReader;
  store: EventStore;
  performers: readonly ReactionPerformer[];
  lease: ReactorLease;
  clock: Clock;
  logger: Logger;
  /** How often work is looked for without a wake-up (work due later, lease changes). Default 1 s. */
  pollMs?: number;
  /** How long performed work waits for its outcome to be derived before it may be tried again. Default 60 s. */
  outcomeGraceMs?: number;
  /** The position the derivations have reached, to release work whose outcome they have seen. */
  checkpoint?: () => bigint | undefined;
  /**
   * Whether a reaction's derivation stopped at an event it cannot apply: its work is then as that
   * event left it, outcomes recorded since included or not, and none of it is performed until an
   * operator has looked (`credits projections`).
   */
  derivationStopped?: (reaction: string) => boolean;
}

/** A piece of work's partition: its key up to the first '/' (work-queue.ts's PARTITION). */
const partitionOf = (key: string): string => key.slice(0, Math.max(0, key.indexOf('/')));

/** The shortest time between two looks for due work. */
const LOOK_INTERVAL_MS = 20;

/** Whether trying again may help: the provider says so, and anything unexpected gets its retries. */
const isRetryable = (error: unknown): boolean => !(error instanceof PaymentProviderError) || error.retryable;

/** Exponential backoff with full jitter between half and all of the step. */
export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

export class ReactionExecutor {
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * Work this process must not start again before `until` (performed, or failed and waiting) while
   * it is still due at `dueAt`, the time it was performed for: work the derivation scheduled anew (a
   * next attempt) is due again at once. Work whose outcome was recorded at `outcomeAt` is held,
   * whatever it is due at, until the derivations have seen that position, and released then: its
   * next run starts from what that outcome made of it (a webhook resend asked for while an attempt
   * was in flight is numbered after that attempt, not beside it).
   */
  private readonly notBefore = new Map<string, { until: number; dueAt: number; outcomeAt?: bigint }>();
  private timer: NodeJS.Timeout | undefined;
  /** Wakes the executor when the next piece of work falls due before the next poll. */
  private dueTimer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private lookedAt = -Infinity;
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly options: ReactionExecutorOptions) {}

  /** Performs work from now on: nothing is looked for before (see wake). */
  start(): void {
    this.started = true;
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 1_000);
    this.timer.unref();
    this.wake();
  }

  /**
   * Looks for due work soon, coalesced: the wake-ups of one turn make one look, and looks are at
   * least LOOK_INTERVAL_MS apart, so a busy reaction (a completion per millisecond) looks for work
   * fifty times a second rather than once per completion, and starts what is due together.
   */
  wake(): void {
    if (!this.started || this.scheduled || this.stopped) return;
    this.scheduled = true;
    const wait = this.lookedAt + LOOK_INTERVAL_MS - performance.now();
    const look = (): void => {
      this.scheduled = false;
      if (this.running) {
        void this.running.then(() => this.wake());
        return;
      }
      this.lookedAt = performance.now();
      this.running = this.run()
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'reactions could not look for work'))
        .finally(() => (this.running = undefined));
    };
    if (wait > 0) setTimeout(look, wait).unref();
    else setImmediate(look);
  }

  /**
   * Stops looking for work and waits for what is being performed, keeping the lease meanwhile (a
   * Stripe call can outlast it): another replica would otherwise perform the same work beside it.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.dueTimer);
    const renewEvery = Math.min(this.options.pollMs ?? 1_000, 1_000);
    let renewing: Promise<unknown> = Promise.resolve();
    const renew = setInterval(() => {
      renewing = this.options.lease.hold().catch(() => undefined);
    }, renewEvery);
    try {
      await this.running;
      await Promise.all(this.inFlight.values());
    } finally {
      clearInterval(renew);
    }
    // A renewal on its way would otherwise take the lease back just after it is given up.
    await renewing;
    await this.options.lease.release().catch(() => undefined);
  }

  /** Resolves once nothing is being performed (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.inFlight.size > 0) {
      await this.running;
      await Promise.all(this.inFlight.values());
    }
  }

  private async run(): Promise<void> {
    const now = this.options.clock.now().getTime();
    const derived = this.options.checkpoint?.();
    for (const [key, { until, outcomeAt }] of this.notBefore) {
      const seen = outcomeAt !== undefined && derived !== undefined && derived >= outcomeAt;
      if (until <= now || seen) this.notBefore.delete(key);
    }
    const { reader, performers } = this.options;
    // The looks of every performer read in one read transaction, and so do the pieces taken.
    const due = reader.together(() =>
      performers.flatMap((performer) => {
        if (this.options.derivationStopped?.(performer.name)) return [];
        const concurrency = performer.concurrency ?? 4;
        const busy = [...this.inFlight.keys()].filter((key) => key.startsWith(`${performer.name}\n`));
        if (busy.length >= concurrency) return [];
        return this.dueFor(performer, now, busy)
          .slice(0, concurrency - busy.length)
          .map(({ key }) => ({ performer, key }));
      }),
    );
    // The lease is renewed while work is in flight too, not only when more is due: a Stripe call with
    // its retries, or a slow receiver, can outlast it, and another replica would then perform the
    // same work beside this one.
    if (due.length > 0 || this.inFlight.size > 0) {
      if (!(await this.options.lease.hold())) return;
    }
    if (due.length > 0) {
      // Read whole only now: a look passes over the pieces in hand without reading them.
      const items = reader.together(() =>
        due.flatMap(({ performer, key }) => {
          const item = reader.item(performer.name, key);
          return item ? [{ performer, item }] : [];
        }),
      );
      for (const { performer, item } of items) this.launch(performer, item);
    }
    this.wakeAtNextDue(now);
  }

  /** Work due sooner than the next poll (a retry a few hundred ms away) is not left waiting for it. */
  private wakeAtNextDue(now: number): void {
    const next = this.options.reader.nextDue(this.options.performers.map((performer) => performer.name));
    const pollMs = this.options.pollMs ?? 1_000;
    if (next === undefined || next <= now || next - now >= pollMs) return;
    clearTimeout(this.dueTimer);
    this.dueTimer = setTimeout(() => this.wake(), next - now);
    this.dueTimer.unref();
  }

  /**
   * Due work not in flight or held back, the most overdue first, within the performer's bound per
   * partition. A query asks for as many more as this process has of that work in hand, and those
   * are left out here: the in-hand pieces are few, and the queries read little more than they give.
   */
  private dueFor(performer: ReactionPerformer, now: number, busy: readonly string[]): DueWork[] {
    const { reader } = this.options;
    const prefix = `${performer.name}\n`;
    const free = (performer.concurrency ?? 4) - busy.length;
    // Held while due at the same time, or whatever it is due at while its outcome is not derived (null).
    const held = new Map<string, number | null>();
    for (const [id, { dueAt, outcomeAt }] of this.notBefore) {
      if (id.startsWith(prefix)) held.set(id.slice(prefix.length), outcomeAt === undefined ? dueAt : null);
    }
    const performing = new Set(busy.map((id) => id.slice(prefix.length)));
    const available = (item: DueWork): boolean => {
      if (performing.has(item.key)) return false;
      const heldAt = held.get(item.key);
      return heldAt === undefined || (heldAt !== null && heldAt !== item.dueAt);
    };
    const perPartition = performer.partitionConcurrency;
    if (perPartition === undefined) {
      return reader
        .due(performer.name, now, free + performing.size + held.size)
        .filter(available)
        .slice(0, free);
    }
    const inHand = new Map<string, { busy: number; held: number }>();
    const count = (key: string, kind: 'busy' | 'held'): void => {
      const partition = partitionOf(key);
      const counts = inHand.get(partition) ?? { busy: 0, held: 0 };
      counts[kind] += 1;
      inHand.set(partition, counts);
    };
    for (const key of performing) count(key, 'busy');
    for (const key of held.keys()) count(key, 'held');
    const candidates: DueWork[] = [];
    for (const partition of reader.partitions(performer.name)) {
      const counts = inHand.get(partition) ?? { busy: 0, held: 0 };
      const share = Math.min(free, (performer.concurrencyIn?.(partition) ?? perPartition) - counts.busy);
      if (share <= 0) continue;
      const due = reader.dueIn(performer.name, partition, now, share + counts.busy + counts.held);
      candidates.push(...due.filter(available).slice(0, share));
    }
    candidates.sort((a, b) => a.dueAt - b.dueAt);
    return performer.groupConcurrency === undefined && performer.reducedPoolConcurrency === undefined
      ? candidates.slice(0, free)
      : withinGroups(performer, candidates, inHand, free);
  }

  private id(item: Pick<WorkItem, 'reaction' | 'key'>): string {
    return `${item.reaction}\n${item.key}`;
  }

  private launch(performer: ReactionPerformer, item: WorkItem): void {
    const id = this.id(item);
    const attempt = this.attempt(performer, item).finally(() => {
      this.inFlight.delete(id);
      this.wake();
    });
    this.inFlight.set(id, attempt);
  }

  private async attempt(performer: ReactionPerformer, item: WorkItem): Promise<void> {
    const { clock, logger } = this.options;
    try {
      const result = await performer.perform(item);
      const graceUntil = clock.now().getTime() + (this.options.outcomeGraceMs ?? 60_000);
      if (result && 'outcomeAt' in result) {
        this.wait(item, graceUntil, result.outcomeAt);
        return;
      }
      if (result && 'done' in result) {
        this.wait(item, graceUntil);
        await this.record({
          type: 'ReactionWorkDone',
          data: { reaction: item.reaction, key: item.key, doneAt: clock.now().toISOString() },
        });
        return;
      }
      if (result) {
        this.wait(item, result.checkAgainAt.getTime());
        await this.record({
          type: 'ReactionWorkDeferred',
          data: {
            reaction: item.reaction,
            key: item.key,
            dueAt: result.checkAgainAt.toISOString(),
            deferredAt: clock.now().toISOString(),
            ...(result.payload !== undefined && { payload: result.payload, performed: item.payload }),
          },
        });
        return;
      }
      this.wait(item, graceUntil);
    } catch (error) {
      const attempt = item.attempts + 1;
      const parked = !isRetryable(error) || attempt >= performer.retry.maxAttempts;
      const now = clock.now().getTime();
      const nextAttemptAt = parked ? null : now + backoffMs(performer.retry, attempt);
      // Parked work leaves the due list once its event is derived; until then, wait as after success.
      this.wait(item, nextAttemptAt ?? now + (this.options.outcomeGraceMs ?? 60_000));
      const message = error instanceof Error ? error.message : String(error);
      logger[parked ? 'error' : 'warn'](
        { err: error, reaction: item.reaction, key: item.key, attempt, parked },
        parked ? 'reaction work parked: an operator must look at it' : 'reaction attempt failed; will retry',
      );
      await this.record({
        type: 'ReactionAttemptFailed',
        data: {
          reaction: item.reaction,
          key: item.key,
          attempt,
          error: message,
          nextAttemptAt: nextAttemptAt === null ? null : new Date(nextAttemptAt).toISOString(),
          failedAt: new Date(now).toISOString(),
          performed: item.payload,
        },
      }).catch((recordError: unknown) =>
        logger.error({ err: recordError, reaction: item.reaction, key: item.key }, 'could not record a failed attempt'),
      );
    }
  }

  private wait(item: WorkItem, until: number, outcomeAt?: bigint): void {
    this.notBefore.set(this.id(item), { until, dueAt: item.dueAt, ...(outcomeAt !== undefined && { outcomeAt }) });
  }

  private async record(event: ReactionEvent): Promise<void> {
    await this.options.store.appendToStream(reactionStream(event.data.reaction), [toNewEvent(event)], {
      expectedRevision: 'any',
    });
  }

  /** An operator asks for parked work to be tried again, afresh; work that does not wait is NOT_FOUND. */
  async retry(reaction: string, key: string, requestedBy: string): Promise<bigint> {
    if (!this.options.reader.item(reaction, key)) {
      // Each replica reads its own read models: one just started may not know of the work yet.
      throw new CreditsError(
        'NOT_FOUND',
        `No work "${reaction}:${key}" waits, as this server's read models have it (parkedReactionWork lists what does).`,
        { id: `${reaction}:${key}` },
      );
    }
    this.notBefore.delete(`${reaction}\n${key}`);
    return requestRetry(this.options.store, { reaction, key }, requestedBy, this.options.clock.now());
  }
}

/**
 * The most overdue of `candidates` (sorted by due time) up to `free`, taking no more from a group
 * (a workspace's endpoints together), nor from the reduced pool (struggling endpoints together),
 * than the places their busy pieces leave them. Overdue first across a group's partitions, so that
 * none of them waits behind another's backlog.
 */
function withinGroups(
  performer: ReactionPerformer,
  candidates: readonly DueWork[],
  inHand: ReadonlyMap<string, { busy: number }>,
  free: number,
): DueWork[] {
  /** The bounds a partition's pieces count against, by name: its group's, and the reduced pool's. */
  const boundsOf = (partition: string): [string, number][] => {
    const bounds: [string, number][] = [];
    const group = performer.groupConcurrency === undefined ? undefined : performer.groupOf?.(partition);
    if (group !== undefined) bounds.push([`group:${group}`, performer.groupConcurrency as number]);
    if (performer.reducedPoolConcurrency !== undefined && performer.inReducedPool?.(partition)) {
      bounds.push(['reduced-pool', performer.reducedPoolConcurrency]);
    }
    return bounds;
  };
  const left = new Map<string, number>();
  for (const [partition, counts] of inHand) {
    for (const [name, bound] of boundsOf(partition)) left.set(name, (left.get(name) ?? bound) - counts.busy);
  }
  const taken: DueWork[] = [];
  for (const candidate of candidates) {
    if (taken.length >= free) break;
    const bounds = boundsOf(partitionOf(candidate.key));
    if (bounds.some(([name, bound]) => (left.get(name) ?? bound) <= 0)) continue;
    for (const [name, bound] of bounds) left.set(name, (left.get(name) ?? bound) - 1);
    taken.push(candidate);
  }
  return taken;
}
