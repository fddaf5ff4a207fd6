/**
 * Feeds projections from the global log. Events are applied in batches, each in one read-model
 * transaction that also moves the checkpoints, so a crash never leaves a read model ahead of or
 * behind its checkpoint, and a restart resumes exactly after the last committed event. A batch is
 * committed once `batchSize` events are pending (it may run past it by the rest of a page), or once
 * the log has nothing more waiting, at the end of that turn of the event loop.
 *
 * Two kinds of failure are kept apart:
 * - A projection that throws on an event (a bug, an event it cannot take) is rolled back to before
 *   the batch and stopped at that event, alone: the other read models go on, its checkpoint stays
 *   where it was, and the event, its position and the error are recorded beside the checkpoint for
 *   an operator (`credits projections`). The next start tries it again.
 * - The database refusing the write (disk full, locked, I/O error) is nobody's bug: the whole batch
 *   is kept and committed again with backoff until the fault clears, and nothing is skipped.
 *
 * Each checkpoint records the identity of the log it was written from (EventStore.identity). At
 * start, a read model whose checkpoint is of another log (events.sqlite deleted or replaced, another
 * EventStoreDB), of no recorded log (an earlier release), or past the log's head (an older copy of
 * the log restored) is emptied and rebuilt from the log before anything is served from it: serving
 * it would show credits the log does not have, and skip the events the log appends next. Each
 * checkpoint also names the event it was written at (id, stream, revision): a checkpoint whose event
 * is no longer at its place in the log (an older copy restored, then written past the checkpoint) is
 * rebuilt the same way. While running, a log that goes back under the subscription fails it
 * (LogWentBack: `error`, /readyz projection-failed) until a restart rebuilds.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import {
  StoreUnavailable,
  type EventStore,
  type LogBatch,
  type LogSubscription,
  type RecordedEvent,
} from '../src/eventstore/port';
import { isWorkspaceStream } from '../src/events/workspace-stream';
import { isTransientDatabaseError } from './database-errors';
import { lowestCheckpoint, PositionWaiters } from './position-waiters';
import type { Projection, ProjectionHandler } from './projection';

export interface ProjectionRunnerOptions {
  batchSize?: number;
  logger?: Logger;
  /** How long a caller waits for read-your-writes before giving up. Default 10 s. */
  waitTimeoutMs?: number;
  /** Called after each committed batch, e.g. to tell live subscribers what changed. */
  onCommitted?: (batch: readonly RecordedEvent[]) => void;
  /** Called when a projection stops at an event it cannot apply. */
  onFailed?: (failure: ProjectionFailure) => void;
  /** Called when writing the read models fails for a reason that may clear, and when it has cleared. */
  onStalled?: (error: Error | undefined) => void;
  /** First and largest wait between two attempts to commit a batch the database refused. */
  retryDelayMs?: { first: number; max: number };
  /**
   * Whether start() waits for an event store it cannot reach (StoreUnavailable), trying again with
   * the waits of `retryDelayMs`, rather than failing: a server started while its EventStoreDB node
   * is down listens and says so (/readyz), and follows the log once the node answers. A command
   * line tool leaves it off and fails at once.
   */
  waitForStore?: boolean;
  /** Called when start() finds the event store unreachable and waits for it, and when it answers. */
  onStoreUnreachable?: (error: Error | undefined) => void;
}

/** Where a projection stopped, and why. */
export interface ProjectionFailure {
  projection: string;
  position: string;
  eventType: string;
  streamName: string;
  eventId: string;
  error: string;
}

export interface ProjectionProgress {
  name: string;
  checkpoint: bigint | undefined;
  failure: ProjectionFailure | undefined;
}

interface ActiveProjection {
  projection: Projection;
  handler: ProjectionHandler;
  checkpoint: bigint | undefined;
  /** Whether its query indexes exist; not while it is being built from the start of the log. */
  indexed: boolean;
  failure: ProjectionFailure | undefined;
}

/** Thrown inside the batch transaction when a projection fails, to roll back only its savepoint. */
class ProjectionError extends Error {
  constructor(
    readonly failure: ProjectionFailure,
    cause: unknown,
  ) {
    super(failure.error, { cause });
  }
}

