/**
 * The events a reaction records about its own work, each in the reaction's stream
 * (`reactions-<name>`): an attempt that failed (with the next attempt's time, or parked), a parked
 * piece of work an operator asked to retry, work deferred to look at again later, and work done whose
 * outcome is recorded nowhere else. They make
 * retries and parking survive restarts and show the same on every replica.
 */
import type { EventStore, NewEvent, RecordedEvent } from '../src/eventstore/port';

export const REACTIONS_CATEGORY = 'reactions';
export const reactionStream = (reaction: string): string => `${REACTIONS_CATEGORY}-${reaction}`;

export type ReactionEvent =
  | {
      type: 'ReactionAttemptFailed';
      /**
       * `performed`: the payload of the work that failed (since 2026-12-04), so that a failure
       * derived after the derivation scheduled the work anew (a provider's answer reporting the
       * attempt's outcome first, with the next attempt at its own time) changes nothing of it.
       */
      data: {
        reaction: string;
        key: string;
        attempt: number;
        error: string;
        nextAttemptAt: string | null;
        failedAt: string;
        performed?: unknown;
      };
    }
  | { type: 'ReactionWorkRetried'; data: { reaction: string; key: string; requestedBy: string; retriedAt: string } }
  | {
      type: 'ReactionWorkDeferred';
      /**
       * `payload`: the work's new payload, when the performer gave one, to replace `performed`, the
       * payload it performed (not one the derivation set since).
       */
      data: {
        reaction: string;
        key: string;
        dueAt: string;
        deferredAt: string;
        payload?: unknown;
        performed?: unknown;
      };
    }
  | { type: 'ReactionWorkDone'; data: { reaction: string; key: string; doneAt: string } };

export const toNewEvent = (event: ReactionEvent): NewEvent => ({ type: event.type, data: event.data });

/** Records an operator's request to try a reaction's parked work again, afresh; resolves with its position. */
export async function requestRetry(
  store: EventStore,
  work: { reaction: string; key: string },
  requestedBy: string,
  at: Date,
): Promise<bigint> {
  const { reaction, key } = work;
  const retried: ReactionEvent = {
    type: 'ReactionWorkRetried',
    data: { reaction, key, requestedBy, retriedAt: at.toISOString() },
  };
  const { position } = await store.appendToStream(reactionStream(reaction), [toNewEvent(retried)], {
    expectedRevision: 'any',
  });
  return position;
}

export function toReactionEvent(recorded: RecordedEvent): ReactionEvent | undefined {
  if (!recorded.streamName.startsWith(`${REACTIONS_CATEGORY}-`)) return undefined;
  switch (recorded.type) {
    case 'ReactionAttemptFailed':
    case 'ReactionWorkRetried':
    case 'ReactionWorkDeferred':
    case 'ReactionWorkDone':
      return { type: recorded.type, data: recorded.data } as ReactionEvent;
    default:
      return undefined;
  }
}
