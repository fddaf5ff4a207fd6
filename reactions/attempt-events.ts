/**
 * The events a reaction records about its own work, each in the reaction's stream
 * (`reactions-<name>`): an attempt that failed (with the next attempt's time, or parked), a parked
 * piece of work an operator asked to retry, and work deferred to look at again later. They make
 * retries and parking survive restarts and show the same on every replica.
 */
import type { NewEvent, RecordedEvent } from '../src/eventstore/port';

export const REACTIONS_CATEGORY = 'reactions';
export const reactionStream = (reaction: string): string => `${REACTIONS_CATEGORY}-${reaction}`;

export type ReactionEvent =
  | {
      type: 'ReactionAttemptFailed';
      data: {
        reaction: string;
        key: string;
        attempt: number;
        error: string;
        nextAttemptAt: string | null;
        failedAt: string;
      };
    }
  | { type: 'ReactionWorkRetried'; data: { reaction: string; key: string; requestedBy: string; retriedAt: string } }
  | { type: 'ReactionWorkDeferred'; data: { reaction: string; key: string; dueAt: string; deferredAt: string } };

export const toNewEvent = (event: ReactionEvent): NewEvent => ({ type: event.type, data: event.data });

export function toReactionEvent(recorded: RecordedEvent): ReactionEvent | undefined {
  if (!recorded.streamName.startsWith(`${REACTIONS_CATEGORY}-`)) return undefined;
  switch (recorded.type) {
    case 'ReactionAttemptFailed':
    case 'ReactionWorkRetried':
    case 'ReactionWorkDeferred':
      return { type: recorded.type, data: recorded.data } as ReactionEvent;
    default:
      return undefined;
  }
}
