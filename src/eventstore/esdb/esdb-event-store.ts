/**
 * The EventStore on EventStoreDB (KurrentDB), through the official gRPC client
 * (@eventstore/db-client 6.2). Used in production when EVENTSTORE_URL is set; several API replicas
 * can share one database, the expected revision of every append keeping them consistent.
 *
 * - Positions: the `$all` offset of each event, see positions.ts.
 * - An append larger than the server's MaxAppendSize (MaxAppendSizeExceededError) becomes the port's
 *   AppendTooLarge: certain, nothing was written.
 * - Revisions: 0-based in both; 'no_stream' | 'stream_exists' | 'any' | bigint map onto the
 *   client's NO_STREAM / STREAM_EXISTS / ANY / bigint, and a WrongExpectedVersionError becomes the
 *   port's ExpectedRevisionConflict with the revision the server reported.
 * - An append the client could not complete for the transport (node unreachable or not the leader,
 *   deadline passed, call cancelled or aborted, or a gRPC INTERNAL, UNKNOWN or RESOURCE_EXHAUSTED
 *   status: see isLostCall) becomes the port's StoreUnavailable, not certain:
 *   the server may have committed it before the answer was lost, so only a retry with the same
 *   idempotency key tells, and answers the first result if it was.
 * - `$all`: only this store's streams, no system events (stream-filter.ts), and in them only events
 *   shaped as the store writes them (JSON objects): another application's binary event in a stream
 *   matching a prefix is skipped by every read of `$all`, not an error that stops the followers.
 * - Head: `$all` read backwards to this store's last event, past other applications' events.
 *   `probeHeadPosition` reads a bounded number of pages and may answer 'unknown'; every scan that
 *   ends remembers how far up it looked, so the next one reads only what was written since.
 * - Subscriptions: catch-up subscriptions that resubscribe with backoff when dropped
 *   (resubscribing-subscription.ts), after checking that the last event they delivered is still
 *   where it was: a node restored from a backup under them fails them (LogWentBack).
 *
 * - Identity: the first event of the stream `credits-store-identity`, appended with expected revision
 *   no_stream by whichever process asks first (the others read it). Not a `$` stream: in a secured
 *   cluster only admins may write those, and the service's user need not be one. The service's `$all`
 *   reads and subscriptions only take its own prefixes, so they never see it.
 *
 * Durability is the server's: an append resolves once EventStoreDB has acknowledged it, i.e. written
 * (and in a cluster, replicated to a majority) and indexed.
 */
import { randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  CancelledError,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  FORWARDS,
  MaxAppendSizeExceededError,
  NO_STREAM,
  NotLeaderError,
  START,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type Position,
  type ResolvedEvent,
} from '@eventstore/db-client';
import {
  AppendTooLarge,
  ExpectedRevisionConflict,
  matchesExpectedRevision,
  StoreUnavailable,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type LogSubscription,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeToAllOptions,
} from '../port';
import { isStoreShaped, toEventData, toRecordedEvent } from './event-codec';
import { fromClientCurrentRevision, toClientExpectedRevision, toEsdbPosition, toPortPosition } from './positions';
import { ResubscribingSubscription, type BackoffOptions } from './resubscribing-subscription';
import { StreamFilter } from './stream-filter';

export interface EsdbEventStoreOptions {
  /** e.g. `esdb://localhost:2113?tls=false`, or several nodes: `esdb://a:2113,b:2113,c:2113?tls=false`. */
  connectionString: string;
  /** The streams the store reads from `$all`; undefined: every non-system stream. */
  streamPrefixes?: readonly string[];
  /** Delays between attempts to resubscribe a dropped subscription. Default 100 ms doubling to 5 s. */
  resubscribe?: Partial<BackoffOptions>;
  /** Events read from `$all` per request. Default 500. */
  pageSize?: number;
  /**
   * Pages of `$all` that `probeHeadPosition` reads backwards, at most, before it answers 'unknown'.
   * Default 4 (2,000 events at the default page size).
   */
  headProbePages?: number;
  /**
   * The port's `maxAppendBytes`: the command side splits its batches to stay within it. Keep it
   * well below the server's MaxAppendSize (1 MiB by default), which refuses a larger append whole,
   * and never above it. Default 512 KiB.
   */
  maxAppendBytes?: number;
  /**
   * The streams only this service writes and never deletes (the credits service passes
   * `workspace-credits-`): after a drop, a subscription checks that the last event it delivered of
   * one of them is still where it was (the log did not go back, LogWentBack). Another application
   * may delete its own streams in a shared prefix, which says nothing of the log. Default: the
   * streamPrefixes (every stream read, when none are given).
   */
  ownStreamPrefixes?: readonly string[];
  /** Told when a subscription drops and is resubscribed. */
  logger?: { warn(details: object, message: string): void };
}

