/**
 * The part of EventStoreDB's gRPC `Streams` service the adapter uses, over the in-memory log:
 *
 * - Append (client streaming) and BatchAppend (bidirectional): the expected revision checked, a
 *   WrongExpectedVersion answered as EventStoreDB does in each API (a result message for Append, a
 *   google.rpc.Status whose details pack `event_store.client.WrongExpectedVersion` for BatchAppend),
 *   the position of the append's last event on success.
 * - Read of a stream, forwards or backwards, from a revision or an end, `stream_not_found` for a
 *   stream with no events.
 * - Read of `$all`, forwards from a position INCLUDING the event at it, or backwards from a position
 *   EXCLUDING it (as EventStoreDB's log reader does), with or without a filter.
 * - Subscription to `$all`: a confirmation, the history strictly after the start position, `caught_up`,
 *   then every new event; filtered server-side by stream prefix/regex or event type prefix/regex, with
 *   checkpoints. `dropSubscriptions` ends them all with an error status, as a restarting node does.
 *
 * - MaxAppendSize: an append whose events take more than `maxAppendSize` bytes (data + metadata +
 *   twice the event type's length, each, as EventStoreDB counts them) is refused whole, with the
 *   error EventStoreDB answers in each API (an INVALID_ARGUMENT status naming the exception
 *   `maximum-append-size-exceeded` for Append, a google.rpc.Status packing
 *   `event_store.client.MaximumAppendSizeExceeded` for BatchAppend).
 * - `failAfterCommit`: the next appends are committed, then their call fails with a gRPC status
 *   instead of the answer, as when a node or the connection goes away at that instant.
 *
 * Not implemented (UNIMPLEMENTED): stream subscriptions, Delete, Tombstone, link resolution.
 */
