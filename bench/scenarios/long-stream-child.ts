/**
 * One cold start on a long stream, in a process of its own: opens the stores, times the first
 * ConsumeCredits on the workspace until its append is durable, then shuts down cleanly (which
 * snapshots the workspace) or, given `behind`, spends more until the stream is that many events past
 * its latest snapshot and stops as a crash would, so that the next cold start has that many events
 * to fold after the snapshot. Prints what it measured as JSON.
 */
import { join } from 'node:path';
import { Catalog } from '../../src/catalog/catalog';
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import { systemClock } from '../../src/clock';
import { CreditsCommands } from '../../src/commands/credits-commands';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { openFileSnapshotStore } from '../../src/snapshots/file-snapshot-store';

async function main(): Promise<void> {
  const [dataDir, workspaceId, behindArg] = process.argv.slice(2) as [string, string, string | undefined];
  const stream = workspaceStreamName(workspaceId);
  const started = performance.now();
  const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  const snapshots = openFileSnapshotStore(join(dataDir, 'snapshots'));
  const handler = new WorkspaceCreditsCommandHandler(store, { snapshots });
  const commands = new CreditsCommands(
    handler,
    Catalog.load(join(__dirname, '../../../config/catalog.json')),
    systemClock,
  );
  await store.ready(); // as the server is before it takes requests
  const snapshotRevision = (await snapshots.load(stream))?.revision;
  const headRevision = (await store.streamRevision(stream)) as bigint;
  const opened = performance.now();
  let spends = 0;
  const spend = () =>
    commands.consumeCredits(
      { workspaceId, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: `long-${Date.now()}-${spends++}` },
      { actorId: 'bench' },
    );
  await spend();
  const answered = performance.now();
  if (behindArg === undefined) {
    // A clean shutdown: the workspace's state is snapshotted where this process leaves it.
    await handler.close();
  } else {
    await handler.idle(); // let a due snapshot be written
    const base = (await snapshots.load(stream))?.revision ?? -1n;
    const head = (await store.streamRevision(stream)) as bigint;
    const more = Number(base + BigInt(behindArg) - head);
    await Promise.all(Array.from({ length: Math.max(0, more) }, spend));
    // Then end as a crash would: every spend is durable, but no snapshot is taken on the way out.
    await handler.idle();
  }
  await store.close();
  process.stdout.write(
    JSON.stringify({
      eventsBefore: Number(headRevision) + 1,
      eventsAfterSnapshot: snapshotRevision === undefined ? undefined : Number(headRevision - snapshotRevision),
      openMs: Math.round((opened - started) * 10) / 10,
      firstCommandMs: Math.round((answered - opened) * 10) / 10,
    }),
  );
}

void main();
