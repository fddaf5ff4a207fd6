/**
 * Where the event log lives, as plain data that can cross to the projection thread, and how to
 * open it: EventStoreDB when EVENTSTORE_URL is set, reading only the streams of `$all` that start with
 * one of FOLLOWED_STREAM_PREFIXES (another application's events there are skipped), and the embedded SQLite file otherwise. The read models are always this process's own
 * SQLite file under DATA_DIR.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { openReadModelDb } from '../../projections/read-model-db';
import type { EventStore } from '../eventstore/port';
import { openSqliteEventStore } from '../eventstore/sqlite/sqlite-event-store';
import { REACTIONS_CATEGORY } from '../../reactions/attempt-events';
import { REFUSED_EVENTS_CATEGORY } from '../events/provider-refusals';
import { WEBHOOK_ENDPOINT_CATEGORY } from '../events/webhook-endpoint-stream';
import { WORKSPACE_CREDITS_CATEGORY } from '../events/workspace-stream';
import type { Config } from './config';

export type EventStoreLocation =
  { kind: 'sqlite'; file: string } | { kind: 'esdb'; connectionString: string; streamPrefixes: string[] };

/** The streams the log's followers read (the reactor lease's stream is read only directly). */
export const FOLLOWED_STREAM_PREFIXES = [
  WORKSPACE_CREDITS_CATEGORY,
  REACTIONS_CATEGORY,
  REFUSED_EVENTS_CATEGORY,
  WEBHOOK_ENDPOINT_CATEGORY,
].map((category) => `${category}-`);

/**
 * The streams that vouch that the log did not go back (a restored backup): the workspaces', which
 * only this service writes and never deletes. `reactions-` is a name another application may use,
 * and delete.
 */
export const OWN_STREAM_PREFIXES = [`${WORKSPACE_CREDITS_CATEGORY}-`];

export const eventStoreLocation = (config: Config): EventStoreLocation =>
  config.eventStoreUrl
    ? { kind: 'esdb', connectionString: config.eventStoreUrl, streamPrefixes: FOLLOWED_STREAM_PREFIXES }
    : { kind: 'sqlite', file: config.eventStoreFile };

/**
 * With `readOnly`, the embedded store starts no append thread (EventStoreDB needs none). The
 * EventStoreDB client is loaded only when it is used: it takes as long to load as the rest of the
 * server, and the embedded store's server and projection thread start without it.
 */
export async function openEventStore(
  location: EventStoreLocation,
  options: { logger?: Logger; readOnly?: boolean } = {},
): Promise<EventStore> {
  if (location.kind === 'sqlite')
    return openSqliteEventStore({ file: location.file, readOnly: options.readOnly ?? false });
  const { openEsdbEventStore } = await import('../eventstore/esdb/esdb-event-store.js');
  return openEsdbEventStore({
    connectionString: location.connectionString,
    streamPrefixes: location.streamPrefixes,
    ownStreamPrefixes: OWN_STREAM_PREFIXES,
    ...(options.logger && { logger: options.logger }),
  });
}

/** The event store and the read-model database, for the CLIs. */
export async function openStores(
  config: Config,
  options: { logger?: Logger; readOnly?: boolean } = {},
): Promise<{ store: EventStore; readModels: Database }> {
  return {
    store: await openEventStore(eventStoreLocation(config), options),
    readModels: openReadModelDb(config.readModelFile),
  };
}