import {
  Metadata,
  status,
  type ServerDuplexStream,
  type ServerReadableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { Any } from 'google-protobuf/google/protobuf/any_pb';
import {
  AllStreamPosition,
  MaximumAppendSizeExceeded,
  WrongExpectedVersion,
} from '@eventstore/db-client/generated/shared_pb';
import { Status } from '@eventstore/db-client/generated/status_pb';
import type { IStreamsServer } from '@eventstore/db-client/generated/streams_grpc_pb';
import {
  AppendResp,
  BatchAppendResp,
  ReadReq,
  ReadResp,
  type AppendReq,
  type BatchAppendReq,
} from '@eventstore/db-client/generated/streams_pb';
import { AllSubscription, subscriptionStart } from './all-subscription';
import { serverFilter } from './filters';
import { asServiceError, fail, invalid, ServiceError, unimplemented, write, type ReadCall } from './grpc-calls';
import type { ExpectedState, InMemoryLog, ProposedEvent, StoredEvent } from './in-memory-log';
import {
  empty,
  eventResponse,
  expectedStateOfAppend,
  expectedStateOfBatch,
  proposedEvent,
  protobufEmpty,
  streamIdentifier,
  streamNameOf,
  uuidMessage,
  uuidString,
} from './messages';

const { STREAM, ALL } = ReadReq.Options.StreamOptionCase;
const { SUBSCRIPTION } = ReadReq.Options.CountOptionCase;
const { BACKWARDS } = ReadReq.Options.ReadDirection;

const FAILED_PRECONDITION = 9;
const INVALID_ARGUMENT = 3;

/** EventStoreDB's default MaxAppendSize: 1 MiB. */
export const DEFAULT_MAX_APPEND_SIZE = 1_048_576;

/** The bytes of an append as EventStoreDB counts them against MaxAppendSize (Event.SizeOnDisk). */
export function appendSize(proposed: readonly ProposedEvent[]): number {
  let size = 0;
  for (const event of proposed) size += event.data.byteLength + event.customMetadata.byteLength + 2 * event.type.length;
  return size;
}

export interface StreamsServiceOptions {
  repeatSubscriptionStart: boolean;
  /** Largest append accepted, in bytes as `appendSize` counts them. Default 1 MiB. */
  maxAppendSize?: number;
}

export class StreamsService {
  readonly subscriptions = new Set<AllSubscription>();
  /** Calls received, by method: tells a test which append API the client used. */
  readonly calls = { read: 0, append: 0, batchAppend: 0 };
  /** How many subscriptions to `$all` were ever opened: tells a test that a client resubscribed. */
  subscriptionsOpened = 0;
  /** Appends refused for exceeding MaxAppendSize. */
  appendsTooLarge = 0;
  readonly maxAppendSize: number;
  private lostAnswers: { remaining: number; code: status } = { remaining: 0, code: status.UNAVAILABLE };

  constructor(
    private readonly log: InMemoryLog,
    private readonly quirks: StreamsServiceOptions = { repeatSubscriptionStart: false },
  ) {
    this.maxAppendSize = quirks.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
  }

  /**
   * The next `count` appends that would succeed are committed to the log, then their call fails
   * with `code` instead of the answer: the client cannot tell whether they were written. A batch
   * append fails its whole call (every append in flight on it), as a dropped connection does.
   */
  failAfterCommit(count = 1, code: status = status.UNAVAILABLE): void {
    this.lostAnswers = { remaining: count, code };
  }

  private loseAnswer(): ServiceError | undefined {
    if (this.lostAnswers.remaining === 0) return undefined;
    this.lostAnswers.remaining -= 1;
    return new ServiceError(this.lostAnswers.code, 'The test server committed the append and dropped the answer');
  }

  private tooLarge(proposed: readonly ProposedEvent[]): boolean {
    if (appendSize(proposed) <= this.maxAppendSize) return false;
    this.appendsTooLarge += 1;
    return true;
  }

  /** Ends every subscription with `code`, as a node going away does. */
  dropSubscriptions(code: status = status.UNAVAILABLE): number {
    const dropped = [...this.subscriptions];
    for (const subscription of dropped) subscription.drop(code, 'Subscription dropped by the test server');
    return dropped.length;
  }

  readonly implementation: IStreamsServer = {
    read: (call) => {
      this.calls.read += 1;
      this.read(call).catch((error: unknown) => fail(call, error));
    },
    append: (call, callback) => {
      this.calls.append += 1;
      this.append(call, callback);
    },
    batchAppend: (call) => {
      this.calls.batchAppend += 1;
      this.batchAppend(call);
    },
    delete: (_call, callback) => callback(unimplemented('Delete is not implemented')),
    tombstone: (_call, callback) => callback(unimplemented('Tombstone is not implemented')),
  };

  private async read(call: ReadCall): Promise<void> {
    const options = call.request.getOptions();
    if (!options?.hasUuidOption()) throw invalid('uuid_option is required');
    const structuredIds = options.getUuidOption()!.hasStructured();
    const filter = serverFilter(options);
    const streamOption = options.getStreamOptionCase();
    const backwards = options.getReadDirection() === BACKWARDS;

    if (options.getCountOptionCase() === SUBSCRIPTION) {
      if (streamOption !== ALL || backwards) throw unimplemented('only forward subscriptions to $all are implemented');
      const subscription = new AllSubscription(
        call,
        this.log,
        subscriptionStart(this.log, options.getAll()!, this.quirks.repeatSubscriptionStart),
        filter,
        structuredIds,
      );
      this.subscriptions.add(subscription);
      this.subscriptionsOpened += 1;
      subscription.finished.finally(() => this.subscriptions.delete(subscription)).catch(() => undefined);
      await subscription.start();
      return;
    }

    const count = BigInt(options.getCount());
    let events: StoredEvent[];
    if (streamOption === STREAM) {
      const streamOptions = options.getStream()!;
      const name = streamNameOf(streamOptions.getStreamIdentifier());
      const stream = this.log.stream(name);
      if (!stream) {
        await write(
          call,
          new ReadResp().setStreamNotFound(new ReadResp.StreamNotFound().setStreamIdentifier(streamIdentifier(name))),
        );
        call.end();
        return;
      }
      events = readStream(stream, streamOptions, backwards);
    } else if (streamOption === ALL) {
      events = readAll(this.log, options.getAll()!, backwards).filter(filter.accepts);
    } else {
      throw invalid('a read needs a stream or $all');
    }
    for (const event of events.slice(0, count > BigInt(events.length) ? events.length : Number(count))) {
      if (!(await write(call, eventResponse(event, structuredIds)))) return;
    }
    call.end();
  }

  private append(call: ServerReadableStream<AppendReq, AppendResp>, callback: sendUnaryData<AppendResp>): void {
    let options: AppendReq.Options | undefined;
    const proposed: ProposedEvent[] = [];
    let failed = false;
    call.on('data', (request: AppendReq) => {
      try {
        if (request.hasOptions()) options = request.getOptions();
        else if (request.hasProposedMessage()) proposed.push(proposedEvent(request.getProposedMessage()!));
      } catch (error) {
        failed = true;
        callback(asServiceError(error));
      }
    });
    call.on('end', () => {
      if (failed) return;
      if (!options) return callback(invalid('the first message of an append carries its options'));
      if (this.tooLarge(proposed)) {
        const metadata = new Metadata();
        metadata.set('exception', 'maximum-append-size-exceeded');
        metadata.set('maximum-append-size', String(this.maxAppendSize));
        return callback(
          new ServiceError(status.INVALID_ARGUMENT, `Maximum Append Size of ${this.maxAppendSize} Exceeded.`, metadata),
        );
      }
      const expected = expectedStateOfAppend(options);
      const outcome = this.log.append(streamNameOf(options.getStreamIdentifier()), expected, proposed);
      const lost = outcome.ok ? this.loseAnswer() : undefined;
      if (lost) return callback(lost);
      const response = new AppendResp();
      if (outcome.ok) {
        const success = new AppendResp.Success();
        if (outcome.currentRevision === undefined) success.setNoStream(empty());
        else success.setCurrentRevision(outcome.currentRevision.toString());
        if (outcome.position === undefined) success.setNoPosition(empty());
        else {
          const position = outcome.position.toString();
          success.setPosition(new AppendResp.Position().setCommitPosition(position).setPreparePosition(position));
        }
        response.setSuccess(success);
      } else {
        const wrong = new AppendResp.WrongExpectedVersion();
        if (outcome.currentRevision === undefined) wrong.setCurrentNoStream(empty());
        else wrong.setCurrentRevision(outcome.currentRevision.toString());
        if (expected.kind === 'revision') wrong.setExpectedRevision(expected.revision.toString());
        else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(empty());
        else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(empty());
        else wrong.setExpectedAny(empty());
        response.setWrongExpectedVersion(wrong);
      }
      callback(null, response);
    });
  }

  /** One long-lived call; each append is a run of requests sharing a correlation id, ending `is_final`. */
  private batchAppend(call: ServerDuplexStream<BatchAppendReq, BatchAppendResp>): void {
    const pending = new Map<string, { options: BatchAppendReq.Options | undefined; proposed: ProposedEvent[] }>();
    call.on('data', (request: BatchAppendReq) => {
      try {
        const correlation = uuidString(request.getCorrelationId());
        const entry = pending.get(correlation) ?? { options: request.getOptions(), proposed: [] };
        entry.proposed.push(...request.getProposedMessagesList().map(proposedEvent));
        if (!request.getIsFinal()) {
          pending.set(correlation, entry);
          return;
        }
        pending.delete(correlation);
        if (!entry.options) throw invalid('the first request of a batch append carries its options');
        const response = this.applyBatch(correlation, entry.options, entry.proposed);
        const lost = response.hasSuccess() ? this.loseAnswer() : undefined;
        if (lost) call.emit('error', lost);
        else call.write(response);
      } catch (error) {
        call.emit('error', asServiceError(error));
      }
    });
    call.on('end', () => call.end());
  }

  private applyBatch(correlation: string, options: BatchAppendReq.Options, proposed: ProposedEvent[]): BatchAppendResp {
    const stream = streamNameOf(options.getStreamIdentifier());
    const expected = expectedStateOfBatch(options);
    const response = new BatchAppendResp()
      .setCorrelationId(uuidMessage(correlation, false))
      .setStreamIdentifier(streamIdentifier(stream));
    echoExpected(response, expected);
    if (this.tooLarge(proposed)) {
      const details = new Any();
      details.pack(
        new MaximumAppendSizeExceeded().setMaxappendsize(this.maxAppendSize).serializeBinary(),
        'event_store.client.MaximumAppendSizeExceeded',
      );
      return response.setError(
        new Status()
          .setCode(INVALID_ARGUMENT)
          .setMessage(`Maximum Append Size of ${this.maxAppendSize} Exceeded.`)
          .setDetails(details),
      );
    }
    const outcome = this.log.append(stream, expected, proposed);
    if (outcome.ok) {
      const success = new BatchAppendResp.Success();
      if (outcome.currentRevision === undefined) success.setNoStream(protobufEmpty());
      else success.setCurrentRevision(outcome.currentRevision.toString());
      if (outcome.position === undefined) success.setNoPosition(protobufEmpty());
      else {
        const position = outcome.position.toString();
        success.setPosition(new AllStreamPosition().setCommitPosition(position).setPreparePosition(position));
      }
      return response.setSuccess(success);
    }
    const wrong = new WrongExpectedVersion();
    if (outcome.currentRevision === undefined) wrong.setCurrentNoStream(protobufEmpty());
    else wrong.setCurrentStreamRevision(outcome.currentRevision.toString());
    if (expected.kind === 'revision') wrong.setExpectedStreamPosition(expected.revision.toString());
    else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(protobufEmpty());
    else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(protobufEmpty());
    else wrong.setExpectedAny(protobufEmpty());
    const details = new Any();
    details.pack(wrong.serializeBinary(), 'event_store.client.WrongExpectedVersion');
    return response.setError(
      new Status().setCode(FAILED_PRECONDITION).setMessage('WrongExpectedVersion').setDetails(details),
    );
  }
}

function readStream(
  stream: readonly StoredEvent[],
  options: ReadReq.Options.StreamOptions,
  backwards: boolean,
): StoredEvent[] {
  const last = stream.length - 1;
  if (backwards) {
    const from = options.hasStart() ? 0 : options.hasRevision() ? Math.min(Number(options.getRevision()), last) : last;
    return stream.slice(0, from + 1).reverse();
  }
  if (options.hasEnd()) return [];
  const from = options.hasRevision() ? BigInt(options.getRevision()) : 0n;
  return from > BigInt(last) ? [] : stream.slice(Number(from));
}

function readAll(log: InMemoryLog, all: ReadReq.Options.AllOptions, backwards: boolean): StoredEvent[] {
  const events = log.events;
  if (backwards) {
    const before = all.hasPosition()
      ? log.indexAtOrAfter(BigInt(all.getPosition()!.getCommitPosition()))
      : all.hasStart()
        ? 0
        : events.length;
    return events.slice(0, before).reverse();
  }
  if (all.hasEnd()) return [];
  return events.slice(all.hasPosition() ? log.indexAtOrAfter(BigInt(all.getPosition()!.getCommitPosition())) : 0);
}

function echoExpected(response: BatchAppendResp, expected: ExpectedState): void {
  if (expected.kind === 'revision') response.setStreamPosition(expected.revision.toString());
  else if (expected.kind === 'no_stream') response.setNoStream(protobufEmpty());
  else if (expected.kind === 'stream_exists') response.setStreamExists(protobufEmpty());
  else response.setAny(protobufEmpty());
}
