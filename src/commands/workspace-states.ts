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
 *
 * Memory is bounded by configuration, not by traffic. The cached states are bounded in number and in
 * (approximate) bytes, the least recently used going first. With a RetryRecordStore, a state keeps
 * at most `retryRecordsInMemory` remembered spends and as many closed holds (plus a tenth, so that
 * they leave in batches): the oldest go to the store after the command that took the workspace past
 * that, and before deciding a batch the store is asked for the spends, holds and reserve keys it
 * names that are not in memory, so that a retry inside the retention window still gets its first
 * answer. A snapshot says up to which revision its state's older spends
 * went to the store; the store's mark for the stream, checked against the log when the workspace
 * is loaded, says how far it has them. Stored spends of another history are forgotten, and a
 * snapshot whose older spends the store lacks is not used: the stream is folded from its start,
 * the spends going to the store again as the fold passes them.
 */
import { LRUCache } from 'lru-cache';
import { evolve } from '../domain/evolve';
import { IDEMPOTENCY_RETENTION_MS, initialState, type WorkspaceCreditsState } from '../domain/state';
import { decodeState, encodeState, STATE_SNAPSHOT_VERSION } from '../domain/state-snapshot';
import type { EventStore } from '../eventstore/port';
import { toWorkspaceCreditsEvent } from '../events/workspace-stream';
import {
  SnapshotRejected,
  type RetryRecordMark,
  type RetryRecordStore,
  type SnapshotStore,
  type StoredHold,
  type StoredSpend,
  type StateSnapshot,
} from '../snapshots/port';

/**
 * A cold workspace folds at most this many events after its snapshot (unless it is busy enough that
 * snapshotIntervalMs holds the next one back): a few milliseconds of reading on a cold start.
 */
export const DEFAULT_SNAPSHOT_EVERY = 100;

/** Remembered spends a workspace keeps in memory when they can go to a RetryRecordStore. */
export const DEFAULT_RETRY_RECORDS_IN_MEMORY = 1_000;
/** Bytes of workspace states kept in memory between commands. */
export const DEFAULT_STATE_CACHE_BYTES = 256 * 1024 * 1024;

export interface WorkspaceStatesOptions {
  /** Workspaces whose state is kept in memory between commands. Default 10,000. */
  cachedWorkspaces?: number;
  /** What those states may take in memory, approximately (approximateStateBytes). Default 256 MiB. */
  stateCacheBytes?: number;
  /** Where remembered spends go that a workspace no longer keeps in memory; without one, all stay. */
  retryRecords?: RetryRecordStore;
  /** Remembered spends a workspace keeps in memory, with retryRecords. Default 1,000. */
  retryRecordsInMemory?: number;
  /**
   * Told when the retry record store's spends of a stream were forgotten (taken from another
   * history) or the store failed (the spends then stay in memory until it works again).
   */
  onRetryRecordsProblem?: (stream: string, problem: string) => void;
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
  /** The state's older remembered spends went to the retry record store from events up to this revision. */
  retryRecordsThrough: bigint | undefined;
  /** The retry record store has spends of this stream (checked against the log): ask it for unknown keys. */
  retryRecordsStored: boolean;
}

