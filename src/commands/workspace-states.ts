/**
 * The command side's workspace states: which ones are kept in memory between commands, how a cold
 * one is loaded (its latest usable snapshot plus the events after it, or the whole stream), and
 * when a snapshot of a cached one is taken.
 *
 * A snapshot is only a cache. It is believed when its content matches its checksum, it was taken
 * from this log (its identity) and the stream still holds the snapshot's last event at its
 * revision; otherwise it is ignored, reported
 * (onSnapshotRejected), the stream is folded from its start, and a fresh snapshot replaces it after
 * the workspace's next command, however few events it has. A snapshot is taken once a
 * cached state has run `snapshotEvery` events past the last one, at most once per
 * `snapshotIntervalMs` per workspace, so that a busy workspace does not spend its time writing them.
 */
import { LRUCache } from 'lru-cache';
import { evolve } from '../domain/evolve';
import { initialState, type WorkspaceCreditsState } from '../domain/state';
import { decodeState, encodeState, STATE_SNAPSHOT_VERSION } from '../domain/state-snapshot';
import type { EventStore } from '../eventstore/port';
import { toWorkspaceCreditsEvent } from '../events/workspace-stream';
import { SnapshotRejected, type SnapshotStore, type StateSnapshot } from '../snapshots/port';

/**
 * A cold workspace folds at most this many events after its snapshot (unless it is busy enough that
 * snapshotIntervalMs holds the next one back): a few milliseconds of reading on a cold start.
 */
export const DEFAULT_SNAPSHOT_EVERY = 100;

export interface WorkspaceStatesOptions {
  /** Workspaces whose state is kept in memory between commands. Default 10,000. */
  cachedWorkspaces?: number;
  /** Where state snapshots are kept; without one, every load folds the whole stream. */
  snapshots?: SnapshotStore;
  /** Events a cached state may run ahead of its last snapshot before a new one is taken. Default 100. */
  snapshotEvery?: number;
  /** Least time between two snapshots of one workspace. Default 1,000 ms. */
  snapshotIntervalMs?: number;
  /** On close, snapshot every cached workspace this many events or more past its last. Default 100. */
  snapshotOnCloseAfter?: number;
  /** Told when a snapshot is not believed, with why. */
  onSnapshotRejected?: (stream: string, reason: string) => void;
}

/** A workspace's state as of a revision of its stream. */
export interface LoadedStream {
  state: WorkspaceCreditsState;
  revision: bigint | undefined;
  /** Id of the event at `revision`. */
  lastEventId: string | undefined;
  /** Revision of the latest snapshot written or loaded, and when one was last taken (performance.now()). */
  snapshotRevision: bigint | undefined;
  snapshotTakenAt: number;
  snapshotWriting: boolean;
  /** The stored snapshot was not believed: replace it at the next chance, however few events it is behind. */
  snapshotRejected: boolean;
}

