/**
 * The event store port: the only thing the command side and the projections know about storage.
 * Adapters (embedded SQLite, EventStoreDB) implement it and must pass the one contract suite in
 * test/eventstore/.
 *
 * Revisions and positions are `bigint` in code (they can outgrow 2^53) and decimal strings outside.
 */

/** An event as the caller hands it over: a type, plain JSON data and metadata. */
export interface NewEvent {
  type: string;
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** Unique id; adapters generate one when absent. */
  id?: string;
  /** Version of this event type's data shape (see docs/events.md); defaults to 1. */
  schemaVersion?: number;
}

/** An event as stored, with where it sits in its stream and in the global log. */
export interface RecordedEvent {
  id: string;
  streamName: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  schemaVersion: number;
  /** 0-based position of the event in its stream. */
  revision: bigint;
  /** Position in the global log: strictly increasing in append order, not necessarily dense. */
  position: bigint;
  recordedAt: Date;
}

/** The state the stream must be in for an append to go ahead. */
export type ExpectedRevision =
  | bigint // the stream's last event is at exactly this revision
  | 'no_stream' // the stream has no events yet
  | 'stream_exists'
  | 'any';

export interface AppendResult {
  /** Revision of the last event appended: the expected revision for the next append. */
  nextExpectedRevision: bigint;
  /** Global position of the last event appended. */
  position: bigint;
}

export interface ReadStreamOptions {
  /** First revision to read (inclusive); defaults to 0. */
  fromRevision?: bigint;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Read the events strictly after this global position; defaults to the start of the log. */
  after?: bigint;
  maxCount?: number;
}

export interface SubscribeToAllOptions {
  /** Deliver the events strictly after this global position; defaults to the start of the log. */
  after?: bigint;
}

/**
 * Follows the global log: first the history after the starting position, then every new event as
 * it is appended, in position order, each once. Iterate it with `for await`; `close()` ends it.
 */
export interface LogSubscription extends AsyncIterable<RecordedEvent> {
  /**
   * The next events in position order, as many as are at hand (at least one), or undefined once
   * closed: the same events as iterating, without a promise per event. Do not mix it with `for await`
   * on the same subscription.
   */
  nextBatch(): Promise<LogBatch | undefined>;
  close(): Promise<void>;
}

export interface LogBatch {
  events: RecordedEvent[];
  /** More events were already waiting when this batch was cut: a consumer catching up may wait for them. */
  more: boolean;
}

export interface EventStore {
  /**
   * Most bytes one append should carry, as `appendBytes` counts them, for a store that refuses
   * appends past a size (EventStoreDB's MaxAppendSize): whoever gathers many events into one append
   * splits them to stay within it. Undefined: no limit to mind, and nothing to count.
   */
  readonly maxAppendBytes?: number;

  /**
   * Appends atomically: all of `events` or none. Fails with an ExpectedRevisionConflict, appending
   * nothing, when the stream is not at `expectedRevision`. Resolves once the events are durable.
   */
  appendToStream(
    stream: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;

  /** The stream's events from `fromRevision` on, oldest first; an absent stream reads as empty. */
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;

  /** The stream's last revision, or undefined when it has no events. */
  streamRevision(stream: string): Promise<bigint | undefined>;

  /** A page of the global log after a position, oldest first. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;

  subscribeToAll(options?: SubscribeToAllOptions): LogSubscription;

  /** Position of the last event in the global log, or undefined when the log is empty. */
  headPosition(): Promise<bigint | undefined>;

  /**
   * The head as a probe asks for it (readiness, metrics, a lookup that waits for the read models):
   * found with bounded work, or 'unknown' when finding it would take more (EventStoreDB: none of this
   * store's events among the latest events of a `$all` shared with other applications). Left out by
   * stores whose headPosition is cheap. Callers use `probeHead`.
   */
  probeHeadPosition?(): Promise<bigint | undefined | 'unknown'>;

  /**
   * The log's identity: made once, when the log is first opened, and kept with it, so that every
   * process and replica that opens this log gets the same one and any other log (a new file, another
   * database) another. What was built from a log (read models, snapshots) records it, to tell at
   * start whether it was built from this log. A copy restored from a backup is the same log, older.
   */
  identity(): Promise<string>;

  close(): Promise<void>;
}

/** The head with bounded work where the store offers it (`probeHeadPosition`), else `headPosition`. */
export function probeHead(
  store: Pick<EventStore, 'headPosition' | 'probeHeadPosition'>,
): Promise<bigint | undefined | 'unknown'> {
  return store.probeHeadPosition ? store.probeHeadPosition() : store.headPosition();
}

/**
 * An event's bytes as EventStoreDB counts them against its MaxAppendSize: data and metadata (as
 * JSON, UTF-8), and twice the type's length. What an adapter adds to the metadata is not counted:
 * its `maxAppendBytes` leaves room for it.
 */
export function appendBytes(event: NewEvent): number {
  return (
    Buffer.byteLength(JSON.stringify(event.data)) +
    (event.metadata ? Buffer.byteLength(JSON.stringify(event.metadata)) : 0) +
    2 * event.type.length
  );
}

export class ExpectedRevisionConflict extends Error {
  readonly code = 'WRONG_EXPECTED_REVISION';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | undefined,
  ) {
    super(
      `Stream ${stream} was expected at ${String(expected)} but is at ${actual === undefined ? 'no_stream' : String(actual)}.`,
    );
    this.name = 'ExpectedRevisionConflict';
  }
}