export class WorkspaceStates {
  private readonly cache: LRUCache<string, LoadedStream>;
  private readonly snapshots: SnapshotStore | undefined;
  private readonly snapshotEvery: bigint;
  private readonly snapshotIntervalMs: number;
  private readonly snapshotOnCloseAfter: bigint;
  private readonly retryRecords: RetryRecordStore | undefined;
  private readonly retryRecordsInMemory: number;
  /** Spends a state may hold past retryRecordsInMemory before they go to the store, together. */
  private readonly retryRecordsBatch: number;
  /** Snapshots being written. */
  private readonly writes = new Set<Promise<void>>();
  /** The identity of the log, asked once, before the first snapshot is read or taken. */
  private logIdentity: string | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly options: WorkspaceStatesOptions = {},
  ) {
    this.cache = new LRUCache({
      max: options.cachedWorkspaces ?? 10_000,
      maxSize: options.stateCacheBytes ?? DEFAULT_STATE_CACHE_BYTES,
      sizeCalculation: (loaded) => approximateStateBytes(loaded.state),
    });
    this.retryRecords = options.retryRecords;
    this.retryRecordsInMemory = options.retryRecordsInMemory ?? DEFAULT_RETRY_RECORDS_IN_MEMORY;
    this.retryRecordsBatch = Math.max(1, Math.ceil(this.retryRecordsInMemory / 10));
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

  /** The states kept in memory: how many, and their approximate bytes (approximateStateBytes). */
  cacheUsage(): { workspaces: number; bytes: number } {
    return { workspaces: this.cache.size, bytes: this.cache.calculatedSize };
  }

  /** Keeps a state whose events were just committed at `revision`; its oldest spends may go to the store. */
  committed(stream: string, loaded: LoadedStream, revision: bigint, lastEventId: string | undefined): void {
    loaded.revision = revision;
    loaded.lastEventId = lastEventId;
    if (lastEventId !== undefined) this.evict(stream, loaded, revision, lastEventId);
    this.cache.set(stream, loaded);
  }

  /**
   * Brings back from the retry record store what a batch names that is no longer in memory, before
   * it is decided: the spends of these keys, the closed holds of these ids and the holds reserved
   * with these keys, so that a retry of an old spend or reserve gets its first answer, and a settle
   * of an old closed hold its refusal. What an earlier batch brought back is let go first.
   */
  recall(
    stream: string,
    loaded: LoadedStream,
    names: { spendKeys: readonly string[]; holdIds: readonly string[]; holdKeys: readonly string[] },
  ): void {
    const { consumptions, closedHolds, activeHolds, holdKeys } = loaded.state;
    consumptions.forgetRecalled();
    closedHolds.forgetRecalled();
    if (!this.retryRecords || !loaded.retryRecordsStored) return;
    for (const key of names.spendKeys) {
      if (consumptions.has(key)) continue;
      const spend = this.retryRecords.find(stream, key);
      if (spend) consumptions.recall(spend);
    }
    for (const holdId of names.holdIds) {
      if (activeHolds.has(holdId) || closedHolds.has(holdId)) continue;
      const hold = this.retryRecords.findHold(stream, holdId);
      if (hold) closedHolds.recall(hold);
    }
    for (const key of names.holdKeys) {
      if (holdKeys.has(key)) continue;
      const hold = this.retryRecords.findHoldWithKey(stream, key);
      if (hold) closedHolds.recall(hold);
    }
  }

  /** Lets go what `recall` brought back, once the batch it was brought back for is decided. */
  letRecalledGo(loaded: LoadedStream): void {
    loaded.state.consumptions.forgetRecalled();
    loaded.state.closedHolds.forgetRecalled();
  }

  /**
   * Remembered spends and closed holds past the bound go to the store, as of the event at
   * `revision`; on failure they stay in memory.
   */
  private evict(stream: string, loaded: LoadedStream, revision: bigint, eventId: string): void {
    const store = this.retryRecords;
    const log = this.logIdentity;
    if (!store || log === undefined) return;
    const { consumptions, closedHolds, holdKeys } = loaded.state;
    const bound = this.retryRecordsInMemory + this.retryRecordsBatch;
    const spendsDue = consumptions.size >= bound;
    const holdsDue = closedHolds.size >= bound;
    if (!spendsDue && !holdsDue) return;
    const mark = { log, revision, eventId };
    let newest = -Infinity;
    const keep = (spends: StoredSpend[], holds: StoredHold[]): void => {
      // One transaction for both, with the mark: the mark never says the store has what it lacks.
      store.keep(stream, { spends, holds }, mark);
      loaded.retryRecordsThrough = revision;
      loaded.retryRecordsStored = true;
      newest = Math.max(newest, spends.at(-1)?.consumedAt ?? newest, holds.at(-1)?.closedAt ?? newest);
    };
    let evictedHolds: StoredHold[] = [];
    // The holds' eviction runs inside the spends' (when both are due), so that nothing leaves
    // memory unless both went to the store.
    const withHolds = (spends: StoredSpend[]): void => {
      if (holdsDue) evictedHolds = closedHolds.evictOldest(this.retryRecordsInMemory, (holds) => keep(spends, holds));
      // The spends are stored whatever the holds came to (none to take out: nothing was stored).
      if (evictedHolds.length === 0) keep(spends, []);
    };
    try {
      if (spendsDue) consumptions.evictOldest(this.retryRecordsInMemory, withHolds);
      else withHolds([]);
    } catch (error) {
      this.options.onRetryRecordsProblem?.(
        stream,
        `the store failed, the spends and holds stay in memory: ${messageOf(error)}`,
      );
      return;
    }
    for (const hold of evictedHolds) {
      if (holdKeys.get(hold.idempotencyKey) === hold.holdId) holdKeys.delete(hold.idempotencyKey);
    }
    try {
      // Records past the retention window are never asked for again: forget as many as came in.
      store.forgetBefore(newest - IDEMPOTENCY_RETENTION_MS, 2 * this.retryRecordsBatch);
    } catch (error) {
      this.options.onRetryRecordsProblem?.(stream, `the store could not forget old records: ${messageOf(error)}`);
    }
  }

  /** Drops a state that ran ahead of its stream (its events were never written). */
  forget(stream: string): void {
    this.cache.delete(stream);
  }

  /** The workspace's current state: its latest usable snapshot and the events after it. */
  async load(stream: string): Promise<LoadedStream> {
    if (!this.snapshots && !this.retryRecords) return this.foldAll(stream, false, undefined);
    this.logIdentity ??= await this.store.identity();
    const mark = await this.storedSpendsOf(stream);
    // An unreadable snapshot is no snapshot: the stream is the truth.
    if (!this.snapshots) return this.foldAll(stream, false, mark);
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
    } else if (
      snapshot?.retryRecordsThrough !== undefined &&
      (mark === undefined || mark.revision < snapshot.retryRecordsThrough)
    ) {
      rejected = true;
      this.rejected(
        stream,
        `its older remembered spends, taken from events up to revision ${snapshot.retryRecordsThrough}, are not ` +
          `in the retry record store (${mark ? `it has them up to revision ${mark.revision}` : 'it has none'})`,
      );
    } else if (snapshot) {
      fromSnapshot = await this.fold(stream, snapshot, mark).catch((error: unknown) => {
        this.rejected(stream, `undecodable: ${messageOf(error)}`);
        return undefined;
      });
      rejected = fromSnapshot === undefined;
    }
    return fromSnapshot ?? this.foldAll(stream, rejected, mark);
  }

  /**
   * How far the retry record store has the stream's spends, when they were taken from this log's
   * history: the log holds the mark's event at its revision. Spends of another history (another
   * log, or events an older copy of this one no longer has) are forgotten.
   */
  private async storedSpendsOf(stream: string): Promise<RetryRecordMark | undefined> {
    const mark = this.retryRecords?.mark(stream);
    if (!mark) return undefined;
    if (mark.log === this.logIdentity) {
      for await (const recorded of this.store.readStream(stream, { fromRevision: mark.revision, maxCount: 1 })) {
        if (recorded.revision === mark.revision && recorded.id === mark.eventId) return mark;
      }
    }
    this.retryRecords?.forget(stream);
    this.options.onRetryRecordsProblem?.(
      stream,
      `its stored spends were taken from another history (no event ${mark.eventId} at revision ` +
        `${mark.revision} of log ${mark.log}): forgotten`,
    );
    return undefined;
  }

  /** The whole stream folded, which fold never refuses. */
  private async foldAll(
    stream: string,
    snapshotRejected: boolean,
    mark: RetryRecordMark | undefined,
  ): Promise<LoadedStream> {
    const loaded = await this.fold(stream, undefined, mark);
    if (!loaded) throw new Error(`${stream} folded from its start did not load`);
    loaded.snapshotRejected = snapshotRejected;
    return loaded;
  }

  /**
   * Folds the stream's events after `snapshot` (or all of them) into its state; undefined when the
   * stream does not hold the snapshot's last event at its revision (the snapshot is of another
   * history, e.g. a store restored from a backup).
   */
  private async fold(
    stream: string,
    snapshot: StateSnapshot | undefined,
    mark: RetryRecordMark | undefined,
  ): Promise<LoadedStream | undefined> {
    const loaded: LoadedStream = {
      state: snapshot ? decodeState(snapshot.state) : initialState(),
      revision: snapshot?.revision,
      lastEventId: snapshot?.eventId,
      snapshotRevision: snapshot?.revision,
      snapshotTakenAt: -Infinity,
      snapshotWriting: false,
      snapshotRejected: false,
      retryRecordsThrough: snapshot?.retryRecordsThrough,
      retryRecordsStored: mark !== undefined,
    };
    let confirmed = snapshot === undefined;
    for await (const recorded of this.store.readStream(stream, { fromRevision: snapshot?.revision ?? 0n })) {
      if (!confirmed) {
        if (recorded.revision !== snapshot?.revision || recorded.id !== snapshot.eventId) break;
        confirmed = true;
        continue;
      }
      const event = toWorkspaceCreditsEvent(recorded);
      if (event) evolve(loaded.state, event);
      loaded.revision = recorded.revision;
      loaded.lastEventId = recorded.id;
      // A long stream's spends and closed holds go to the store as the fold passes them, not all at its end.
      if (event !== undefined && LEAVES_A_RETRY_RECORD.has(event.type)) {
        this.evict(stream, loaded, recorded.revision, recorded.id);
      }
    }
    if (!confirmed) {
      this.rejected(stream, `the stream has no event ${snapshot?.eventId} at revision ${snapshot?.revision}`);
      return undefined;
    }
    return loaded;
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
    const { retryRecordsThrough } = loaded;
    const write = this.snapshots
      .save({
        stream,
        revision,
        eventId: lastEventId,
        log,
        version: STATE_SNAPSHOT_VERSION,
        ...(retryRecordsThrough !== undefined && { retryRecordsThrough }),
        state,
      })
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

/** The events that add a remembered spend or a closed hold to a state. */
const LEAVES_A_RETRY_RECORD: ReadonlySet<string> = new Set([
  'CreditsConsumed',
  'CreditHoldSettled',
  'CreditHoldReleased',
  'CreditHoldExpired',
]);

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** What a bookkeeping entry of a state (a grant, a purchase, a key) takes in memory, roughly. */
const BYTES_PER_ENTRY = 300;

/**
 * What a workspace state takes in memory, roughly, for the cache's byte bound: its remembered spends
 * (most of a busy workspace), and a flat cost per entry of everything else.
 */
export function approximateStateBytes(state: WorkspaceCreditsState): number {
  let entries = 0;
  for (const value of Object.values(state)) {
    if (value instanceof Map || value instanceof Set) entries += value.size;
  }
  return (
    1_024 + state.consumptions.approximateBytes() + state.closedHolds.approximateBytes() + entries * BYTES_PER_ENTRY
  );
}
