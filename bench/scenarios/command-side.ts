/**
 * The command side as the server wires it, on a fresh embedded store, for the in-process command
 * scenarios (spends, holds): the handler with snapshots, the catalog, every workspace given a large
 * grant, and optionally the projections following on their own thread. `run` is timed; how long
 * the projections then take to reach the log's head is reported beside it.
 */
import { join } from 'node:path';
import { Catalog } from '../../src/catalog/catalog';
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import { systemClock } from '../../src/clock';
import { CreditsCommands } from '../../src/commands/credits-commands';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { ProjectionThread } from '../../src/server/projection-thread';
import { openFileSnapshotStore } from '../../src/snapshots/file-snapshot-store';
import { round, silentLogger, timed, withTempDir } from '../support';

export interface CommandSide {
  handler: WorkspaceCreditsCommandHandler;
  catalog: Catalog;
  commands: CreditsCommands;
}

export async function onCommandSide(
  options: { workspaces: number; projections: boolean },
  run: (side: CommandSide) => Promise<void>,
): Promise<{ seconds: number; projectionLagSeconds: number }> {
  return withTempDir('commands', async (dir) => {
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
    const snapshots = openFileSnapshotStore(join(dir, 'snapshots'));
    const handler = new WorkspaceCreditsCommandHandler(store, { snapshots });
    const commands = new CreditsCommands(handler, catalog, systemClock);
    const admin = { actorId: 'bench' };
    for (let w = 0; w < options.workspaces; w++) {
      await commands.grantCredits(
        { workspaceId: `ws-${w}`, credits: 10_000_000, reason: 'bench', idempotencyKey: 'seed' },
        admin,
      );
    }
    const { seconds } = await timed(() => run({ handler, catalog, commands }));
    const lag = await timed(async () => projections?.waitFor((await store.headPosition()) as bigint));
    await handler.idle(); // snapshots still being written
    await projections?.stop();
    await store.close();
    return { seconds, projectionLagSeconds: round(lag.seconds, 2) };
  });
}