export const isExpectedRevisionConflict = (error: unknown): error is ExpectedRevisionConflict =>
  error instanceof ExpectedRevisionConflict;

/**
 * The store could not take an append for a fault of the machine or the network (a full disk, an
 * I/O error, a file made read-only; a database server unreachable, or whose answer was lost): the
 * same append may succeed once the fault clears. Whether anything was recorded: see `certain`.
 */
export class StoreUnavailable extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  readonly retryable = true;
  /**
   * `certain`: the store refused before writing (a full disk, a read-only file). Otherwise (an I/O
   * error while syncing, a database server's answer lost on the way back) the write may have been
   * recorded: only a retry with the same idempotency key tells.
   */
  constructor(cause: Error, certain: boolean) {
    super(storeUnavailableMessage(certain, cause.message), { cause });
    this.name = 'StoreUnavailable';
    this.publicMessage = storeUnavailableMessage(certain);
  }

  /** The message without the store's own error, which may name files, hosts and ports: for production. */
  readonly publicMessage: string;
}

function storeUnavailableMessage(certain: boolean, cause?: string): string {
  const why = cause === undefined ? '' : ` (${cause})`;
  return certain
    ? `Nothing was recorded: the event store cannot write now${why}. ` +
        'Repeating the request later, with the same idempotency key, is safe.'
    : `This may or may not have been recorded: the event store cannot write now${why}. ` +
        'Repeating the request later with the same idempotency key is safe, and answers the first result ' +
        'if it was recorded; a request that takes no key: read the state before repeating it.';
}

/**
 * The store refused an append for its size (EventStoreDB's MaxAppendSize): nothing was recorded, and
 * the same append will be refused again. `limit` is the store's limit in bytes, when it said.
 */
export class AppendTooLarge extends Error {
  constructor(
    readonly stream: string,
    readonly limit: number | undefined,
    cause?: Error,
  ) {
    super(
      `The append to ${stream} is larger than the event store takes in one append` +
        `${limit === undefined ? '' : ` (${limit} bytes)`}: nothing was recorded.`,
      { cause },
    );
    this.name = 'AppendTooLarge';
  }
}

export const isAppendTooLarge = (error: unknown): error is AppendTooLarge => error instanceof AppendTooLarge;

/**
 * The log went back under a follower: an event it had delivered (or a checkpoint recorded) is no
 * longer where it was, another one is (an EventStoreDB restored from a backup, same identity, older).
 * Following on would skip or mix events: the follower stops, and a restart rebuilds what was built
 * past the log's present.
 */
export class LogWentBack extends Error {
  constructor(detail: string) {
    super(
      `The event log went back under this server (restored from a backup, or replaced by another?): ${detail}. ` +
        'Restart the server: at start, the read models built from events the log no longer has are rebuilt from it.',
    );
    this.name = 'LogWentBack';
  }
}

/** Whether a stream at `actual` satisfies `expected`. Shared by adapters that check it themselves. */
export function matchesExpectedRevision(expected: ExpectedRevision, actual: bigint | undefined): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === undefined;
    case 'stream_exists':
      return actual !== undefined;
    default:
      return actual === expected;
  }
}
