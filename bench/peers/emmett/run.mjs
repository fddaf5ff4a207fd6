#!/usr/bin/env node
/**
 * Benchmark peer for scenario (2): OUR workspace credits decider (dist/src/domain, from
 * `npm run build` in the repo root) run through Emmett's own command handler
 * (DeciderCommandHandler) on Emmett's own SQLite event store, with the same workload as
 * bench/scenarios/commands.ts: seed every workspace with a GrantCredits of 10,000,000 credits, then
 * ConsumeCredits { ws-(i % W), PERSON_ENRICHMENT, 1 unit, key k<i> } with `concurrency` in flight.
 * A spend counts once Emmett's append has committed (its promise resolved).
 *
 *   node bench/peers/emmett/run.mjs --workspaces 1000 --spends 100000 --concurrency 1000
 *
 * Prints ONE JSON line to stdout; progress and diagnostics go to stderr.
 *
 * Options (all optional):
 *   --workspaces N        workspaces (streams) the spends are spread over     (default 1000)
 *   --spends N            spends to attempt                                    (default 100000)
 *   --concurrency N       spends in flight                                     (default 1000)
 *   --time-limit S        stop starting new spends after S seconds; in-flight ones finish (default 60)
 *   --store sqlite|memory Emmett's SQLite store (default) or its in-memory store
 *   --pool emmett|serial  sqlite only: Emmett's own pool, a new connection per operation (default),
 *                         or one connection lent to one operation at a time (see serialPool)
 *   --synchronous MODE    PRAGMA synchronous on every SQLite connection: FULL (default, which is
 *                         also SQLite's and so Emmett's default), NORMAL, OFF, EXTRA, or DEFAULT
 *   --retries N           retries of a command on a version conflict          (default 10)
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeciderCommandHandler, getInMemoryEventStore, isExpectedVersionConflictError } from '@event-driven-io/emmett';
import { getSQLiteEventStore, sqliteConnection } from '@event-driven-io/emmett-sqlite';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const require = createRequire(import.meta.url);

// Our decider, compiled (CommonJS) by `npm run build` in the repo root.
const loadBuilt = (path) => {
  try {
    return require(join(repoRoot, 'dist', path));
  } catch (error) {
    throw new Error(`Cannot load dist/${path}: run \`npm run build\` in the repo root first (${error.message})`);
  }
};
const { decide } = loadBuilt('src/domain/decide.js');
const { evolve } = loadBuilt('src/domain/evolve.js');
const { initialState } = loadBuilt('src/domain/state.js');
const { Catalog } = loadBuilt('src/catalog/catalog.js');

const { values: args } = parseArgs({
  options: {
    workspaces: { type: 'string', default: '1000' },
    spends: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '1000' },
    'time-limit': { type: 'string', default: '60' },
    store: { type: 'string', default: 'sqlite' },
    pool: { type: 'string', default: 'emmett' },
    synchronous: { type: 'string', default: 'FULL' },
    retries: { type: 'string', default: '10' },
  },
});
const positive = (name) => {
  const value = Number(args[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
};
const options = {
  workspaces: positive('workspaces'),
  spends: positive('spends'),
  concurrency: positive('concurrency'),
  timeLimitSeconds: positive('time-limit'),
  store: args.store,
  pool: args.pool,
  synchronous: args.synchronous.toUpperCase(),
  retries: Number(args.retries),
};
if (!['sqlite', 'memory'].includes(options.store)) throw new Error('--store must be sqlite or memory');
if (!['emmett', 'serial'].includes(options.pool)) throw new Error('--pool must be emmett or serial');
if (!['FULL', 'NORMAL', 'OFF', 'EXTRA', 'DEFAULT'].includes(options.synchronous)) {
  throw new Error('--synchronous must be FULL, NORMAL, OFF, EXTRA or DEFAULT');
}

const packageVersion = (name) =>
  JSON.parse(readFileSync(join(here, 'node_modules/@event-driven-io', name, 'package.json'), 'utf8')).version;

const catalog = Catalog.load(join(repoRoot, 'config/catalog.json'));
const streamName = (workspaceId) => `workspace-credits-${workspaceId}`;

/**
 * Emmett folds the stream into `initialState()` afresh for every handled command (and every retry),
 * then folds the command's new events into that same state. Our evolve advances the state in place
 * and returns it, which is correct here because the state never outlives one handling attempt.
 * The wrapper hands our evolve only the domain part of Emmett's read event.
 */
