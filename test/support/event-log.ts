/** What a server process wrote to its embedded event store, read from its data directory by a test. */
import { join } from 'node:path';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';

/** The types of a workspace's events, in stream order. */
export async function eventTypes(dataDir: string, workspaceId: string): Promise<string[]> {
  const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite'), readOnly: true });
  try {
    const types: string[] = [];
    for await (const event of store.readStream(workspaceStreamName(workspaceId))) types.push(event.type);
    return types;
  } finally {
    await store.close();
  }
}
