/**
 * The SQLite store for the command handlers' tests: counting appends (and keeping their events),
 * able to let "another process" write first or fail the next append, and declaring an append byte
 * budget when asked to, as EventStoreDB's adapter does.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore, NewEvent } from '../../src/eventstore/port';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';

export function instrumentedStore(options: { maxAppendBytes?: number } = {}) {
  const store = openSqliteEventStore({ file: join(mkdtempSync(join(tmpdir(), 'credits-handler-')), 'events.sqlite') });
  let appends = 0;
  const appended: NewEvent[][] = [];
  let beforeNextAppend: (() => Promise<void>) | undefined;
  const wrapped: EventStore = Object.assign(Object.create(store) as EventStore, {
    maxAppendBytes: options.maxAppendBytes,
    appendToStream: async (...args: Parameters<EventStore['appendToStream']>) => {
      appends += 1;
      const interfere = beforeNextAppend;
      beforeNextAppend = undefined;
      if (interfere) await interfere();
      const result = await store.appendToStream(...args);
      appended.push(args[1]);
      return result;
    },
  });
  return {
    store,
    wrapped,
    appends: () => appends,
    /** The events of each append that committed, in order. */
    appended,
    interfereOnce: (action: () => Promise<void>): void => {
      beforeNextAppend = action;
    },
  };
}

/** The types of a stream's events, in order. */
export async function eventTypes(store: EventStore, stream: string): Promise<string[]> {
  const types: string[] = [];
  for await (const event of store.readStream(stream)) types.push(event.type);
  return types;
}
