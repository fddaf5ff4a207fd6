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
