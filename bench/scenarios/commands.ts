/**
 * (2) ConsumeCredits in process, through the real command side on the embedded store, with the
 * projections running: across many workspaces, and on one hot workspace. A spend counts once its
 * append has committed durably (the promise the API would answer from has resolved).
 */
import { join } from 'node:path';
import { Catalog } from '../../src/catalog/catalog';
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import { CreditsCommands, systemClock } from '../../src/commands/credits-commands';
import { openReadModelDb } from '../../projections/read-model-db';
import { ProjectionRunner } from '../../projections/runner';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { PROJECTIONS } from '../../src/server/credits-service';
import { inFlight, silentLogger, timed, withTempDir } from '../support';

export interface CommandsResult {
  spends: number;
  seconds: number;
  spendsPerSecond: number;
}

export async function consumeBench(options: {
  workspaces: number;
  spends: number;
  concurrency: number;
}): Promise<CommandsResult> {
  return withTempDir('commands', async (dir) => {
    const store = openSqliteEventStore({ file: join(dir, 'events.sqlite') });
    const readModels = openReadModelDb(join(dir, 'read-models.sqlite'));
    const projections = new ProjectionRunner(store, readModels, PROJECTIONS, { logger: silentLogger });
    await projections.start();
    const catalog = Catalog.load('config/catalog.json');
    const commands = new CreditsCommands(new WorkspaceCreditsCommandHandler(store), catalog, systemClock);
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
    await projections.stop();
    await store.close();
    readModels.close();
    return { spends: options.spends, seconds, spendsPerSecond: Math.round(options.spends / seconds) };
  });
}
