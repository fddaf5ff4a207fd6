/**
 * How the port's single global `position` and its expected revisions map onto EventStoreDB's.
 *
 * EventStoreDB orders `$all` by a pair {commit, prepare} of byte offsets in its transaction log.
 * Every append made over gRPC is an implicit transaction: each event is written as its own
 * self-committing prepare record, and `$all` reports that record's offset as both its commit and its
 * prepare position — for a multi-event append too, where every event gets its own, increasing
 * offset (only the explicit transactions of the retired TCP client share a commit position). The
 * append's answer carries the position of its last event, and stream reads report the same pair
 * (servers from 22.6 on). So the port's position IS that offset: strictly increasing in append
 * order, not dense, and `{ commit: p, prepare: p }` converts it back for reads and subscriptions.
 *
 * A pair with commit ≠ prepare, or the "unknown" position older servers send on stream reads, cannot
 * be mapped and is refused loudly rather than guessed, so a reader never skips or repeats an event.
 */
import { ANY, NO_STREAM, STREAM_EXISTS, type AppendExpectedRevision, type Position } from '@eventstore/db-client';
import type { ExpectedRevision } from '../port';

/** EventStoreDB's "no position" (2^64 - 1), sent where it does not know an event's position. */
const UNKNOWN_POSITION = 0xffff_ffff_ffff_ffffn;

/** The port's position of an event EventStoreDB placed at `position`. */
export function toPortPosition(position: Position | undefined, where: string): bigint {
  if (position === undefined || position.commit === UNKNOWN_POSITION || position.prepare === UNKNOWN_POSITION) {
    throw new Error(
      `EventStoreDB did not report the $all position of ${where}; this adapter needs a server that reports positions on stream reads (22.6 or later).`,
    );
  }
  if (position.commit !== position.prepare) {
    throw new Error(
      `${where} sits at commit ${position.commit} / prepare ${position.prepare}: it was written in an explicit transaction, which this adapter does not support.`,
    );
  }
  return position.commit;
}

/** The EventStoreDB position of the event the port knows at `position`. */
export const toEsdbPosition = (position: bigint): Position => {
  if (position < 0n) throw new RangeError(`A log position cannot be negative, got ${position}`);
  return { commit: position, prepare: position };
};

/** The client's expected revision for the port's. Revisions are 0-based in both. */
export function toClientExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      if (expected < 0n) throw new RangeError(`An expected revision cannot be negative, got ${expected}`);
      return expected;
  }
}

/** The port's view of the revision a stream is at, from what the client reports. */
export const fromClientCurrentRevision = (current: bigint | string | undefined): bigint | undefined =>
  typeof current === 'bigint' ? current : undefined;