/** Where the log's identity is kept (see EventStore.identity). */
export const IDENTITY_STREAM = 'credits-store-identity';
const IDENTITY_EVENT = 'StoreIdentityCreated';

/** A `Readable` of the client that can be cancelled on the server too. */
interface CancellableRead<T> extends AsyncIterable<T> {
  cancel(): Promise<void>;
  readableEnded: boolean;
}

export function openEsdbEventStore(options: EsdbEventStoreOptions): EsdbEventStore {
  return new EsdbEventStore(options);
}

/**
 * Half of EventStoreDB's default MaxAppendSize (1 MiB): room for what the codec adds to each event's
 * metadata (`$schemaVersion`) and for a server configured somewhat lower.
 */
export const DEFAULT_MAX_APPEND_BYTES = 512 * 1024;

export class EsdbEventStore implements EventStore {
  readonly filter: StreamFilter;
  readonly maxAppendBytes: number;
  private readonly client: EventStoreDBClient;
  private readonly pageSize: number;
  private readonly backoff: BackoffOptions;
  private readonly subscriptions = new Set<ResubscribingSubscription>();
  private readonly headProbePages: number;
  private closed = false;
  private knownIdentity: Promise<string> | undefined;
  /**
   * What the last conclusive backward scan of `$all` established: this store's last event up to
   * `through` is `head` (undefined: none). `$all` only grows, so a later scan can stop there.
   */
  private scanned: { head: bigint | undefined; through: Position } | undefined;

