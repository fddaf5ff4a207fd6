/**
 * Feeds projections from the global log. Events are applied in batches, each in one read-model
 * transaction that also moves the checkpoints, so a crash never leaves a read model ahead of or
 * behind its checkpoint, and a restart resumes exactly after the last committed event. A batch is
 * committed once `batchSize` events are pending (it may run past it by the rest of a page), or once
 * the log has nothing more waiting, at the end of that turn of the event loop.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { EventStore, LogBatch, LogSubscription, RecordedEvent } from '../src/eventstore/port';
import { lowestCheckpoint, PositionWaiters } from './position-waiters';
import type { Projection, ProjectionHandler } from './projection';

export interface ProjectionRunnerOptions {
  batchSize?: number;
  logger?: Logger;
  /** How long a caller waits for read-your-writes before giving up. Default 10 s. */
  waitTimeoutMs?: number;
  /** Called after each committed batch, e.g. to tell live subscribers what changed. */
  onCommitted?: (batch: readonly RecordedEvent[]) => void;
  /** Called once if a projection fails to apply an event: the runner has stopped. */
  onFailed?: (error: Error) => void;
}

interface ActiveProjection {
  projection: Projection;
  handler: ProjectionHandler;
  checkpoint: bigint | undefined;
  /** Whether its query indexes exist; not while it is being built from the start of the log. */
  indexed: boolean;
}

export class ProjectionRunner {
  private readonly active: ActiveProjection[];
  private readonly batchSize: number;
  private readonly waitTimeoutMs: number;
  private pending: RecordedEvent[] = [];
  private flushScheduled = false;
  private readonly waiters = new PositionWaiters();
  private subscription: LogSubscription | undefined;
  private following: Promise<void> | undefined;
  private failure: Error | undefined;
  private readonly checkpointStatement;
  private readonly storedCheckpoint;

  constructor(
    private readonly store: EventStore,
    private readonly db: Database,
    projections: readonly Projection[],
    private readonly options: ProjectionRunnerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 2_000;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 10_000;
    this.checkpointStatement = db.prepare<[string, number, string]>(
      `INSERT INTO projection_checkpoints (name, version, position) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = excluded.position`,
    );
    const readCheckpoint = db.prepare<[string], { version: number; position: string | null }>(
      'SELECT version, position FROM projection_checkpoints WHERE name = ?',
    );
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
      const entry = { projection, handler: projection.prepare(db), checkpoint, indexed: false };
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

  /** Empties every read model and checkpoint; the next start projects them from the beginning. */
  resetAll(): void {
    for (const entry of this.active) {
      this.resetTables(entry.projection);
      entry.checkpoint = undefined;
      entry.indexed = false;
    }
  }

  private resetTables(projection: Projection): void {
    this.db.transaction(() => {
      projection.reset(this.db);
      projection.migrate(this.db);
      this.db.prepare('DELETE FROM projection_checkpoints WHERE name = ?').run(projection.name);
    })();
  }

  /** The position every projection has reached; undefined before the first event. */
  get checkpoint(): bigint | undefined {
    return lowestCheckpoint(this.active);
  }

  /** Each projection's position, for readiness reports. */
  get progress(): { name: string; checkpoint: bigint | undefined }[] {
    return this.active.map(({ projection, checkpoint }) => ({ name: projection.name, checkpoint }));
  }

  get error(): Error | undefined {
    return this.failure;
  }

  /** Starts following the log and resolves once the projections have caught up with its head. */
  async start(): Promise<void> {
    const head = await this.store.headPosition();
    this.subscription = this.store.subscribeToAll({ ...(this.checkpoint !== undefined && { after: this.checkpoint }) });
    const subscription = this.subscription;
    this.following = (async () => {
      try {
        for (let batch = await subscription.nextBatch(); batch; batch = await subscription.nextBatch()) {
          this.enqueue(batch);
        }
        this.flush();
      } catch (error) {
        this.fail(error as Error);
      }
    })();
    if (head !== undefined) await this.waitFor(head, Number.POSITIVE_INFINITY);
    for (const entry of this.active) this.createQueryIndexes(entry);
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    await this.following;
    this.flush();
  }

  /** Resolves once every projection has applied the event at `position`: read-your-writes. */
  waitFor(position: bigint, timeoutMs = this.waitTimeoutMs): Promise<void> {
    return this.waiters.wait(position, timeoutMs, this.checkpoint, this.failure);
  }

  /**
   * Commits once `batchSize` events are pending; otherwise waits for the rest while the log has more
   * at hand, and for the end of the current turn of the event loop when it has not, so that events
   * delivered one by one in the same turn are still committed together.
   */
  private enqueue(batch: LogBatch): void {
    for (const event of batch.events) this.pending.push(event);
    if (this.pending.length >= this.batchSize) {
      this.flush();
    } else if (!batch.more && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.failure) return;
    const batch = this.pending;
    this.pending = [];
    const last = (batch[batch.length - 1] as RecordedEvent).position;
    try {
      // IMMEDIATE takes the write lock before the checkpoints are read, so another process
      // projecting into the same database (a CLI catching up) can never apply an event twice.
      this.db
        .transaction(() => {
          for (const entry of this.active) {
            const stored = this.storedCheckpoint.get(entry.projection.name)?.position;
            const reached = stored === undefined || stored === null ? undefined : BigInt(stored);
            for (const event of batch) {
              if (reached === undefined || event.position > reached) entry.handler.apply(event);
            }
            entry.handler.endBatch?.();
            if (reached === undefined || last > reached) {
              this.checkpointStatement.run(entry.projection.name, entry.projection.version, last.toString());
            }
          }
        })
        .immediate();
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    for (const entry of this.active) entry.checkpoint = last;
    this.waiters.release(last);
    try {
      this.options.onCommitted?.(batch);
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'a listener of committed projections failed');
    }
  }

  /** A projection that cannot apply an event stops here rather than skip it and serve wrong numbers. */
  private fail(error: Error): void {
    this.failure = error;
    this.options.logger?.error({ err: error }, 'projection stopped');
    this.waiters.fail(error);
    this.options.onFailed?.(error);
    void this.subscription?.close();
  }
}
