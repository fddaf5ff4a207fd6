/**
 * Where the event log lives, as plain data that can cross to the projection thread, and how to
 * open it: EventStoreDB when EVENTSTORE_URL is set, reading only the workspace credits streams of
 * `$all`, and the embedded SQLite file otherwise.
 */
import type { Logger } from 'pino';
import { openEsdbEventStore } from '../eventstore/esdb/esdb-event-store';
import type { EventStore } from '../eventstore/port';
import { openSqliteEventStore } from '../eventstore/sqlite/sqlite-event-store';
import { WORKSPACE_CREDITS_CATEGORY } from '../events/workspace-stream';
import type { Config } from './config';

export type EventStoreLocation =
  { kind: 'sqlite'; file: string } | { kind: 'esdb'; connectionString: string; streamPrefixes: string[] };

export const eventStoreLocation = (config: Config): EventStoreLocation =>
  config.eventStoreUrl
    ? { kind: 'esdb', connectionString: config.eventStoreUrl, streamPrefixes: [`${WORKSPACE_CREDITS_CATEGORY}-`] }
    : { kind: 'sqlite', file: config.eventStoreFile };

/** With `readOnly`, the embedded store starts no append thread (EventStoreDB needs none). */
export function openEventStore(
  location: EventStoreLocation,
  options: { logger?: Logger; readOnly?: boolean } = {},
): EventStore {
  return location.kind === 'esdb'
    ? openEsdbEventStore({
        connectionString: location.connectionString,
        streamPrefixes: location.streamPrefixes,
        ...(options.logger && { logger: options.logger }),
      })
    : openSqliteEventStore({ file: location.file, readOnly: options.readOnly ?? false });
}
