/**
 * The command side as the server composes it, on the embedded store in a directory of the
 * scenario's own, with the projections following on their thread when asked, and the server's
 * memory bounds (their defaults unless given): what the commands and soak scenarios measure.
 */
import { join } from 'node:path';
import { Catalog } from '../src/catalog/catalog';
import { WorkspaceCreditsCommandHandler } from '../src/commands/command-handler';
import { systemClock } from '../src/clock';
import { CreditsCommands } from '../src/commands/credits-commands';
import { openSqliteEventStore, type SqliteEventStore } from '../src/eventstore/sqlite/sqlite-event-store';
import { ProjectionThread } from '../src/server/projection-thread';
import { openFileSnapshotStore } from '../src/snapshots/file-snapshot-store';
import { openSqliteRetryRecords } from '../src/snapshots/sqlite-retry-records';
import { silentLogger } from './support';

export interface CommandSide {
  store: SqliteEventStore;
  projections: ProjectionThread | undefined;
  handler: WorkspaceCreditsCommandHandler;
  commands: CreditsCommands;
  /** Lets every command and snapshot finish, then closes the projections and the store. */
  close: () => Promise<void>;
}

export async function openCommandSide(
  dir: string,
  options: { projections: boolean; stateCacheBytes?: number; retryRecordsInMemory?: number },
): Promise<CommandSide> {
  const file = join(dir, 'events.sqlite');
  const store = openSqliteEventStore({ file });
  await store.ready();
  const projections = options.projections
    ? await ProjectionThread.start({
        store: { kind: 'sqlite', file },
        readModelFile: join(dir, 'read-models.sqlite'),
        logLevel: 'silent',
        logger: silentLogger,
        onAppended: (listener) => store.onAppended(listener),
        waitTimeoutMs: 600_000,
      })
    : undefined;
  const retryRecords = openSqliteRetryRecords(join(dir, 'retry-records.sqlite'));
  const handler = new WorkspaceCreditsCommandHandler(store, {
    snapshots: openFileSnapshotStore(join(dir, 'snapshots')),
    retryRecords,
    ...(options.stateCacheBytes !== undefined && { stateCacheBytes: options.stateCacheBytes }),
    ...(options.retryRecordsInMemory !== undefined && { retryRecordsInMemory: options.retryRecordsInMemory }),
  });
  const commands = new CreditsCommands(
    handler,
    Catalog.load(join(__dirname, '../../config/catalog.json')),
    systemClock,
  );
  return {
    store,
    projections,
    handler,
    commands,
    close: async () => {
      await handler.close();
      retryRecords.close();
      await projections?.stop();
      await store.close();
    },
  };
}
