/**
 * `npm run projections:rebuild`: empties every read model and projects the whole event log again.
 * Run it with the server stopped; the server resumes from the rebuilt checkpoints.
 */
import { ProjectionRunner } from '../../projections/runner';
import { loadConfig } from '../server/config';
import { openStores, PROJECTIONS } from '../server/credits-service';
import { createLogger } from '../server/logger';

async function rebuild(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const { store, readModels } = openStores(config);
  const runner = new ProjectionRunner(store, readModels, PROJECTIONS, { logger });
  const started = performance.now();
  runner.resetAll();
  await runner.start();
  await runner.stop();
  const seconds = (performance.now() - started) / 1000;
  logger.info(
    {
      projections: PROJECTIONS.map((projection) => projection.name),
      position: runner.checkpoint?.toString() ?? null,
      seconds,
    },
    'projections rebuilt',
  );
  await store.close();
  readModels.close();
}

rebuild().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