export class ProjectionRunner {
  private readonly active: ActiveProjection[];
  private readonly batchSize: number;
  private readonly waitTimeoutMs: number;
  private pending: RecordedEvent[] = [];
  private flushScheduled = false;
  /** A batch was refused after the handlers had applied some of it: prepare them afresh first. */
  private handlersStale = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 0;
  private stalled: Error | undefined;
  private readonly waiters = new PositionWaiters();
  private subscription: LogSubscription | undefined;
  private following: Promise<void> | undefined;
  private readError: Error | undefined;
  private readonly checkpointStatement;
  private readonly storedCheckpoint;
  private readonly recordFailure;
  /** The identity of the log being projected, known once started. */
  private logIdentity: string | undefined;
  /** Set by stop(): a start() still waiting for the event store gives up. */
  private stopping = false;
  private storeWait: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly db: Database,
    projections: readonly Projection[],
    private readonly options: ProjectionRunnerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 2_000;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 10_000;
    this.checkpointStatement = db.prepare<[string, number, string, string | null, string | null]>(
      `INSERT INTO projection_checkpoints (name, version, position, failure, log, event) VALUES (?, ?, ?, NULL, ?, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = excluded.position, failure = NULL,
         log = excluded.log, event = coalesce(excluded.event, event)`,
    );
    this.recordFailure = db.prepare<[string, number, string]>(
      `INSERT INTO projection_checkpoints (name, version, position, failure) VALUES (?, ?, NULL, ?)
       ON CONFLICT (name) DO UPDATE SET failure = excluded.failure`,
    );
    const readCheckpoint = db.prepare<
      [string],
      { version: number; position: string | null; log: string | null; event: string | null }
    >('SELECT version, position, log, event FROM projection_checkpoints WHERE name = ?');
    this.storedCheckpoint = readCheckpoint;
    this.active = projections.map((projection) => {
      projection.migrate(db);
      const stored = readCheckpoint.get(projection.name);
      if (stored && stored.version !== projection.version) {
        options.logger?.info({ projection: projection.name }, 'projection version changed: rebuilding');
        this.resetTables(projection);
      }
      const checkpoint =
        stored?.version === projection.version && stored.position !== null ? BigInt(stored.position) : undefined;
      const entry = { projection, handler: projection.prepare(db), checkpoint, indexed: false, failure: undefined };
      if (checkpoint !== undefined) this.createQueryIndexes(entry);
      return entry;
    });
  }

  /** Creates the query indexes of a read model that has caught up (or was never behind). */
  private createQueryIndexes(entry: ActiveProjection): void {
    if (entry.indexed) return;
    this.db.transaction(() => {
      for (const statement of entry.projection.queryIndexes ?? []) this.db.exec(statement);
    })();
    entry.indexed = true;
  }

  /** Empties every read model (or the named ones) and their checkpoints: the next start projects them again. */
  resetAll(names?: readonly string[]): void {
    for (const entry of this.active) {
      if (names && !names.includes(entry.projection.name)) continue;
      this.resetTables(entry.projection);
      entry.checkpoint = undefined;
      entry.indexed = false;
      entry.failure = undefined;
    }
  }

  private resetTables(projection: Projection): void {
    this.db.transaction(() => {
      projection.reset(this.db);
      projection.migrate(this.db);
      this.db.prepare('DELETE FROM projection_checkpoints WHERE name = ?').run(projection.name);
    })();
  }

  /** The position every healthy projection has reached; undefined before the first event. */
  get checkpoint(): bigint | undefined {
    return lowestCheckpoint(this.healthy());
  }

  /** Each projection's position and, if it stopped, where and why. */
  get progress(): ProjectionProgress[] {
    return this.active.map(({ projection, checkpoint, failure }) => ({ name: projection.name, checkpoint, failure }));
  }

  /** Why the log cannot be followed at all (the subscription failed); projections' own failures are in `progress`. */
  get error(): Error | undefined {
    return this.readError;
  }

  /** Why the read models cannot be written right now (retried until it clears). */
  get stalledBy(): Error | undefined {
    return this.stalled;
  }

  /** Starts following the log and resolves once the projections have caught up with its head. */
  async start(): Promise<void> {
    const reached = await this.reachLog();
    if (!reached) return;
    const [identity, head] = reached;
    this.logIdentity = identity;
    const gone = await this.checkpointEventsGone(identity, head);
    this.rebuildWhatIsNotOfThisLog(identity, head, gone);
    const from = lowestCheckpoint(this.active);
    this.subscription = this.store.subscribeToAll({ ...(from !== undefined && { after: from }) });
    const subscription = this.subscription;
    this.following = (async () => {
      try {
        for (let batch = await subscription.nextBatch(); batch; batch = await subscription.nextBatch()) {
          this.enqueue(batch);
        }
        this.flush();
      } catch (error) {
        this.failReading(error as Error);
      }
    })();
    if (head !== undefined) await this.waitFor(head, Number.POSITIVE_INFINITY);
    for (const entry of this.healthy()) this.createQueryIndexes(entry);
  }

  /**
   * The log's identity and head; while the store cannot be reached and `waitForStore` is on, asked
   * again with growing waits. Undefined when stop() came first.
   */
  private async reachLog(): Promise<[string, bigint | undefined] | undefined> {
    let delay = 0;
    for (;;) {
      try {
        const reached = await Promise.all([this.store.identity(), this.store.headPosition()]);
        if (delay > 0) {
          this.options.logger?.info('the event store answers: following the log');
          this.options.onStoreUnreachable?.(undefined);
        }
        return reached;
      } catch (error) {
        if (!(error instanceof StoreUnavailable) || !this.options.waitForStore) throw error;
        if (this.stopping) return undefined;
        const { first, max } = this.options.retryDelayMs ?? { first: 100, max: 5_000 };
        if (delay === 0) {
          this.options.logger?.error(
            { err: error.cause ?? error },
            'the event store cannot be reached; trying again until it answers',
          );
          this.options.onStoreUnreachable?.(error);
        }
        delay = delay === 0 ? first : Math.min(max, delay * 2);
        await new Promise<void>((wake) => {
          this.storeWait = { timer: setTimeout(wake, delay), wake };
        });
        this.storeWait = undefined;
        if (this.stopping) return undefined;
      }
    }
  }

  /**
   * The checkpoints of this log, within its head, whose event is no longer at its place: for each,
   * what is there instead. Checkpoints written before they named their event are not checked.
   */
  private async checkpointEventsGone(identity: string, head: bigint | undefined): Promise<Map<string, string>> {
    const gone = new Map<string, string>();
    const checked = new Map<string, string | undefined>();
    for (const entry of this.active) {
      if (entry.checkpoint === undefined || head === undefined || entry.checkpoint > head) continue;
      const stored = this.storedCheckpoint.get(entry.projection.name);
      if (!stored || stored.log !== identity || stored.event === null) continue;
      const key = `${entry.checkpoint}:${stored.event}`;
      if (!checked.has(key)) checked.set(key, await this.whatIsInsteadOf(entry.checkpoint, stored.event));
      const instead = checked.get(key);
      if (instead !== undefined) gone.set(entry.projection.name, instead);
    }
    return gone;
  }

  /**
   * Undefined when the event a checkpoint recorded is where it was (or cannot be checked); otherwise
   * what is there instead. Any failure to read it leaves the read model as it is, with a warning:
   * rebuilding every read model on every replica because of a read that failed would be worse.
   */
  private async whatIsInsteadOf(_checkpoint: bigint, recorded: string): Promise<string | undefined> {
    const { id, stream, revision, position } = parseRecorded(recorded);
    // Recorded without its position (a build of the same day): nothing to compare with.
    if (position === undefined) return undefined;
    try {
      for await (const found of this.store.readStream(stream, { fromRevision: BigInt(revision), maxCount: 1 })) {
        if (found.id === id && `${found.position}` === position) return undefined;
        return `event ${found.id} at position ${found.position}`;
      }
      return 'no event';
    } catch (error) {
      this.options.logger?.warn(
        { err: error, stream, revision },
        "could not read the event a read model's checkpoint was written at; its read model is kept",
      );
      return undefined;
    }
  }

  /** Empties the read models whose checkpoint is not of this log, or not yet of it: see the header. */
  private rebuildWhatIsNotOfThisLog(identity: string, head: bigint | undefined, gone: Map<string, string>): void {
    for (const entry of this.active) {
      if (entry.checkpoint === undefined) continue;
      const stored = this.storedCheckpoint.get(entry.projection.name);
      const recorded = stored?.log ?? null;
      const instead = gone.get(entry.projection.name);
      const reason =
        recorded === null
          ? 'its checkpoint records no log identity (written by an earlier release)'
          : recorded !== identity
            ? `it was built from another log (identity ${recorded}; this log is ${identity})`
            : head === undefined || entry.checkpoint > head
              ? `its checkpoint ${entry.checkpoint} is past the log's head (${head ?? 'empty'}): an older copy of the log?`
              : instead !== undefined
                ? `the event its checkpoint ${entry.checkpoint} was written at (${describeRecorded(stored?.event)}) is ` +
                  `not in the log any more (${instead} is there): an older copy of the log, written to since?`
                : undefined;
      if (reason === undefined) continue;
      this.options.logger?.warn(
        {
          projection: entry.projection.name,
          reason,
          checkpoint: `${entry.checkpoint}`,
          head: head?.toString() ?? null,
        },
        `read model not built from this log: rebuilding it from the log (${reason})`,
      );
      this.resetTables(entry.projection);
      entry.checkpoint = undefined;
      entry.indexed = false;
      entry.failure = undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.storeWait) {
      clearTimeout(this.storeWait.timer);
      this.storeWait.wake();
    }
    clearTimeout(this.retryTimer);
    await this.subscription?.close();
    await this.following;
    this.flush();
  }

  /** Resolves once every healthy projection has applied the event at `position`: read-your-writes. */
  waitFor(position: bigint, timeoutMs = this.waitTimeoutMs): Promise<void> {
    return this.waiters.wait(position, timeoutMs, this.checkpoint, this.readError);
  }

  private healthy(): ActiveProjection[] {
    return this.active.filter((entry) => entry.failure === undefined);
  }

  /**
   * Commits once `batchSize` events are pending; otherwise waits for the rest while the log has more
   * at hand, and for the end of the current turn of the event loop when it has not, so that events
   * delivered one by one in the same turn are still committed together.
   */
  private enqueue(batch: LogBatch): void {
    for (const event of batch.events) this.pending.push(event);
    if (this.retryTimer) return; // a refused batch is waiting to be committed again
    if (this.pending.length >= this.batchSize) {
      this.flush();
    } else if (!batch.more && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.readError || this.retryTimer) return;
    const batch = this.pending;
    const last = (batch[batch.length - 1] as RecordedEvent).position;
    const failed: ProjectionError[] = [];
    try {
      // A refused batch left what the handlers kept in memory for it (the ledger's running
      // balances, the balance's counters): they start again from the database, here so that a
      // failure to prepare them is one more refusal, retried like the batch.
      if (this.handlersStale) {
        for (const entry of this.healthy()) entry.handler = entry.projection.prepare(this.db);
        this.handlersStale = false;
      }
      // IMMEDIATE takes the write lock before the checkpoints are read, so another process
      // projecting into the same database (a CLI catching up) can never apply an event twice.
      this.db
        .transaction(() => {
          for (const entry of this.healthy()) {
            const error = this.applyInSavepoint(entry, batch, last);
            if (error) failed.push(error);
          }
        })
        .immediate();
    } catch (error) {
      // Nothing of the batch was written; what the handlers kept in memory for it must go too.
      this.handlersStale = true;
      this.stall(error as Error);
      return;
    }
    this.pending = [];
    this.recovered();
    for (const error of failed) this.stopProjection(error);
    for (const entry of this.healthy()) entry.checkpoint = last;
    const reached = this.checkpoint;
    if (reached !== undefined) this.waiters.release(reached);
    try {
      this.options.onCommitted?.(batch);
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'a listener of committed projections failed');
    }
  }

  /**
   * Applies the batch to one projection inside a savepoint. A projection's own failure rolls back
   * its savepoint and is returned; a database fault is thrown, failing the whole transaction.
   */
  private applyInSavepoint(
    entry: ActiveProjection,
    batch: readonly RecordedEvent[],
    last: bigint,
  ): ProjectionError | undefined {
    const name = entry.projection.name;
    const stored = this.storedCheckpoint.get(name)?.position;
    const reached = stored === undefined || stored === null ? undefined : BigInt(stored);
    this.db.exec('SAVEPOINT projection');
    let current: RecordedEvent | undefined;
    try {
      for (const event of batch) {
        if (reached !== undefined && event.position <= reached) continue;
        current = event;
        entry.handler.apply(event);
      }
      current = undefined;
      entry.handler.endBatch?.();
      if (reached === undefined || last > reached) {
        this.checkpointStatement.run(
          name,
          entry.projection.version,
          `${last}`,
          this.logIdentity ?? null,
          vouchingEventOf(batch),
        );
      }
      this.db.exec('RELEASE projection');
      return undefined;
    } catch (error) {
      // Some faults (a full disk, an I/O error, in the middle of a statement) make SQLite roll the
      // whole transaction back by itself: no savepoint is left, and the batch is the one refused.
      if (!this.db.inTransaction) throw error;
      this.db.exec('ROLLBACK TO projection');
      this.db.exec('RELEASE projection');
      if (isTransientDatabaseError(error)) throw error;
      const event = current ?? batch[batch.length - 1];
      const failure: ProjectionFailure = {
        projection: name,
        position: `${event?.position ?? ''}`,
        eventType: event?.type ?? '',
        streamName: event?.streamName ?? '',
        eventId: event?.id ?? '',
        error: error instanceof Error ? error.message : String(error),
      };
      this.recordFailure.run(name, entry.projection.version, JSON.stringify(failure));
      return new ProjectionError(failure, error);
    }
  }

  /** A projection that cannot apply an event stops there, alone, rather than skip it and serve wrong numbers. */
  private stopProjection(error: ProjectionError): void {
    const entry = this.active.find((candidate) => candidate.projection.name === error.failure.projection);
    if (!entry) return;
    entry.failure = error.failure;
    this.options.logger?.error(
      { err: error.cause, ...error.failure },
      'projection stopped at an event it cannot apply',
    );
    this.options.onFailed?.(error.failure);
  }

  /** The database refused the batch: keep it and try again, waiting longer each time. */
  private stall(error: Error): void {
    if (!isTransientDatabaseError(error)) {
      this.failReading(error);
      return;
    }
    const { first, max } = this.options.retryDelayMs ?? { first: 100, max: 5_000 };
    this.retryDelay = this.retryDelay === 0 ? first : Math.min(max, this.retryDelay * 2);
    if (!this.stalled) {
      this.options.logger?.error({ err: error }, 'read models cannot be written; retrying until the fault clears');
      this.options.onStalled?.(error);
    }
    this.stalled = error;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.flush();
    }, this.retryDelay);
  }

  private recovered(): void {
    this.retryDelay = 0;
    if (!this.stalled) return;
    this.stalled = undefined;
    this.options.logger?.info('read models are written again');
    this.options.onStalled?.(undefined);
  }

  /** The log itself cannot be read or the database is unusable: nothing can be projected any more. */
  private failReading(error: Error): void {
    this.readError = error;
    this.options.logger?.error({ err: error }, 'projection stopped');
    this.waiters.fail(error);
    this.options.onFailed?.({
      projection: '*',
      position: '',
      eventType: '',
      streamName: '',
      eventId: '',
      error: error.message,
    });
    void this.subscription?.close();
  }
}

