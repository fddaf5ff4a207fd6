/**
 * The projection thread's entry point (see projection-thread.ts): opens its own connections to the
 * event store and the read-model database and runs the ProjectionRunner over them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openReadModelDb } from '../../projections/read-model-db';
import { ProjectionRunner } from '../../projections/runner';
import { SqliteEventStore } from '../eventstore/sqlite/sqlite-event-store';
import { changedWorkspaces } from '../queries/credits-changes';
import { LOG_FOLLOWERS } from './log-followers';
import { createLogger } from './logger';
import type {
  FromProjectionWorker,
  ProjectionProgress,
  ProjectionWorkerData,
  ToProjectionWorker,
} from './projection-thread';
import { openEventStore } from './stores';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('projection-worker.js runs as a worker thread of the server');
  const data = workerData as ProjectionWorkerData;
  const logger = createLogger(data.logLevel).child({ thread: 'projections' });
  const post = (message: FromProjectionWorker): void => port.postMessage(message);
  const store = await openEventStore(data.store, { logger, readOnly: true });
  const readModels = openReadModelDb(data.readModelFile);
  const runner = new ProjectionRunner(store, readModels, LOG_FOLLOWERS, {
    logger,
    onCommitted: (batch) => post({ type: 'committed', progress: progress(), workspaces: changedWorkspaces(batch) }),
    onFailed: (failure) =>
      post(
        failure.projection === '*'
          ? { type: 'failed', message: failure.error }
          : { type: 'progress', progress: progress() },
      ),
    onStalled: (error) => post({ type: 'stalled', message: error?.message ?? null }),
    waitForStore: true,
    onStoreUnreachable: (error) => post({ type: 'store-unreachable', message: error?.message ?? null }),
  });
  const progress = (): ProjectionProgress =>
    runner.progress.map(({ name, checkpoint, failure }) => ({
      name,
      checkpoint: checkpoint?.toString() ?? null,
      failure: failure ?? null,
    }));

  let stopping = false;
  port.on('message', (message: ToProjectionWorker) => {
    if (message.type === 'appended') {
      if (store instanceof SqliteEventStore) store.wakeSubscriptions();
      return;
    }
    stopping = true;
    void (async () => {
      await runner.stop();
      await store.close();
      readModels.close();
      port.close();
    })();
  });
  await runner.start();
  // A stop while the store was still unreachable ends start() with nothing caught up.
  if (!stopping) post({ type: 'caught-up', progress: progress() });
}

main().catch((error: unknown) => {
  parentPort?.postMessage({
    type: 'failed',
    message: error instanceof Error ? error.message : String(error),
  } satisfies FromProjectionWorker);
  process.exit(1);
});
