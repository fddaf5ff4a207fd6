/**
 * The soak, in a process of its own so that its RSS is the command side's alone: spends at a steady
 * rate across workspaces through the real command side on the embedded store, with the projections
 * following on their thread as in the server, and samples the process's memory every few seconds.
 * A few of the spends are retries of earlier ones, from seconds to minutes old, which must return
 * the first result and append nothing, and a few reuse an earlier key for another request, which
 * must be refused: the memory bound must not cost the idempotency contract (most retries are of
 * spends the workspace no longer keeps in memory, and are answered from retry-records.sqlite).
 * Prints one JSON line per sample on stderr as it goes, and the whole result as JSON on stdout.
 *
 * The warm-up lasts at least `warmupSeconds`, and until events.sqlite and read-models.sqlite are
 * both larger than the page cache SQLite keeps of each (64 MiB: database.ts, read-model-db.ts):
 * until then those caches are still filling, by design, and the RSS with them.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RETRY_RECORDS_IN_MEMORY } from '../../src/commands/workspace-states';
import { CreditsError } from '../../src/domain/errors';
import { openCommandSide } from './command-side';

export interface SoakOptions {
  seconds: number;
  warmupSeconds: number;
  spendsPerSecond: number;
  workspaces: number;
  sampleEverySeconds: number;
}

export interface SoakSample {
  at: number;
  rssMb: number;
  heapUsedMb: number;
  /** What V8 holds for its heap, used or not: it follows the garbage between two full collections. */
  heapTotalMb: number;
  /** Memory of Buffers and other objects outside the JS heap (snapshots being encoded and written). */
  externalMb: number;
  spends: number;
  /** Sizes of the files, their -wal included. */
  eventsMb: number;
  readModelsMb: number;
  retryRecordsMb: number;
}

export interface SoakChildResult {
  samples: SoakSample[];
  /** When the warm-up ended (see the header); null when it never did. */
  warmupEndedAt: number | null;
  spends: number;
  spendsPerSecond: number;
  /** Retries checked, of them those of spends older than a workspace keeps in memory, and wrong answers. */
  retries: { checked: number; olderThanMemory: number; wrong: number };
  reusedKeys: { checked: number; wrong: number };
  failures: number;
  projectionLagSeconds: number;
}

/** A spend answered earlier, kept to retry: a fixed number of slots, so the driver's memory stays flat. */
interface Answered {
  workspaceId: string;
  key: string;
  consumptionId: string;
  /** The request's number: how many spends went before it. */
  index: number;
}