/** The event a checkpoint vouches by, as stored beside it. */
interface RecordedCheckpointEvent {
  id: string;
  stream: string;
  revision: string;
  /** Its position in the log; absent in rows written by the first build that kept the event. */
  position?: string;
}

/**
 * The last event of a batch that can vouch for the log at a restart: one of a workspace's stream,
 * which only this service writes and never deletes (another application may delete its own
 * streams under a shared prefix such as `reactions-`, which says nothing of the log). Null when the
 * batch has none: the checkpoint keeps the one it had, which names its own position.
 */
function vouchingEventOf(batch: readonly RecordedEvent[]): string | null {
  for (let i = batch.length - 1; i >= 0; i -= 1) {
    const event = batch[i]!;
    if (!isWorkspaceStream(event.streamName)) continue;
    return JSON.stringify({
      id: event.id,
      stream: event.streamName,
      revision: `${event.revision}`,
      position: `${event.position}`,
    } satisfies RecordedCheckpointEvent);
  }
  return null;
}

const parseRecorded = (recorded: string): RecordedCheckpointEvent => JSON.parse(recorded) as RecordedCheckpointEvent;

function describeRecorded(recorded: string | null | undefined): string {
  if (!recorded) return 'unknown';
  const { id, stream, revision } = parseRecorded(recorded);
  return `event ${id}, ${stream}@${revision}`;
}
