/**
 * The events of one stream category whose events are all at schema version 1 (a webhook endpoint's,
 * an owner's endpoint registry): how a stored event is recognized as one of them, and how one is
 * stored.
 */
import type { NewEvent, RecordedEvent } from '../eventstore/port';

export function categoryEvents<E extends { type: string; data: Record<string, unknown> }>(
  category: string,
  types: readonly string[],
) {
  const prefix = `${category}-`;
  const known: ReadonlySet<string> = new Set(types);
  return {
    /** The stored event as one of the category's, or undefined for any other stream or type. */
    from: (recorded: RecordedEvent): E | undefined =>
      recorded.streamName.startsWith(prefix) && known.has(recorded.type)
        ? ({ type: recorded.type, data: recorded.data } as E)
        : undefined,
    toNew: (event: E, id: string, metadata: Record<string, unknown>): NewEvent => ({
      id,
      type: event.type,
      schemaVersion: 1,
      data: event.data,
      metadata,
    }),
  };
}