export class WorkspaceStates {
  private readonly cache: LRUCache<string, LoadedStream>;
  private readonly snapshots: SnapshotStore | undefined;
  private readonly snapshotEvery: bigint;
  private readonly snapshotIntervalMs: number;
  private readonly snapshotOnCloseAfter: bigint;
  /** Snapshots being written. */
  private readonly writes = new Set<Promise<void>>();
  /** The identity of the log, asked once, before the first snapshot is read or taken. */
  private logIdentity: string | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly options: WorkspaceStatesOptions = {},
  ) {
    this.cache = new LRUCache({ max: options.cachedWorkspaces ?? 10_000 });
    this.snapshots = options.snapshots;
    this.snapshotEvery = BigInt(options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY);
    this.snapshotIntervalMs = options.snapshotIntervalMs ?? 1_000;
    this.snapshotOnCloseAfter = BigInt(options.snapshotOnCloseAfter ?? 100);
  }

  /** The workspace's state at its last committed revision: from memory, or loaded and kept. */
  async get(stream: string): Promise<LoadedStream> {
    let loaded = this.cache.get(stream);
    if (!loaded) {
      loaded = await this.load(stream);
      this.cache.set(stream, loaded);
    }
    return loaded;
  }

  /** Keeps a state whose events were just committed at `revision`. */
  committed(stream: string, loaded: LoadedStream, revision: bigint, lastEventId: string | undefined): void {
    loaded.revision = revision;
    loaded.lastEventId = lastEventId;
    this.cache.set(stream, loaded);
  }

  /** Drops a state that ran ahead of its stream (its events were never written). */
  forget(stream: string): void {
    this.cache.delete(stream);
  }

  /** The workspace's current state: its latest usable snapshot and the events after it. */
  async load(stream: string): Promise<LoadedStream> {
    // An unreadable snapshot is no snapshot: the stream is the truth.
    if (!this.snapshots) return this.foldAll(stream, false);
    this.logIdentity ??= await this.store.identity();
    let rejected = false;
    const snapshot = await this.snapshots.load(stream).catch((error: unknown) => {
      rejected = true;
      this.rejected(stream, error instanceof SnapshotRejected ? error.reason : `unreadable: ${messageOf(error)}`);
      return undefined;
    });
    let fromSnapshot: LoadedStream | undefined;
    if (snapshot && snapshot.log !== this.logIdentity) {
      rejected = true;
      this.rejected(
        stream,
        `it was taken from another log (identity ${snapshot.log}; this log is ${this.logIdentity})`,
      );
    } else if (snapshot && snapshot.version !== STATE_SNAPSHOT_VERSION) {
      rejected = true;
      this.rejected(stream, `version ${snapshot.version}, not ${STATE_SNAPSHOT_VERSION}`);
    } else if (snapshot) {
      fromSnapshot = await this.fold(stream, snapshot).catch((error: unknown) => {
        this.rejected(stream, `undecodable: ${messageOf(error)}`);
        return undefined;
      });
      rejected = fromSnapshot === undefined;
    }
    return fromSnapshot ?? this.foldAll(stream, rejected);
  }

  /** The whole stream folded, which fold never refuses. */
  private async foldAll(stream: string, snapshotRejected: boolean): Promise<LoadedStream> {
    const loaded = await this.fold(stream, undefined);
    if (!loaded) throw new Error(`${stream} folded from its start did not load`);
    loaded.snapshotRejected = snapshotRejected;
    return loaded;
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
        if (recorded.revision !== snapshot?.revision || recorded.id !== snapshot.eventId) break;
        confirmed = true;
        continue;
      }
      const event = toWorkspaceCreditsEvent(recorded);
      if (event) evolve(state, event);
      revision = recorded.revision;
      lastEventId = recorded.id;
    }
    if (!confirmed) {
      this.rejected(stream, `the stream has no event ${snapshot?.eventId} at revision ${snapshot?.revision}`);
      return undefined;
    }
    return {
      state,
      revision,
      lastEventId,
      snapshotRevision: snapshot?.revision,
      snapshotTakenAt: -Infinity,
      snapshotWriting: false,
      snapshotRejected: false,
    };
  }

  private rejected(stream: string, reason: string): void {
    this.options.onSnapshotRejected?.(stream, reason);
  }

  /**
   * Takes a snapshot of the cached state when it is due. Called between two batches of the
   * workspace, when its state matches its committed revision, and waits a turn of the event loop,
   * so that the answers of the batch just committed go out first.
   */
  async snapshotIfDue(stream: string): Promise<void> {
    const loaded = this.cache.peek(stream);
    if (!this.snapshots || !loaded || loaded.snapshotWriting) return;
    if (!loaded.snapshotRejected && this.behindSnapshot(loaded) < this.snapshotEvery) return;
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
    const log = this.logIdentity;
    if (!this.snapshots || revision === undefined || lastEventId === undefined || log === undefined) {
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
      .save({ stream, revision, eventId: lastEventId, log, version: STATE_SNAPSHOT_VERSION, state })
      .then(
        () => {
          loaded.snapshotRevision = revision;
          loaded.snapshotRejected = false;
        },
        // A snapshot is only a shortcut and the stream stays the truth: the next interval tries again.
        () => undefined,
      )
      .finally(() => {
        loaded.snapshotWriting = false;
        this.writes.delete(write);
      });
    this.writes.add(write);
  }

  /**
   * For a clean shutdown: snapshots each cached workspace that has folded `snapshotOnCloseAfter` or
   * more events since its last snapshot, so that after a restart its first command starts from
   * where this process left it.
   */
  async close(): Promise<void> {
    for (const [stream, loaded] of this.cache.entries()) {
      const due = loaded.snapshotRejected || this.behindSnapshot(loaded) >= this.snapshotOnCloseAfter;
      if (!loaded.snapshotWriting && due) {
        this.snapshot(stream, loaded);
      }
    }
    await this.idle();
  }

  /** Resolves once every snapshot under way has been written. */
  async idle(): Promise<void> {
    while (this.writes.size > 0) await Promise.all(this.writes);
  }
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
