/**
 * EventStoreDB's server-side `$all` filters, as the test server applies them: on the stream name or
 * on the event type, by a list of prefixes or by a regular expression. A request without a filter
 * sees every event, system events included (as a real server does).
 */
import { ReadReq } from '@eventstore/db-client/generated/streams_pb';
import type { StoredEvent } from './in-memory-log';

export type EventPredicate = (event: StoredEvent) => boolean;

const { STREAM_IDENTIFIER, EVENT_TYPE } = ReadReq.Options.FilterOptions.FilterCase;

export interface ServerFilter {
  accepts: EventPredicate;
  /** For a subscription: send a checkpoint after this many events were considered. */
  checkpointInterval: number;
}

/** Events a filtered subscription looks at before it reports a checkpoint: the client's default window. */
const SEARCH_WINDOW = 32;

export function serverFilter(options: ReadReq.Options): ServerFilter {
  const filter = options.hasFilter() ? options.getFilter() : undefined;
  if (!filter) return { accepts: () => true, checkpointInterval: Infinity };
  const field = filter.getFilterCase();
  const expression = field === STREAM_IDENTIFIER ? filter.getStreamIdentifier() : filter.getEventType();
  if (!expression || (field !== STREAM_IDENTIFIER && field !== EVENT_TYPE)) {
    throw new Error('a filter needs a stream identifier or event type expression');
  }
  const value = (event: StoredEvent) => (field === STREAM_IDENTIFIER ? event.streamName : event.type);
  const regex = expression.getRegex();
  const prefixes = expression.getPrefixList();
  const pattern = regex === '' ? undefined : new RegExp(regex);
  const matches = (text: string): boolean =>
    pattern ? pattern.test(text) : prefixes.some((prefix) => text.startsWith(prefix));
  const window = filter.hasMax() ? filter.getMax() : SEARCH_WINDOW;
  return {
    accepts: (event) => matches(value(event)),
    checkpointInterval: window * Math.max(1, filter.getCheckpointintervalmultiplier()),
  };
}