const RETRY_SLOTS = 20_000;
const MAX_IN_FLIGHT = 2_000;
const PAGE_CACHE_MB = 64;
const mb = (bytes: number): number => Math.round(bytes / 1024 / 102.4) / 10;
const fileMb = (file: string): number =>
  mb(
    (statSync(file, { throwIfNoEntry: false })?.size ?? 0) +
      (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0),
  );

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] as string) as SoakOptions;
  const dir = mkdtempSync(join(tmpdir(), 'credits-bench-soak-'));
  try {
    process.stdout.write(JSON.stringify(await soak(dir, options)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function soak(dir: string, options: SoakOptions): Promise<SoakChildResult> {
  const { store, projections, handler, commands, close } = await openCommandSide(dir, { projections: true });
  const workspaceOf = (i: number): string => `ws-${i % options.workspaces}`;
  for (let w = 0; w < options.workspaces; w++) {
    await commands.grantCredits(
      { workspaceId: workspaceOf(w), credits: 1_000_000_000, reason: 'soak', idempotencyKey: 'seed' },
      { actorId: 'bench' },
    );
  }

  const answered: Answered[] = [];
  const retries = { checked: 0, olderThanMemory: 0, wrong: 0 };
  // Spends of a workspace after which one has left its memory (a tenth more leave together).
  const inMemory = DEFAULT_RETRY_RECORDS_IN_MEMORY * 1.1;
  const reusedKeys = { checked: 0, wrong: 0 };
  let failures = 0;
  let spends = 0;
  let inFlight = 0;
  const member = { actorId: 'member' };
  const spend = (workspaceId: string, key: string, units = 1) =>
    commands.consumeCredits({ workspaceId, action: 'PERSON_ENRICHMENT', units, idempotencyKey: key }, member);

  /** The i-th request: mostly a new spend; one in 100 a retry, one in 1,000 a key reused for another request. */
  const request = async (i: number): Promise<void> => {
    const earlier = answered.length > 0 ? answered[Math.floor(Math.random() * answered.length)] : undefined;
    if (earlier && i % 100 === 50) {
      const outcome = await spend(earlier.workspaceId, earlier.key);
      retries.checked += 1;
      if ((i - earlier.index) / options.workspaces > inMemory) retries.olderThanMemory += 1;
      if (outcome.events.length > 0 || outcome.result.consumptionId !== earlier.consumptionId) retries.wrong += 1;
      return;
    }
    if (earlier && i % 1000 === 500) {
      reusedKeys.checked += 1;
      const refused = await spend(earlier.workspaceId, earlier.key, 2).then(
        () => false,
        (error: unknown) => error instanceof CreditsError && error.code === 'IDEMPOTENCY_KEY_REUSED',
      );
      if (!refused) reusedKeys.wrong += 1;
      return;
    }
    const workspaceId = workspaceOf(i);
    const key = `soak-${i}`;
    const outcome = await spend(workspaceId, key);
    spends += 1;
    if (i % 37 === 0) {
      const slot = answered.length < RETRY_SLOTS ? answered.length : Math.floor(Math.random() * RETRY_SLOTS);
      answered[slot] = { workspaceId, key, consumptionId: outcome.result.consumptionId, index: i };
    }
  };

  const samples: SoakSample[] = [];
  let warmupEndedAt: number | undefined;
  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;
  const sample = (): void => {
    const memory = process.memoryUsage();
    const taken = {
      at: Math.round(elapsed()),
      rssMb: mb(memory.rss),
      heapUsedMb: mb(memory.heapUsed),
      heapTotalMb: mb(memory.heapTotal),
      externalMb: mb(memory.external),
      spends,
      eventsMb: fileMb(join(dir, 'events.sqlite')),
      readModelsMb: fileMb(join(dir, 'read-models.sqlite')),
      retryRecordsMb: fileMb(join(dir, 'retry-records.sqlite')),
    };
    samples.push(taken);
    const cachesFull = taken.eventsMb > PAGE_CACHE_MB && taken.readModelsMb > PAGE_CACHE_MB;
    if (warmupEndedAt === undefined && taken.at >= options.warmupSeconds && cachesFull) warmupEndedAt = taken.at;
    process.stderr.write(`  soak ${JSON.stringify(taken)}\n`);
  };
  const sampler = setInterval(sample, options.sampleEverySeconds * 1000);
  let issued = 0;
  while (elapsed() < options.seconds) {
    const due = Math.floor(elapsed() * options.spendsPerSecond);
    while (issued < due && inFlight < MAX_IN_FLIGHT) {
      inFlight += 1;
      void request(issued++)
        .catch(() => (failures += 1))
        .finally(() => (inFlight -= 1));
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  clearInterval(sampler);
  sample();
  const seconds = elapsed();
  await handler.idle();
  const lag = performance.now();
  await projections?.waitFor((await store.headPosition()) as bigint);
  const projectionLagSeconds = Math.round((performance.now() - lag) / 10) / 100;
  await close();
  return {
    samples,
    warmupEndedAt: warmupEndedAt ?? null,
    spends,
    spendsPerSecond: Math.round(issued / seconds),
    retries,
    reusedKeys,
    failures,
    projectionLagSeconds,
  };
}

void main();
