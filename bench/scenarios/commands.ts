/**
 * (2) ConsumeCredits in process, through the real command side on the embedded store: across many
 * workspaces, and on one hot workspace; alone, like for like with the ceiling, and with the
 * projections following on their own thread as in the server. A spend counts once its append has
 * committed durably (the promise the API would answer from has resolved). How long the projections
 * then take to reach the last spend is reported beside it.
 */
import { join } from 'node:path';
import { Catalog } from '../../src/catalog/catalog';
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import { systemClock } from '../../src/clock';
import { CreditsCommands } from '../../src/commands/credits-commands';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { ProjectionThread } from '../../src/server/projection-thread';
import { openFileSnapshotStore } from '../../src/snapshots/file-snapshot-store';
import { inFlight, round, silentLogger, timed, withTempDir } from '../support';

export interface CommandsResult {
  spends: number;
  seconds: number;
  spendsPerSecond: number;
  /** From the last spend's commit until every projection had applied it (0 without projections). */
  projectionLagSeconds: number;
}

export async function consumeBench(options: {
  workspaces: number;
  spends: number;
  concurrency: number;
  /** Run the projections beside the commands, as the server does. */
  projections: boolean;
}): Promise<CommandsResult> {
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
    const { seconds } = await timed(() =>
      inFlight(options.spends, options.concurrency, (i) =>
        commands.consumeCredits(
          {
            workspaceId: `ws-${i % options.workspaces}`,
            action: 'PERSON_ENRICHMENT',
            units: 1,
            idempotencyKey: `k${i}`,
          },
          { actorId: 'member' },
        ),
      ),
    );
    const lag = await timed(async () => projections?.waitFor((await store.headPosition()) as bigint));
    await handler.idle(); // snapshots still being written
    await projections?.stop();
    await store.close();
    return {
      spends: options.spends,
      seconds,
      spendsPerSecond: Math.round(options.spends / seconds),
      projectionLagSeconds: round(lag.seconds, 2),
    };
  });
}
