/**
 * The test server's database: one in-memory transaction log, laid out the way EventStoreDB lays
 * out its own where the adapter can tell.
 *
 * - Positions are byte offsets: every event takes a record whose size depends on its stream name,
 *   type, data and metadata, so positions increase strictly but are not dense. Each append is an
 *   implicit transaction: every event is its own self-committing record, commit = prepare.
 * - Revisions are 0-based per stream; the expected revision of an append is checked and the whole
 *   append is refused with the stream's current revision when it does not match.
 * - An append is atomic and its events are contiguous: it is applied in one synchronous step.
 * - System events (`$` streams, mostly `$` types) are written at start and whenever `systemEvent`
 *   is called, like the statistics, user and settings events a real node writes.
 */
import { randomUUID } from 'node:crypto';

export interface StoredEvent {
  id: string;
  streamName: string;
  revision: bigint;
  type: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
  /** .NET ticks (100 ns) since the Unix epoch, as EventStoreDB's `created`. */
  created: bigint;
  /** Commit and prepare position: the offset of the event's record. */
  position: bigint;
}

export interface ProposedEvent {
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
}

export type ExpectedState =
  { kind: 'any' } | { kind: 'no_stream' } | { kind: 'stream_exists' } | { kind: 'revision'; revision: bigint };

export type AppendOutcome =
  | { ok: true; currentRevision: bigint | undefined; position: bigint | undefined }
  | { ok: false; currentRevision: bigint | undefined };

/** Where the first record goes: a real log starts with its epoch and other bookkeeping records. */
const FIRST_POSITION = 1_024n;
/** Fixed part of a record: header, ids, timestamps. */
const RECORD_OVERHEAD = 90n;

export class InMemoryLog {
  /** Every event, in log order. */
  readonly events: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  private nextPosition = FIRST_POSITION;
  private readonly listeners = new Set<() => void>();
  private systemEvents = 0;
  /** Appends refused for a wrong expected revision: tells a test that writers really raced. */
  conflicts = 0;

  constructor() {
    // What a fresh node writes before any client does.
    this.systemEvent('$users', '$UserCreated', { loginName: 'admin' });
    this.systemEvent('$user-admin', '$user', { loginName: 'admin', fullName: 'Event Store Administrator' });
    this.systemEvent('$settings', '$settings', { $userStreamAcl: { $r: '$all' } });
  }

  /** The events of a stream, oldest first, or undefined when it has none. */
  stream(name: string): readonly StoredEvent[] | undefined {
    return this.streams.get(name);
  }

  /** Index in `events` of the first event at or after `position`. */
  indexAtOrAfter(position: bigint): number {
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.events[middle]!.position < position) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Index in `events` of the first event strictly after `position`. */
  indexAfter(position: bigint): number {
    return this.indexAtOrAfter(position + 1n);
  }

  append(streamName: string, expected: ExpectedState, proposed: readonly ProposedEvent[]): AppendOutcome {
    const existing = this.streams.get(streamName);
    const current = existing?.[existing.length - 1]?.revision;
    if (!satisfies(expected, current)) {
      this.conflicts += 1;
      return { ok: false, currentRevision: current };
    }
    if (proposed.length === 0) {
      return { ok: true, currentRevision: current, position: existing?.[existing.length - 1]?.position };
    }
    const stream = existing ?? [];
    this.streams.set(streamName, stream);
    let revision = current === undefined ? 0n : current + 1n;
    const created = BigInt(Date.now()) * 10_000n;
    let last: StoredEvent | undefined;
    for (const event of proposed) {
      last = { ...event, streamName, revision, created, position: this.nextPosition };
      this.nextPosition += recordSize(last);
      this.events.push(last);
      stream.push(last);
      revision += 1n;
    }
    this.notify();
    return { ok: true, currentRevision: last!.revision, position: last!.position };
  }

  /** Writes one system event, as a node does for statistics, users, settings or projections. */
  systemEvent(streamName: string, type: string, data: unknown, contentType = 'application/json'): StoredEvent {
    this.systemEvents += 1;
    const bytes = contentType === 'application/json' ? JSON.stringify(data) : String(data);
    const outcome = this.append(streamName, { kind: 'any' }, [
      { id: randomUUID(), type, contentType, data: Buffer.from(bytes), customMetadata: new Uint8Array() },
    ]);
    if (!outcome.ok) throw new Error('a system append cannot fail');
    return this.events[this.events.length - 1]!;
  }

  /** A round of the chatter a running node adds to `$all`. */
  systemChatter(): void {
    const n = this.systemEvents;
    this.systemEvent('$stats-127.0.0.1:2113', '$statsCollected', { 'proc-cpu': n % 100, 'proc-mem': 123_456 + n });
    // A link event of a `$ce-` projection stream: binary data, type `$>`.
    this.systemEvent('$ce-workspace', '$>', `${n}@workspace-credits-elsewhere`, 'application/octet-stream');
    // A `$` stream whose event type is not a system type: only the stream name tells it apart.
    this.systemEvent('$monitoring-heartbeat', 'Heartbeat', { n });
  }

  /**
   * What restoring a backup taken when the log had `keep` events does (same identity, older): the
   * later events are gone, and the next append takes the position the first of them had. Take the
   * node down around it (`stop()` / `restart()`), as a restore does.
   */
  restoreBackup(keep: number): void {
    const removed = this.events.splice(keep);
    if (removed.length > 0) this.nextPosition = removed[0]!.position;
    this.streams.clear();
    for (const event of this.events) {
      const stream = this.streams.get(event.streamName) ?? [];
      stream.push(event);
      this.streams.set(event.streamName, stream);
    }
  }

  /** Calls `listener` after every append; returns the function that stops it. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function satisfies(expected: ExpectedState, current: bigint | undefined): boolean {
  switch (expected.kind) {
    case 'any':
      return true;
    case 'no_stream':
      return current === undefined;
    case 'stream_exists':
      return current !== undefined;
    case 'revision':
      return current === expected.revision;
  }
}

function recordSize(event: StoredEvent): bigint {
  const size =
    RECORD_OVERHEAD +
    BigInt(Buffer.byteLength(event.streamName) + Buffer.byteLength(event.type)) +
    BigInt(event.data.byteLength + event.customMetadata.byteLength);
  // Records are 8-byte aligned.
  return (size + 7n) & ~7n;
}
