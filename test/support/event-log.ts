/** Events in tests: what a server process wrote to its embedded event store, and a grant to append. */
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

/** The i-th grant of 10 credits to a workspace, as a new event to append (projection and store tests). */
export const granted = (workspaceId: string, i: number) => ({
  type: 'CreditsGranted',
  data: {
    workspaceId,
    grantId: `grant-${i}`,
    idempotencyKey: `key-${i}`,
    credits: 10,
    reason: 'test',
    grantedBy: 'test',
    grantedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
  },
});
