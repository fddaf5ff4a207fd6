/**
 * Handles commands against a workspace's stream: load the state, decide, append with the expected
 * revision.
 *
 * Commands on one workspace queue up while its previous append is being committed; the handler then
 * decides every queued command in turn on the cached state and appends all their events in ONE
 * append, so a busy workspace costs one durable commit per batch, not per command. No answer (a
 * result, a refusal, or a repeat of an earlier request) is given before the append it depends on has
 * committed. If another process appended first, the revision check fails; the whole batch is then
 * decided again on the reloaded stream, a bounded number of times.
 *
 * With a snapshot store, a workspace whose state is not cached is loaded from its latest snapshot
 * plus the events after it, and a snapshot is taken once a cached state has run `snapshotEvery`
 * events ahead of the last one (at most once per `snapshotIntervalMs` per workspace, so that a busy
 * workspace does not spend its time writing snapshots).
 */
import { LRUCache } from 'lru-cache';
import type { WorkspaceCreditsCommand } from '../domain/commands';
import { decide } from '../domain/decide';
import { conflict } from '../domain/errors';
import type { WorkspaceCreditsEvent } from '../domain/events';
import { evolve, initialState, type WorkspaceCreditsState } from '../domain/state';
import { decodeState, encodeState, STATE_SNAPSHOT_VERSION } from '../domain/state-snapshot';
import { isExpectedRevisionConflict, type EventStore, type NewEvent } from '../eventstore/port';
import { currentSchemaVersion } from '../events/upcasters';
import { toWorkspaceCreditsEvent, workspaceStreamName } from '../events/workspace-stream';
import { newId } from '../ids';
import type { SnapshotStore, StateSnapshot } from '../snapshots/snapshot-store';

/**
 * A cold workspace folds at most this many events after its snapshot (unless it is busy enough that
 * snapshotIntervalMs holds the next one back): a few milliseconds of reading on a cold start.
 */
export const DEFAULT_SNAPSHOT_EVERY = 100;

export interface CommandHandlerOptions {
  /** Attempts before a command that keeps losing revision races is refused with CONFLICT. Default 5. */
  maxAttempts?: number;
  /** Workspaces whose state is kept in memory between commands. Default 10,000. */
  cachedWorkspaces?: number;
  /** Most commands decided into one append. Default 1,000. */
  maxBatch?: number;
  /** Where state snapshots are kept; without one, every load folds the whole stream. */
  snapshots?: SnapshotStore;
  /** Events a cached state may run ahead of its last snapshot before a new one is taken. Default 100. */
  snapshotEvery?: number;
  /** Least time between two snapshots of one workspace. Default 1,000 ms. */
  snapshotIntervalMs?: number;
  /** On close, snapshot every cached workspace this many events or more past its last. Default 100. */
  snapshotOnCloseAfter?: number;
}

/** Who asked, and on whose behalf: stored as event metadata. */
export interface CommandMetadata {
  actorId: string;
  correlationId?: string;
}

export interface CommandOutcome<R> {
  result: R;
  /** The events appended; empty when the command was a repeat or changed nothing. */
  events: WorkspaceCreditsEvent[];
  /** Global position of the last appended event; undefined when nothing was appended. */
  position: bigint | undefined;
}

interface LoadedStream {
  state: WorkspaceCreditsState;
  revision: bigint | undefined;
  /** Id of the event at `revision`. */
  lastEventId: string | undefined;
  /** Revision of the latest snapshot written or loaded, and when one was last taken (performance.now()). */
  snapshotRevision: bigint | undefined;
  snapshotTakenAt: number;
  snapshotWriting: boolean;
}

/** A command waiting for its workspace, and how to answer its caller. */
interface Queued {
  prepare: (state: WorkspaceCreditsState) => Promise<WorkspaceCreditsCommand | undefined>;
  /** Set once prepared: preparing (e.g. a provider refund) happens once, deciding on every attempt. */
  command?: WorkspaceCreditsCommand | undefined;
  prepared: boolean;
  metadata: CommandMetadata;
  resultOf: (state: WorkspaceCreditsState) => unknown;
  attempts: number;
  resolve(outcome: CommandOutcome<unknown>): void;
  reject(error: unknown): void;
}

type Decided =
  { queued: Queued; events: WorkspaceCreditsEvent[]; result: unknown } | { queued: Queued; error: unknown };