const handle = DeciderCommandHandler({
  decide: (command, state) =>
    decide(command, state).map((event) => ({ ...event, metadata: { actorId: command.data.actorId } })),
  evolve: (state, event) => evolve(state, { type: event.type, data: event.data }),
  initialState,
  mapToStreamId: streamName,
  retry: {
    onVersionConflict: {
      retries: options.retries,
      minTimeout: 5,
      maxTimeout: 1000,
      factor: 2,
      randomize: true,
      shouldRetryError: isExpectedVersionConflictError,
    },
  },
});

/**
 * `--pool serial`: one Emmett `sqliteConnection` (which sets journal_mode=WAL), opened once, with
 * PRAGMA synchronous set on it, and lent to one read or append at a time, so that each append is its
 * own BEGIN IMMEDIATE ... COMMIT and resolves only after that COMMIT. (Emmett's own
 * `connectionOptions: { singleton: true }` shares one connection WITHOUT that serialisation: its
 * transaction-nesting counter then folds concurrent appends into one transaction and resolves some of
 * them before anything is committed, so it is not used here.)
 */
function serialPool(fileName, synchronous) {
  const connection = sqliteConnection({ fileName });
  const ready =
    synchronous === 'DEFAULT' ? Promise.resolve() : connection.command(`PRAGMA synchronous = ${synchronous}`);
  let tail = ready;
  const withConnection = (handler) => {
    const run = tail.then(() => handler(connection));
    tail = run.catch(() => undefined);
    return run;
  };
  return {
    connection: async () => {
      await ready;
      return connection;
    },
    withConnection,
    close: async () => {
      await tail;
      connection.close();
    },
  };
}

/**
 * `--pool emmett` (default): Emmett's SQLite store exactly as it comes. Its file pool
 * (SQLiteConnectionPool) opens a new `sqliteConnection` (journal_mode=WAL; synchronous left at
 * SQLite's default, FULL; node-sqlite3's busy_timeout of 1000 ms) for every read or append and closes
 * it afterwards. With `--synchronous` other than DEFAULT/FULL the same pool is rebuilt with the pragma.
 */
function perOperationPool(fileName, synchronous) {
  const open = async () => {
    const connection = sqliteConnection({ fileName });
    await connection.command(`PRAGMA synchronous = ${synchronous}`);
    return connection;
  };
  return {
    connection: open,
    withConnection: async (handler) => {
      const connection = await open();
      try {
        return await handler(connection);
      } finally {
        connection.close();
      }
    },
    close: async () => {},
  };
}