  /** Prefer openEsdbEventStore. Connects lazily: nothing is sent before the first call. */
  constructor(private readonly options: EsdbEventStoreOptions) {
    this.client = EventStoreDBClient.connectionString(options.connectionString);
    this.filter = new StreamFilter(options.streamPrefixes);
    this.pageSize = options.pageSize ?? 500;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 2) throw new RangeError('pageSize must be at least 2');
    this.headProbePages = options.headProbePages ?? 4;
    if (!Number.isInteger(this.headProbePages) || this.headProbePages < 1) {
      throw new RangeError('headProbePages must be a positive integer');
    }
    this.maxAppendBytes = options.maxAppendBytes ?? DEFAULT_MAX_APPEND_BYTES;
    if (!Number.isInteger(this.maxAppendBytes) || this.maxAppendBytes < 1) {
      throw new RangeError('maxAppendBytes must be a positive integer');
    }
    this.backoff = { initialDelayMs: 100, maxDelayMs: 5_000, ...options.resubscribe };
  }

  /**
   * Appending no events sends nothing: the expected revision is checked against the stream's last
   * event, which is reported (-1n for both when the stream has no events).
   */
  async appendToStream(
    stream: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    this.assertOpen();
    const expected = options.expectedRevision;
    if (events.length === 0) {
      try {
        return await this.checkWithoutAppending(stream, expected);
      } catch (error) {
        // Only read: nothing can have been recorded.
        throw isLostCall(error) ? new StoreUnavailable(error, true) : error;
      }
    }
    const data = events.map(toEventData);
    try {
      const result = await this.client.appendToStream(stream, data, {
        expectedRevision: toClientExpectedRevision(expected),
      });
      return {
        nextExpectedRevision: result.nextExpectedRevision,
        position: toPortPosition(result.position, `the append to ${stream}`),
      };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        throw new ExpectedRevisionConflict(stream, expected, fromClientCurrentRevision(error.actualVersion));
      }
      // Refused whole before anything was written, and refused again however often it is tried.
      if (error instanceof MaxAppendSizeExceededError) {
        throw new AppendTooLarge(stream, Number.isFinite(error.maxAppendSize) ? error.maxAppendSize : undefined, error);
      }
      // A request over gRPC's receive limit (the node's, or a proxy's) is refused before it is
      // read: nothing was written, and the same request is refused again however often it is sent.
      if (isRequestTooLarge(error)) throw new AppendTooLarge(stream, undefined, error);
      // The append may have been committed before the answer was lost: not certain.
      if (isLostCall(error)) throw new StoreUnavailable(error, false);
      throw error;
    }
  }

  private async checkWithoutAppending(stream: string, expected: ExpectedRevision): Promise<AppendResult> {
    toClientExpectedRevision(expected); // the same argument checks as a real append
    const last = await this.lastEventOf(stream);
    if (!matchesExpectedRevision(expected, last?.revision)) {
      throw new ExpectedRevisionConflict(stream, expected, last?.revision);
    }
    return last
      ? { nextExpectedRevision: last.revision, position: last.position }
      : { nextExpectedRevision: -1n, position: -1n };
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    const maxCount = options.maxCount ?? Infinity;
    assertCount(maxCount);
    const fromRevision = options.fromRevision ?? 0n;
    if (fromRevision < 0n) throw new RangeError(`fromRevision must be non-negative, got ${fromRevision}`);
    if (maxCount === 0) return;
    const read = this.client.readStream(stream, {
      direction: FORWARDS,
      fromRevision,
      ...(maxCount !== Infinity && { maxCount }),
    });
    yield* this.decodeStreamRead(read);
  }

  async streamRevision(stream: string): Promise<bigint | undefined> {
    this.assertOpen();
    return (await this.lastEventOf(stream))?.revision;
  }

  /** The log after `after`, oldest first, only this store's events. Without maxCount, all of it. */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const maxCount = options.maxCount ?? Infinity;
    assertCount(maxCount);
    const events: RecordedEvent[] = [];
    // In EventStoreDB's terms, so that any event of $all (even one this store cannot map) moves it.
    let cursor = options.after === undefined ? undefined : toEsdbPosition(options.after);
    while (events.length < maxCount) {
      // A read from a position includes the event at that position: it is skipped below.
      const page = await collect<AllStreamResolvedEvent>(
        this.client.readAll({ direction: FORWARDS, fromPosition: cursor ?? START, maxCount: this.pageSize }),
      );
      for (const resolved of page) {
        const position = allPosition(resolved);
        if (cursor !== undefined && comparePositions(position, cursor) <= 0) continue;
        cursor = position;
        const event = this.decodeFromAll(resolved);
        if (event) events.push(event);
        if (events.length === maxCount) break;
      }
      if (page.length < this.pageSize) break;
    }
    return events;
  }

  /**
   * The position of the last of this store's events: `$all` read backwards until one is found, or
   * down to where an earlier scan got (see `scanned`). In a database shared with other applications
   * that may be much of the log: for the start of the projections and replays, which need it exact.
   */
  async headPosition(): Promise<bigint | undefined> {
    const head = await this.scanForHead(Infinity);
    if (head === 'unknown') throw new Error('an unbounded scan of $all cannot end unknown');
    return head;
  }

  /** The same, reading at most `headProbePages` pages of `$all`: 'unknown' when that was not enough. */
  probeHeadPosition(): Promise<bigint | undefined | 'unknown'> {
    return this.scanForHead(this.headProbePages);
  }

  private async scanForHead(maxPages: number): Promise<bigint | undefined | 'unknown'> {
    this.assertOpen();
    try {
      return await this.scanPagesForHead(maxPages);
    } catch (error) {
      // Only read: nothing can have been recorded.
      throw isLostCall(error) ? new StoreUnavailable(error, true) : error;
    }
  }

  private async scanPagesForHead(maxPages: number): Promise<bigint | undefined | 'unknown'> {
    let known = this.scanned;
    let top: Position | undefined;
    const conclude = (head: bigint | undefined) => {
      if (top && (!this.scanned || comparePositions(top, this.scanned.through) > 0)) {
        this.scanned = { head, through: top };
      }
      return head;
    };
    let before: Position | typeof END = END;
    for (let pages = 0; pages < maxPages; pages++) {
      const page = await collect<AllStreamResolvedEvent>(
        this.client.readAll({ direction: BACKWARDS, fromPosition: before, maxCount: this.pageSize }),
      );
      if (page.length > 0 && top === undefined) {
        top = allPosition(page[0]!);
        // `$all` only grows, unless the node was restored from a backup: what was remembered of a
        // longer log is of no use.
        if (known && comparePositions(top, known.through) < 0) {
          known = undefined;
          this.scanned = undefined;
        }
      }
      for (const resolved of page) {
        if (known && comparePositions(allPosition(resolved), known.through) <= 0) return conclude(known.head);
        const event = this.decodeFromAll(resolved);
        if (event) return conclude(event.position);
      }
      if (page.length < this.pageSize) return conclude(undefined);
      // A backward read from a position starts before the event at that position.
      before = allPosition(page[page.length - 1]!);
    }
    return 'unknown';
  }

  /** Read once, or created once when the database has none yet; a failed attempt is tried again next time. */
  identity(): Promise<string> {
    this.assertOpen();
    this.knownIdentity ??= this.readOrCreateIdentity().catch((error: unknown) => {
      this.knownIdentity = undefined;
      // Reading or creating it again is safe whatever became of a creation whose answer was lost.
      throw isLostCall(error) ? new StoreUnavailable(error, true) : error;
    });
    return this.knownIdentity;
  }

  private async readOrCreateIdentity(): Promise<string> {
    for (;;) {
      for await (const event of this.readStream(IDENTITY_STREAM, { maxCount: 1 })) {
        const identity = event.data.identity;
        if (event.type !== IDENTITY_EVENT || typeof identity !== 'string' || identity === '') {
          throw new Error(`The first event of ${IDENTITY_STREAM} is not a ${IDENTITY_EVENT} with an identity`);
        }
        return identity;
      }
      const identity = randomUUID();
      try {
        await this.client.appendToStream(
          IDENTITY_STREAM,
          toEventData({ type: IDENTITY_EVENT, data: { identity, createdAt: new Date().toISOString() } }),
          { expectedRevision: NO_STREAM },
        );
        return identity;
      } catch (error) {
        // Another process created it first: read theirs.
        if (!(error instanceof WrongExpectedVersionError)) throw error;
      }
    }
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): LogSubscription {
    this.assertOpen();
    const filter = this.filter.toServerFilter();
    const subscription: ResubscribingSubscription = new ResubscribingSubscription({
      after: options.after,
      subscribe: (after) =>
        this.client.subscribeToAll({ fromPosition: after === undefined ? START : toEsdbPosition(after), filter }),
      decode: (resolved) => this.decodeFromAll(resolved),
      stillThere: (event) => this.stillThere(event),
      vouches: (event) => this.vouches(event.streamName),
      backoff: this.backoff,
      onDropped: (error, attempt, delayMs) =>
        this.options.logger?.warn(
          { err: error, attempt, delayMs },
          'EventStoreDB subscription to $all dropped; resubscribing after the last delivered event',
        ),
      onClose: () => this.subscriptions.delete(subscription),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Whether an event of this stream can vouch for the log (ownStreamPrefixes). */
  private vouches(streamName: string): boolean {
    const own = this.options.ownStreamPrefixes ?? this.options.streamPrefixes;
    return own === undefined || own.some((prefix) => streamName.startsWith(prefix));
  }

  /** Whether the event is still in its stream at its revision and position (the log did not go back). */
  private async stillThere(event: RecordedEvent): Promise<boolean> {
    for await (const found of this.readStream(event.streamName, { fromRevision: event.revision, maxCount: 1 })) {
      return found.id === event.id && found.position === event.position;
    }
    return false;
  }

  /** Ends every subscription (their pending reads finish as done), then the client's calls. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
  }

  private async lastEventOf(stream: string): Promise<RecordedEvent | undefined> {
    const read = this.client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 });
    for await (const event of this.decodeStreamRead(read)) return event;
    return undefined;
  }

  /** A stream read's events; an absent stream reads as empty. Cancels the call if left early. */
  private async *decodeStreamRead(read: CancellableRead<ResolvedEvent>): AsyncIterable<RecordedEvent> {
    try {
      for await (const resolved of read) {
        if (!resolved.event) throw new Error('EventStoreDB sent a stream read result without an event');
        yield toRecordedEvent(resolved.event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return;
      // A read records nothing: a command that needed it was not performed, and may be repeated.
      if (isLostCall(error)) throw new StoreUnavailable(error, true);
      throw error;
    } finally {
      if (!read.readableEnded) await read.cancel().catch(() => undefined);
    }
  }

  /**
   * The store's event, or undefined for any other: outside its prefixes, or in them but not shaped
   * as the store writes events (another application's binary event in a `reactions-…` stream), which
   * every follower and reader of `$all` must skip alike, or one such event stops them all. In the
   * service's own streams (ownStreamPrefixes) nothing is skipped: an event there that is not shaped
   * as the store writes them is an error, said, rather than a change the read models silently miss
   * while the command side, reading the stream, refuses it.
   */
  private decodeFromAll(resolved: AllStreamResolvedEvent): RecordedEvent | undefined {
    const event = resolved.event;
    if (!event || !this.filter.accepts(event.streamId, event.type)) return undefined;
    if (!isStoreShaped(event) && !this.vouches(event.streamId)) return undefined;
    return toRecordedEvent(event);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The EventStoreDB event store is closed');
  }
}

/**
 * The client's errors for a call that did not complete for the transport or the cluster, not for
 * what was asked: the same request may succeed later (or on the new leader, which the client finds
 * by itself on its next call).
 */
export function isTransportFailure(error: unknown): error is Error {
  return (
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof CancelledError ||
    error instanceof NotLeaderError ||
    isGrpcTransportStatus(error) ||
    isDiscoveryFailure(error)
  );
}

/**
 * A cluster connection string (several nodes, or `esdb+discover://`) whose nodes all failed to
 * answer gossip: the client throws a plain Error, by its words only. No node was reached, so no
 * call was made.
 */
const isDiscoveryFailure = (error: unknown): error is Error =>
  error instanceof Error && /^Failed to discover after \d+ attempts\.$/.test(error.message);

/**
 * A call that broke without the server refusing what was asked: a transport failure, or a gRPC
 * status that gRPC itself gives a call whose answer did not arrive whole, whatever the server did
 * with the request. INTERNAL: the HTTP/2 stream was reset or the answer could not be parsed (a
 * proxy, a connection cut mid-answer); UNKNOWN: a status the client could not read, or a handler
 * (or proxy) failing after the work; RESOURCE_EXHAUSTED: the answer exceeded a receive limit (the
 * work was done), or a server or proxy shed load. For an append, each may come after the events
 * were committed, so it is the port's StoreUnavailable, not certain; for a read, certain. The
 * server's refusals of the request itself (a wrong expected version, a MaxAppendSize exceeded,
 * access denied, a deleted stream, an invalid argument) are not among them: nothing was written.
 */
export function isLostCall(error: unknown): error is Error {
  if (isTransportFailure(error)) return true;
  if (!(error instanceof Error) || !(error instanceof UnknownError || 'details' in error)) return false;
  const { code } = error as { code?: unknown };
  return typeof code === 'number' && GRPC_LOST_ANSWER_CODES.has(code);
}

/** gRPC's RESOURCE_EXHAUSTED for a request larger than the receiver takes ("larger than max"). */
function isRequestTooLarge(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const { code, details } = error as { code?: unknown; details?: unknown };
  const said = `${typeof details === 'string' ? details : ''} ${error.message}`;
  return code === 8 && /larger than max|exceeds the maximum|message too large/i.test(said);
}

/** gRPC's UNKNOWN, RESOURCE_EXHAUSTED and INTERNAL (see isLostCall). */
const GRPC_LOST_ANSWER_CODES: ReadonlySet<number> = new Set([2, 8, 13]);

/** gRPC's CANCELLED, DEADLINE_EXCEEDED and UNAVAILABLE. */
const GRPC_TRANSPORT_CODES: ReadonlySet<number> = new Set([1, 4, 14]);

/**
 * A gRPC status error the client passes on as it came, not as one of its own classes: its first
 * call on a new channel (asking the server which methods it supports) fails that way when the node
 * is gone.
 */
function isGrpcTransportStatus(error: unknown): error is Error {
  if (!(error instanceof Error) || !('details' in error)) return false;
  const { code } = error as { code?: unknown };
  return typeof code === 'number' && GRPC_TRANSPORT_CODES.has(code);
}

/** The `$all` position of a resolved event, whether or not it is one of the store's. */
function allPosition(resolved: AllStreamResolvedEvent): Position {
  const position = resolved.event?.position;
  if (!position) throw new Error('EventStoreDB sent an event of $all without its position');
  return position;
}

/** Orders positions as `$all` does: by commit, then prepare position. */
function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  return a.prepare === b.prepare ? 0 : a.prepare < b.prepare ? -1 : 1;
}

async function collect<T>(read: CancellableRead<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

function assertCount(count: number): void {
  if (count !== Infinity && (!Number.isInteger(count) || count < 0)) {
    throw new RangeError(`maxCount must be a non-negative integer, got ${count}`);
  }
}