export class WorkspaceCreditsCommandHandler {
  private readonly cache: LRUCache<string, LoadedStream>;
  private readonly queues = new Map<string, Queued[]>();
  private readonly maxAttempts: number;
  private readonly maxBatch: number;
  private readonly snapshots: SnapshotStore | undefined;
  private readonly snapshotEvery: bigint;
  private readonly snapshotIntervalMs: number;
  private readonly snapshotOnCloseAfter: bigint;
  /** Queues being worked through and snapshots being written. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly store: EventStore,
    options: CommandHandlerOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxBatch = options.maxBatch ?? 1_000;
    this.cache = new LRUCache({ max: options.cachedWorkspaces ?? 10_000 });
    this.snapshots = options.snapshots;
    this.snapshotEvery = BigInt(options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY);
    this.snapshotIntervalMs = options.snapshotIntervalMs ?? 1_000;
    this.snapshotOnCloseAfter = BigInt(options.snapshotOnCloseAfter ?? 100);
  }

  /**
   * Decides `command` and appends its events. `resultOf` reads the caller's answer from the state
   * right after the command's events.
   */
  handle<R>(
    command: WorkspaceCreditsCommand,
    metadata: CommandMetadata,
    resultOf: (state: WorkspaceCreditsState) => R,
  ): Promise<CommandOutcome<R>> {
    return this.handleAfter(command.data.workspaceId, () => Promise.resolve(command), metadata, resultOf);
  }

  /**
   * Like `handle`, for a command that needs work outside the service first (a payment provider's
   * refund): `prepare` sees the workspace's current state, may refuse by throwing, and returns the
   * command to decide, or nothing when there is nothing left to do. It runs once, while no other
   * command of this process is being decided on the workspace.
   */
  handleAfter<R>(
    workspaceId: string,
    prepare: (state: WorkspaceCreditsState) => Promise<WorkspaceCreditsCommand | undefined>,
    metadata: CommandMetadata,
    resultOf: (state: WorkspaceCreditsState) => R,
  ): Promise<CommandOutcome<R>> {
    const stream = workspaceStreamName(workspaceId);
    return new Promise<CommandOutcome<R>>((resolve, reject) => {
      const queued: Queued = {
        prepare,
        prepared: false,
        metadata,
        resultOf,
        attempts: 0,
        resolve: resolve as Queued['resolve'],
        reject,
      };
      const queue = this.queues.get(stream);
      if (queue) {
        queue.push(queued);
        return;
      }
      this.queues.set(stream, [queued]);
      // Start on the next microtask, so that commands sent together are decided together.
      const drained: Promise<void> = Promise.resolve()
        .then(() => this.drain(stream))
        .finally(() => this.pending.delete(drained));
      this.pending.add(drained);
    });
  }

  /** The workspace's current state: its latest usable snapshot and the events after it. */
  async load(stream: string): Promise<LoadedStream> {
    // An unreadable snapshot is no snapshot: the stream is the truth.
    const snapshot = await this.snapshots?.load(stream).catch(() => undefined);
    const fromSnapshot =
      snapshot?.version === STATE_SNAPSHOT_VERSION
        ? await this.fold(stream, snapshot).catch(() => undefined)
        : undefined;
    return fromSnapshot ?? ((await this.fold(stream, undefined)) as LoadedStream);
  }

  /**
   * Folds the stream's events after `snapshot` (or all of them) into its state; undefined when the
   * stream does not hold the snapshot's last event at its revision (the snapshot is of another
   * history, e.g. a store restored from a backup).
   */
  private async fold(stream: string, snapshot: StateSnapshot | undefined): Promise<LoadedStream | undefined> {
    const state = snapshot ? decodeState(snapshot.state) : initialState();
    let revision = snapshot?.revision;
    let lastEventId = snapshot?.eventId;
    let confirmed = snapshot === undefined;
    for await (const recorded of this.store.readStream(stream, { fromRevision: snapshot?.revision ?? 0n })) {
      if (!confirmed) {
        if (recorded.revision !== snapshot?.revision || recorded.id !== snapshot.eventId) return undefined;
        confirmed = true;
        continue;
      }
      const event = toWorkspaceCreditsEvent(recorded);
      if (event) evolve(state, event);
      revision = recorded.revision;
      lastEventId = recorded.id;
    }
    if (!confirmed) return undefined;
    return {
      state,
      revision,
      lastEventId,
      snapshotRevision: snapshot?.revision,
      snapshotTakenAt: -Infinity,
      snapshotWriting: false,
    };
  }

  /**
   * Takes a snapshot of the cached state when it is due. Runs between two batches of the workspace,
   * when its state matches its committed revision, and after a turn of the event loop, so that the
   * answers of the batch just committed go out first.
   */
  private async snapshotIfDue(stream: string): Promise<void> {
    const loaded = this.cache.peek(stream);
    if (!this.snapshots || !loaded || loaded.snapshotWriting || this.behindSnapshot(loaded) < this.snapshotEvery)
      return;
    if (performance.now() - loaded.snapshotTakenAt < this.snapshotIntervalMs) return;
    loaded.snapshotWriting = true;
    await new Promise((resolve) => setImmediate(resolve));
    this.snapshot(stream, loaded);
  }