async function openStore() {
  if (options.store === 'memory') {
    return {
      eventStore: getInMemoryEventStore(),
      durability: 'none: in-memory, nothing written to disk',
      close: async () => {},
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'credits-bench-emmett-'));
  const fileName = join(dir, 'events.sqlite');
  let pool;
  if (options.pool === 'serial') pool = serialPool(fileName, options.synchronous);
  else if (!['DEFAULT', 'FULL'].includes(options.synchronous)) pool = perOperationPool(fileName, options.synchronous);
  // Emmett's own store and pool, untouched: SQLite's default synchronous is already FULL.
  const eventStore = pool ? getSQLiteEventStore({ fileName, pool }) : getSQLiteEventStore({ fileName });
  await eventStore.schema.migrate();
  // What a connection of this store runs with: ask one the way the store gets one.
  const probe = pool ?? { withConnection: async (handler) => handler(sqliteConnection({ fileName })) };
  const settings = await probe.withConnection(async (connection) => {
    const journal = await connection.querySingle('PRAGMA journal_mode');
    const sync = await connection.querySingle('PRAGMA synchronous');
    const busy = await connection.querySingle('PRAGMA busy_timeout');
    if (!pool) connection.close();
    return { journal: journal.journal_mode, synchronous: sync.synchronous, busyTimeout: busy.timeout };
  });
  const syncName = ['OFF', 'NORMAL', 'FULL', 'EXTRA'][settings.synchronous] ?? String(settings.synchronous);
  const durability =
    `journal_mode=${settings.journal} synchronous=${syncName} busy_timeout=${settings.busyTimeout}ms; ` +
    (options.pool === 'serial'
      ? 'one connection, one append transaction at a time'
      : "Emmett's pool: a new connection per read/append, concurrent");
  const verify = async () => {
    const connection = sqliteConnection({ fileName });
    try {
      const consumed = await connection.querySingle(
        `SELECT COUNT(*) AS n FROM emt_messages WHERE message_type = 'CreditsConsumed'`,
      );
      // A stream whose emt_streams position ran ahead of its messages refuses every later append.
      const wedged = await connection.querySingle(
        `SELECT COUNT(*) AS n FROM emt_streams s
           WHERE s.stream_position <> (SELECT MAX(m.stream_position) FROM emt_messages m WHERE m.stream_id = s.stream_id)`,
      );
      return { consumedEventsStored: consumed.n, streamsWedged: wedged.n };
    } finally {
      connection.close();
    }
  };
  return {
    eventStore,
    durability,
    verify,
    close: async () => {
      await pool?.close();
      await eventStore.close?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const errorKind = (error) => {
  if (isExpectedVersionConflictError(error)) return 'versionConflict';
  if (error && typeof error === 'object' && 'code' in error) return String(error.code);
  return error instanceof Error ? error.name : 'unknown';
};

// Emmett's SQLite connection logs every failed transaction with console.log; keep stdout for the result.
let loggedByEmmett = 0;
console.log = () => {
  loggedByEmmett++;
};

async function main() {
  const store = await openStore();
  try {
    const rate = catalog.rate('PERSON_ENRICHMENT');
    for (let w = 0; w < options.workspaces; w++) {
      await handle(store.eventStore, `ws-${w}`, {
        type: 'GrantCredits',
        data: {
          workspaceId: `ws-${w}`,
          credits: 10_000_000,
          reason: 'bench',
          idempotencyKey: 'seed',
          grantId: randomUUID(),
          grantedBy: 'bench',
          now: new Date(),
        },
      });
    }

    let succeeded = 0;
    const failures = {};
    let next = 0;
    let stoppedEarly = false;
    const started = performance.now();
    const deadline = started + options.timeLimitSeconds * 1000;
    const progress = setInterval(() => {
      const seconds = (performance.now() - started) / 1000;
      console.error(`emmett peer: ${succeeded} spends committed after ${seconds.toFixed(1)} s`);
    }, 10_000);
    const consume = async (i) => {
      const workspaceId = `ws-${i % options.workspaces}`;
      // As CreditsCommands.consumeCredits builds it: the catalog's rate, a new id, the clock's now.
      const command = {
        type: 'ConsumeCredits',
        data: {
          workspaceId,
          action: 'PERSON_ENRICHMENT',
          units: 1,
          idempotencyKey: `k${i}`,
          consumptionId: randomUUID(),
          creditsPerUnit: rate.creditsPerUnit,
          actorId: 'member',
          now: new Date(),
        },
      };
      try {
        await handle(store.eventStore, workspaceId, command);
        succeeded++;
      } catch (error) {
        const kind = errorKind(error);
        if (failures[kind] === undefined) console.error(`emmett peer: first ${kind} failure:`, error);
        failures[kind] = (failures[kind] ?? 0) + 1;
      }
    };
    const worker = async () => {
      while (next < options.spends) {
        if (performance.now() > deadline) {
          stoppedEarly = true;
          return;
        }
        await consume(next++);
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.spends) }, worker));
    const seconds = (performance.now() - started) / 1000;
    clearInterval(progress);

    const failed = Object.values(failures).reduce((sum, n) => sum + n, 0);
    const check = store.verify ? await store.verify() : undefined;
    const result = {
      spends: succeeded,
      seconds: Math.round(seconds * 1000) / 1000,
      spendsPerSecond: Math.round(succeeded / seconds),
      store: options.store,
      ...(options.store === 'sqlite' && { pool: options.pool }),
      durability: store.durability,
      requested: options.spends,
      attempted: next,
      failed,
      failures,
      stoppedEarly,
      workspaces: options.workspaces,
      concurrency: options.concurrency,
      retriesOnVersionConflict: options.retries,
      ...(check && { check }),
      emmett: { emmett: packageVersion('emmett'), 'emmett-sqlite': packageVersion('emmett-sqlite') },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await store.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
