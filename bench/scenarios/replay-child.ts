/**
 * Runs in its own process so that its peak RSS is the replay's alone: rebuilds everything that
 * follows the log, as `credits replay` does (every read model and the reactions' derivations), from
 * the whole log under a data directory, and prints what it measured.
 */
import { join } from 'node:path';
import { openReadModelDb } from '../../projections/read-model-db';
import { rebuildProjections } from '../../src/cli/replay';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { LOG_FOLLOWERS } from '../../src/server/log-followers';

async function main(): Promise<void> {
  const dataDir = process.argv[2] as string;
  const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite'), readOnly: true });
  const readModels = openReadModelDb(join(dataDir, 'read-models.sqlite'));
  const summary = await rebuildProjections(store, readModels, LOG_FOLLOWERS, {
    progress: false,
  });
  await store.close();
  readModels.close();
  process.stdout.write(JSON.stringify({ ...summary, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

void main();
