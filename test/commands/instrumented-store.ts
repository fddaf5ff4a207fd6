/** The SQLite store for the command handlers' tests: counting appends, and able to let "another process" write first. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '../../src/eventstore/port';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';

export function instrumentedStore() {
  const store = openSqliteEventStore({ file: join(mkdtempSync(join(tmpdir(), 'credits-handler-')), 'events.sqlite') });
  let appends = 0;
  let beforeNextAppend: (() => Promise<void>) | undefined;
  const wrapped: EventStore = Object.assign(Object.create(store) as EventStore, {
    appendToStream: async (...args: Parameters<EventStore['appendToStream']>) => {
      appends += 1;
      const interfere = beforeNextAppend;
      beforeNextAppend = undefined;
      if (interfere) await interfere();
      return store.appendToStream(...args);
    },
  });
  return {
    store,
    wrapped,
    appends: () => appends,
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