  /** Events the cached state has folded since its last snapshot. */
  private behindSnapshot(loaded: LoadedStream): bigint {
    return loaded.revision === undefined ? 0n : loaded.revision - (loaded.snapshotRevision ?? -1n);
  }

  /** Encodes the state now; the file is written while the workspace goes on. */
  private snapshot(stream: string, loaded: LoadedStream): void {
    const { revision, lastEventId } = loaded;
    if (!this.snapshots || revision === undefined || lastEventId === undefined) {
      loaded.snapshotWriting = false;
      return;
    }
    loaded.snapshotWriting = true;
    loaded.snapshotTakenAt = performance.now();
    let state: Buffer;
    try {
      state = encodeState(loaded.state);
    } catch {
      loaded.snapshotWriting = false; // the next interval tries again
      return;
    }
    const write = this.snapshots
      .save({ stream, revision, eventId: lastEventId, version: STATE_SNAPSHOT_VERSION, state })
      .then(
        () => {
          loaded.snapshotRevision = revision;
        },
        // A snapshot is only a shortcut and the stream stays the truth: the next interval tries again.
        () => undefined,
      )
      .finally(() => {
        loaded.snapshotWriting = false;
        this.pending.delete(write);
      });
    this.pending.add(write);
  }

  /**
   * For a clean shutdown: answers every queued command, then snapshots each cached workspace that
   * has folded `snapshotOnCloseAfter` or more events since its last snapshot, so that after a
   * restart its first command starts from where this process left it.
   */
  async close(): Promise<void> {
    await this.idle();
    for (const [stream, loaded] of this.cache.entries()) {
      if (!loaded.snapshotWriting && this.behindSnapshot(loaded) >= this.snapshotOnCloseAfter) {
        this.snapshot(stream, loaded);
      }
    }
    await this.idle();
  }

  /** Resolves once every queued command has been answered and every snapshot under way written. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  /** Works through a workspace's queue, a batch at a time, until it is empty. */
  private async drain(stream: string): Promise<void> {
    const queue = this.queues.get(stream) as Queued[];
    while (queue.length > 0) {
      const batch = queue.splice(0, this.maxBatch);
      try {
        const retry = await this.runBatch(stream, batch);
        queue.unshift(...retry);
        await this.snapshotIfDue(stream);
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
    this.queues.delete(stream);
  }

  /** Decides and appends one batch; returns the commands to decide again after a revision conflict. */
  private async runBatch(stream: string, batch: Queued[]): Promise<Queued[]> {
    let loaded = this.cache.get(stream);
    if (!loaded) {
      loaded = await this.load(stream);
      this.cache.set(stream, loaded);
    }
    const decided: Decided[] = [];
    const events: NewEvent[] = [];
    for (const queued of batch) {
      let mine: WorkspaceCreditsEvent[];
      try {
        if (!queued.prepared) {
          queued.command = await queued.prepare(loaded.state);
          queued.prepared = true;
        }
        mine = queued.command ? decide(queued.command, loaded.state) : [];
      } catch (error) {
        decided.push({ queued, error });
        continue;
      }
      for (const event of mine) evolve(loaded.state, event);
      events.push(...mine.map((event) => toNewEvent(event, queued.metadata)));
      decided.push({ queued, events: mine, result: queued.resultOf(loaded.state) });
    }
    if (events.length === 0) {
      settle(decided, undefined);
      return [];
    }
    try {
      const appended = await this.store.appendToStream(stream, events, {
        expectedRevision: loaded.revision ?? 'no_stream',
      });
      loaded.revision = appended.nextExpectedRevision;
      loaded.lastEventId = events[events.length - 1]?.id;
      this.cache.set(stream, loaded);
      settle(decided, appended.position);
      return [];
    } catch (error) {
      // The cached state has run ahead of the stream: forget it; the next batch reloads. Every
      // command of the batch, refused ones included, is decided again: its answer was worked out
      // on events that were never written.
      this.cache.delete(stream);
      if (!isExpectedRevisionConflict(error)) throw error;
      const retry: Queued[] = [];
      for (const queued of batch) {
        queued.attempts += 1;
        if (queued.attempts < this.maxAttempts) retry.push(queued);
        else queued.reject(conflict(`The workspace kept changing under this command; try again.`));
      }
      return retry;
    }
  }
}

function settle(decided: Decided[], position: bigint | undefined): void {
  for (const outcome of decided) {
    if ('error' in outcome) outcome.queued.reject(outcome.error);
    else {
      outcome.queued.resolve({
        result: outcome.result,
        events: outcome.events,
        position: outcome.events.length > 0 ? position : undefined,
      });
    }
  }
}

const toNewEvent = (event: WorkspaceCreditsEvent, metadata: CommandMetadata): NewEvent => ({
  id: newId(),
  type: event.type,
  schemaVersion: currentSchemaVersion(event.type),
  data: event.data,
  metadata: { ...metadata },
});
