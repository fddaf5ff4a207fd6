/**
 * How a port event is stored as an EventStoreDB event and read back.
 *
 * - data: the JSON object itself (content type application/json), as other EventStoreDB tools expect;
 * - metadata: the caller's metadata object plus one reserved key, `$schemaVersion`, the version of
 *   the data's shape (EventStoreDB has no field for it); an event without it reads as version 1;
 * - id: the event id, which EventStoreDB requires to be a UUID;
 * - recordedAt: the server's `created` stamp (millisecond precision);
 * - position: see positions.ts.
 *
 * The service writes only JSON objects. An event read from `$all` that is not one (binary data,
 * a JSON array or scalar: another application's, in a stream that happens to match a followed
 * prefix) is not the store's: `isStoreShaped` tells, and the adapter skips such events in every
 * read of `$all` (subscriptions, `readAll`, the head), as it skips other applications' JSON events
 * of types no reader knows.
 */
import { jsonEvent, type EventData, type RecordedEvent as EsdbRecordedEvent } from '@eventstore/db-client';
import { newId } from '../../ids';
import type { NewEvent, RecordedEvent } from '../port';
import { toPortPosition } from './positions';

export const SCHEMA_VERSION_KEY = '$schemaVersion';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function toEventData(event: NewEvent): EventData {
  const schemaVersion = event.schemaVersion ?? 1;
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
    throw new RangeError(`schemaVersion must be a positive integer, got ${schemaVersion}`);
  }
  const id = event.id ?? newId();
  if (!UUID.test(id)) throw new RangeError(`EventStoreDB event ids must be UUIDs, got "${id}"`);
  const metadata = event.metadata ?? {};
  if (SCHEMA_VERSION_KEY in metadata) {
    throw new RangeError(`Event metadata may not use the reserved key ${SCHEMA_VERSION_KEY}`);
  }
  return jsonEvent({
    id,
    type: event.type,
    data: event.data,
    metadata: { ...metadata, [SCHEMA_VERSION_KEY]: schemaVersion },
  });
}

/** Whether an event is shaped as the store writes events: JSON whose data is a JSON object. */
export function isStoreShaped(event: EsdbRecordedEvent): boolean {
  return event.isJson && isPlainObject(event.data);
}

/** The port's record of an event read from EventStoreDB (a stream read or `$all`). */
export function toRecordedEvent(event: EsdbRecordedEvent): RecordedEvent {
  const where = `event ${event.id} (${event.streamId}@${event.revision})`;
  if (!event.isJson) throw new Error(`${where} is not JSON (type ${event.type})`);
  const data = event.data;
  if (!isPlainObject(data)) throw new Error(`${where} has data that is not a JSON object`);
  const { [SCHEMA_VERSION_KEY]: storedVersion, ...metadata } = isPlainObject(event.metadata) ? event.metadata : {};
  const schemaVersion = storedVersion === undefined ? 1 : storedVersion;
  if (typeof schemaVersion !== 'number' || !Number.isInteger(schemaVersion) || schemaVersion < 1) {
    throw new Error(`${where} has an invalid ${SCHEMA_VERSION_KEY}: ${JSON.stringify(storedVersion)}`);
  }
  return {
    id: event.id,
    streamName: event.streamId,
    type: event.type,
    data,
    metadata,
    schemaVersion,
    revision: event.revision,
    position: toPortPosition(event.position, where),
    recordedAt: event.created,
  };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
