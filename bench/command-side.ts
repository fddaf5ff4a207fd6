/**
 * The command side as the server composes it, on the embedded store in a directory of the
 * scenario's own, with the projections following on their thread when asked: what the commands
 * and soak scenarios measure.
 */
import { join } from 'node:path';
import { Catalog } from '../src/catalog/catalog';
import { WorkspaceCreditsCommandHandler } from '../src/commands/command-handler';
import { systemClock } from '../src/clock';
import { CreditsCommands } from '../src/commands/credits-commands';
import { openSqliteEventStore, type SqliteEventStore } from '../src/eventstore/sqlite/sqlite-event-store';
import { ProjectionThread } from '../src/server/projection-thread';
import { openFileSnapshotStore } from '../src/snapshots/file-snapshot-store';
import { silentLogger } from './support';

export interface CommandSide {
  store: SqliteEventStore;
  projections: ProjectionThread | undefined;
  handler: WorkspaceCreditsCommandHandler;
  commands: CreditsCommands;
  /** Lets every command and snapshot finish, then closes the projections and the store. */
  close: () => Promise<void>;
}

export async function openCommandSide(dir: string, options: { projections: boolean }): Promise<CommandSide> {
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
  const handler = new WorkspaceCreditsCommandHandler(store, {
    snapshots: openFileSnapshotStore(join(dir, 'snapshots')),
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
      await projections?.stop();
      await store.close();
    },
  };
}
