/**
 * The snapshot port: what the command side asks of wherever workspace state snapshots are kept. A
 * snapshot is a cache beside the event store, never a source of truth; the adapter
 * (file-snapshot-store.ts, one file per stream) is picked by the composition root.
 */

export interface StateSnapshot {
  stream: string;
  /** Revision of the last event folded into `state`. */
  revision: bigint;
  /** Id of that event. */
  eventId: string;
  /** Identity of the log the stream was read from (EventStore.identity). */
  log: string;
  /** STATE_SNAPSHOT_VERSION of the code that took it. */
  version: number;
  /**
   * The state's older remembered spends are in the RetryRecordStore, taken there from the events up
   * to this revision: the snapshot is of use only where the store has them that far.
   */
  retryRecordsThrough?: bigint;
  /** The encoded state: ASCII text, as bytes. */
  state: Buffer;
}

export interface SnapshotStore {
  /**
   * The stream's latest snapshot; undefined when there is none. Rejects (SnapshotRejected) when there
   * is one but it is not as it was written: cut short, or its content does not match its checksum.
   */
  load(stream: string): Promise<StateSnapshot | undefined>;
  /** Replaces the stream's snapshot; resolves once the new one is on disk. `state` must be ASCII. */
  save(snapshot: StateSnapshot): Promise<void>;
}

/** A snapshot is there but is not to be believed, and why. */
export class SnapshotRejected extends Error {
  constructor(
    readonly stream: string,
    readonly reason: string,
  ) {
    super(`The snapshot of ${stream} is not used: ${reason}.`);
    this.name = 'SnapshotRejected';
  }
}

/** A remembered spend as a RetryRecordStore keeps it: the domain's encoded form, with its key and time. */
export interface StoredSpend {
  idempotencyKey: string;
  /** Epoch ms. */
  consumedAt: number;
  line: string;
}

/** A closed hold as a RetryRecordStore keeps it: the domain's encoded form, with its id, reserve key and time. */
export interface StoredHold {
  holdId: string;
  idempotencyKey: string;
  /** Epoch ms. */
  closedAt: number;
  line: string;
}

/** How far a stream's stored spends go: taken from log `log`, from its events up to `revision` (event `eventId`). */
export interface RetryRecordMark {
  log: string;
  revision: bigint;
  eventId: string;
}

/**
 * Where the command side keeps the spends and closed holds a workspace still answers retries for
 * (within the retention window) but no longer holds in memory, so that memory is bounded by
 * configuration rather than by traffic. Like a snapshot it is a cache of what the log says, never the truth:
 * each stream's spends carry the mark of the events they were taken from, which the command side
 * checks against the log before it believes them. Synchronous: it is a local file (SQLite), asked
 * once per spend whose key is not in memory.
 */
export interface RetryRecordStore {
  /** How far the stream's stored spends go; undefined when none are stored. */
  mark(stream: string): RetryRecordMark | undefined;
  /**
   * Stores spends and closed holds leaving memory, oldest first, and the stream's new mark, all or
   * nothing: the mark says the store has everything taken out of memory up to its event.
   */
  keep(
    stream: string,
    records: { spends: readonly StoredSpend[]; holds: readonly StoredHold[] },
    mark: RetryRecordMark,
  ): void;
  /** The stream's newest stored spend with this key. */
  find(stream: string, idempotencyKey: string): StoredSpend | undefined;
  /** The stream's stored hold with this id (unless its key was used again for a newer one). */
  findHold(stream: string, holdId: string): StoredHold | undefined;
  /** The stream's stored hold reserved last with this key. */
  findHoldWithKey(stream: string, idempotencyKey: string): StoredHold | undefined;
  /** Forgets everything stored for the stream: it was taken from another history. */
  forget(stream: string): void;
  /**
   * Forgets at most `atMost` spends and at most `atMost` closed holds, of any stream, consumed or
   * closed before `cutoff` (epoch ms); returns how many.
   */
  forgetBefore(cutoff: number, atMost: number): number;
  close(): void;
}
