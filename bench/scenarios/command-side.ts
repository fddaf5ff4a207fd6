/**
 * The command side as the server wires it, on a fresh embedded store: the handler with snapshots
 * and the retry record store (with the server's memory bounds, or those given), the catalog, and
 * optionally the projections following on their own thread. `openCommandSide` opens it in a
 * directory of the caller's (the soak); `onCommandSide`, for the in-process command scenarios
 * (spends, holds), also gives every workspace a large grant, times `run`, and reports how long the
 * projections then take to reach the log's head.
 */
import { join } from 'node:path';
import { Catalog } from '../../src/catalog/catalog';
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import { systemClock } from '../../src/clock';
import { CreditsCommands } from '../../src/commands/credits-commands';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { ProjectionThread } from '../../src/server/projection-thread';
import { openFileSnapshotStore } from '../../src/snapshots/file-snapshot-store';
import { openSqliteRetryRecords } from '../../src/snapshots/sqlite-retry-records';
import { round, silentLogger, timed, withTempDir } from '../support';

export interface CommandSide {
  store: SqliteEventStore;
  projections: ProjectionThread | undefined;
  handler: WorkspaceCreditsCommandHandler;
  catalog: Catalog;
  commands: CreditsCommands;
  /** Lets every command and snapshot finish, then closes the projections and the stores. */
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
  const catalog = Catalog.load(join(__dirname, '../../../config/catalog.json'));
  const retryRecords = openSqliteRetryRecords(join(dir, 'retry-records.sqlite'));
  const handler = new WorkspaceCreditsCommandHandler(store, {
    snapshots: openFileSnapshotStore(join(dir, 'snapshots')),
    retryRecords,
    ...(options.stateCacheBytes !== undefined && { stateCacheBytes: options.stateCacheBytes }),
    ...(options.retryRecordsInMemory !== undefined && { retryRecordsInMemory: options.retryRecordsInMemory }),
  });
  const commands = new CreditsCommands(handler, catalog, systemClock);
  return {
    store,
    projections,
    handler,
    catalog,
    commands,
    close: async () => {
      await handler.close();
      retryRecords.close();
      await projections?.stop();
      await store.close();
    },
  };
}

export async function onCommandSide(
  options: { workspaces: number; projections: boolean },
  run: (side: CommandSide) => Promise<void>,
): Promise<{ seconds: number; projectionLagSeconds: number }> {
  return withTempDir('commands', async (dir) => {
    const side = await openCommandSide(dir, options);
    const admin = { actorId: 'bench' };
    for (let w = 0; w < options.workspaces; w++) {
      await side.commands.grantCredits(
        { workspaceId: `ws-${w}`, credits: 10_000_000, reason: 'bench', idempotencyKey: 'seed' },
        admin,
      );
    }
    const { seconds } = await timed(() => run(side));
    const lag = await timed(async () => side.projections?.waitFor((await side.store.headPosition()) as bigint));
    await side.close(); // snapshots still being written
    return { seconds, projectionLagSeconds: round(lag.seconds, 2) };
  });
}
