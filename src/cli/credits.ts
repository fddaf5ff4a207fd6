/**
 * `npm run credits -- <command>`: the analysts' and operators' tool.
 *
 *   replay [projection...]        rebuild every (or the named) read model from the start of the log
 *   replay --projection <file>    run your own projection module over the whole history
 *   export --format csv|ndjson|parquet   stream the ledger, filtered by workspace and time range
 *   seed                          give a workspace this month's plan allowance through the running server
 *
 * `npm run --silent credits -- …` or `npx credits …` (bin/credits.js) keep npm's banner out of stdout.
 * Run replay with the server stopped: it empties the read models it rebuilds.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { requestRetry } from '../../reactions/attempt-events';
import { WorkReader } from '../../reactions/work-reader';
import { openReadModelDb } from '../../projections/read-model-db';
import { projectionStatuses } from '../../projections/statuses';
import { LOG_FOLLOWERS } from '../server/log-followers';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CreditLedgerReader } from '../../projections/credit-ledger-reader';
import { ProjectionRunner } from '../../projections/runner';
import { resolveJwtSecret } from '../auth/tokens';
import { loadConfig, type Config } from '../server/config';
import { checkDataFiles } from '../server/data-dir-check';
import { lockDataDir } from '../server/data-dir-lock';
import { openStores } from '../server/stores';
import { backupDataDir } from './backup';
import { EXPORT_FORMATS, exportLedger, type ExportFormat } from './export-ledger';
import { exportLedgerParquet } from './export-parquet';
import { seedWorkspace } from './seed';
import { loadAnalystProjection, rebuildProjections, runAnalystProjection, type ReplaySummary } from './replay';

/** A date, or a date and time with its offset (Z or ±hh:mm): a time without one would be read as local. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Whether the date and time written in `value` are the ones `date` holds (read at the offset written). */
function sameWallClock(value: string, date: Date): boolean {
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(value);
  const shift = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000 : 0;
  // Up to the seconds: a fraction finer than Date keeps (microseconds) is not a different instant.
  const written = value.replace(/(Z|[+-]\d{2}:\d{2})$/, '').replace(/\.\d+$/, '');
  return new Date(date.getTime() + shift).toISOString().startsWith(written);
}

const parseInstant = (value: string): Date => {
  const date = new Date(value);
  // A date that does not exist (2026-02-30, 24:00) is rolled over by Date: refused, not guessed.
  const exists = !Number.isNaN(date.getTime()) && sameWallClock(value, date);
  if (!ISO_INSTANT.test(value) || !exists) {
    throw new InvalidArgumentError(
      `Not an ISO-8601 instant: ${value} (a date, 2026-12-01, or a time with its offset, 2026-12-01T09:00:00Z)`,
    );
  }
  return date;
};

const parsePosition = (value: string): bigint => {
  if (!/^\d{1,19}$/.test(value)) {
    throw new InvalidArgumentError(`Not a log position: ${value} (a whole number, the position column of an export)`);
  }
  return BigInt(value);
};

interface ExportOptions {
  format: ExportFormat;
  workspace?: string;
  from?: Date;
  to?: Date;
  after?: bigint;
  out?: string;
}

/** The exit code of a command line that contradicts itself, as for any other usage error. */
const USAGE_ERROR = 2;

const report = (summary: ReplaySummary): void => {
  console.error(
    `replayed ${summary.events} events in ${summary.seconds.toFixed(2)} s (${summary.eventsPerSecond.toLocaleString('en-US')} events/s)`,
  );
};

/**
 * The tools read what a server wrote. A DATA_DIR without it is a mistyped path, not an empty log:
 * refused, rather than made (a new log, with an identity of its own) and reported as 0 events.
 */
function mustHave(config: Config, what: 'event log' | 'read models'): void {
  const file = what === 'event log' ? config.eventStoreFile : config.readModelFile;
  if (!(what === 'event log' && config.eventStoreUrl) && !existsSync(file)) {
    throw new Error(
      `${file} does not exist: DATA_DIR (${config.dataDir}) holds no ${what}. ` +
        'Set DATA_DIR to the directory the server uses (this tool never creates one).',
    );
  }
  // A damaged file is named, with what to do, as the server does: not SQLite's bare "file is not a
  // database". Only the files the tool reads: a damaged read-model file must not stop a backup.
  checkDataFiles(config, [what]);
}

// Usage errors (commander's own and ours) are thrown, not exited on, so that they all leave with
// USAGE_ERROR below; the subcommands inherit this setting.
const program = new Command('credits')
  .description('Replay, export and back up the credit history; seed a workspace; look at read models and reactions')
  .exitOverride();

program
  .command('replay')
  .description('Rebuild read models from the whole event log, or run your own projection over it')
  .argument(
    '[projections...]',
    `read models to rebuild (default: all of ${LOG_FOLLOWERS.map((p) => p.name).join(', ')})`,
  )
  .option('--projection <file>', 'a module exporting init(), apply(state, event) and optionally result(state)')
  .option('--out <file>', 'write the analyst projection result (JSON) to a file instead of stdout')
  .option('--no-progress', 'do not draw the progress bar')
  .action(async (names: string[], options: { projection?: string; out?: string; progress: boolean }) => {
    const config = loadConfig();
    mustHave(config, 'event log');
    checkDataFiles(config, ['read models']);
    // A rebuild empties the read models first: never under a server that is writing them.
    const lock = options.projection ? undefined : lockDataDir(config.dataDir, 'credits replay', { server: false });
    const { store, readModels } = await openStores(config, { readOnly: true });
    try {
      if (options.projection) {
        const projection = await loadAnalystProjection(options.projection);
        const { result, summary } = await runAnalystProjection(store, projection, options);
        const json = `${JSON.stringify(result, null, 2)}\n`;
        if (options.out) await writeFile(options.out, json);
        else process.stdout.write(json);
        report(summary);
        return;
      }
      const unknown = names.filter((name) => !LOG_FOLLOWERS.some((projection) => projection.name === name));
      if (unknown.length > 0) throw new Error(`Unknown projection(s): ${unknown.join(', ')}`);
      const chosen =
        names.length === 0 ? LOG_FOLLOWERS : LOG_FOLLOWERS.filter((projection) => names.includes(projection.name));
      const summary = await rebuildProjections(store, readModels, chosen, options);
      console.error(`rebuilt ${chosen.map((projection) => projection.name).join(', ')}`);
      report(summary);
    } finally {
      await store.close();
      readModels.close();
      lock?.release();
    }
  });

program
  .command('backup')
  .description(
    'Copy the event log consistently while the server runs (and the development secrets), into a new directory',
  )
  .argument('<dir>', 'a new or empty directory; start a server with DATA_DIR=<dir> to restore')
  .action((dir: string) => {
    const config = loadConfig();
    mustHave(config, 'event log');
    const { file, events, secrets } = backupDataDir(config, dir);
    console.error(
      `backed up ${events.toLocaleString('en-US')} events to ${file}${secrets.length > 0 ? ` (and ${secrets.join(', ')})` : ''}`,
    );
  });

program
  .command('export')
  .description('Stream ledger entries, oldest first')
  .addOption(new Option('--format <format>', 'output format').choices(EXPORT_FORMATS).default('csv'))
  .option('--workspace <id>', 'only this workspace')
  .option('--from <instant>', 'entries that occurred at or after this ISO-8601 instant', parseInstant)
  .option('--to <instant>', 'entries that occurred before this ISO-8601 instant', parseInstant)
  .option(
    '--after <position>',
    'entries recorded after this log position (the last position an earlier export wrote)',
    parsePosition,
  )
  .option('--out <file>', 'write to a file instead of stdout (parquet: required)')
  .action(async (options: ExportOptions) => {
    if (options.format === 'parquet' && !options.out) {
      program.error('error: --format parquet writes a file: give it --out <file>.', {
        exitCode: USAGE_ERROR,
        code: 'credits.parquetNeedsOut',
      });
    }
    // An empty range is a mistake in the command, not an empty ledger: say so instead of exporting nothing.
    if (options.from && options.to && options.from >= options.to) {
      program.error(
        `error: --from ${options.from.toISOString()} is not earlier than --to ${options.to.toISOString()}: no entry can match.`,
        { exitCode: USAGE_ERROR, code: 'credits.emptyRange' },
      );
    }
    const config = loadConfig();
    // The ledger is brought up to date from the log before exporting: only the log must be there.
    mustHave(config, 'event log');
    checkDataFiles(config, ['read models']);
    const { store, readModels } = await openStores(config, { readOnly: true });
    try {
      // Bring the ledger up to the head of the log first; safe while a server projects too.
      const runner = new ProjectionRunner(store, readModels, LOG_FOLLOWERS);
      await runner.start();
      await runner.stop();
      const entries = new CreditLedgerReader(readModels).entries(options.workspace, {
        ...options,
        afterPosition: options.after,
      });
      const count =
        options.format === 'parquet'
          ? await exportLedgerParquet(entries, options.out as string)
          : await exportLedger(entries, options.format, options.out ? createWriteStream(options.out) : process.stdout);
      console.error(`exported ${count} ledger entries`);
    } finally {
      await store.close();
      readModels.close();
    }
  });

program
  .command('projections')
  .description('Show where each read model and reaction has projected the log to, and any that stopped, with why')
  .action(() => {
    const config = loadConfig();
    mustHave(config, 'read models');
    const readModels = openReadModelDb(config.readModelFile);
    try {
      const statuses = projectionStatuses(readModels, LOG_FOLLOWERS);
      for (const status of statuses) console.log(JSON.stringify(status));
      const unbuilt = statuses.filter((status) => status.position === null).map((status) => status.name);
      if (unbuilt.length > 0) {
        console.error(
          `${unbuilt.join(', ')}: nothing projected yet (a \`credits replay\` stopped before its first batch, or no server has run on these read models). The server builds them when it starts; \`credits replay\` rebuilds them now.`,
        );
      }
    } finally {
      readModels.close();
    }
  });

program
  .command('reactions')
  .description("List the reactions' parked work (side effects that kept failing), or retry one")
  .option('--retry <reaction:key>', 'try a parked piece of work again, with its retries afresh')
  .action(async (options: { retry?: string }) => {
    const config = loadConfig();
    mustHave(config, 'read models');
    if (!options.retry) {
      const readModels = openReadModelDb(config.readModelFile);
      try {
        const parked = new WorkReader(readModels).parked();
        for (const work of parked) console.log(JSON.stringify(work));
        // On stderr: stdout stays one JSON line per parked piece, for scripts.
        if (parked.length === 0)
          console.error('No parked work: every side effect was performed or is waiting its turn.');
      } finally {
        readModels.close();
      }
      return;
    }
    const separator = options.retry.indexOf(':');
    if (separator < 1) throw new Error('--retry takes <reaction>:<key>, e.g. payments:refund:acme:refund_1a2b');
    checkDataFiles(config, ['event log']);
    const work = { reaction: options.retry.slice(0, separator), key: options.retry.slice(separator + 1) };
    // A mistyped reaction or key would be recorded, and the real work left parked: refused instead.
    const readModels = openReadModelDb(config.readModelFile);
    try {
      if (!new WorkReader(readModels).item(work.reaction, work.key)) {
        throw new Error(
          `No work "${options.retry}" waits: \`credits reactions\` lists the parked work as <reaction> and <key>.`,
        );
      }
    } finally {
      readModels.close();
    }
    const { store } = await openStores(config);
    try {
      await requestRetry(store, work, 'cli', new Date());
      console.error(`asked for ${options.retry} to be retried`);
    } finally {
      await store.close();
    }
  });

program
  .command('seed')
  .description("Give a workspace this calendar month's plan allowance through the running server's API")
  .option('--workspace <id>', 'the workspace', 'acme')
  .option('--plan <id>', 'the plan', 'growth')
  .option('--url <url>', 'the server (default: http://127.0.0.1:$PORT)')
  .action(async (options: { workspace: string; plan: string; url?: string }) => {
    const config = loadConfig();
    const answer = await seedWorkspace({
      url: options.url ?? `http://127.0.0.1:${config.port}`,
      jwtSecret: resolveJwtSecret(config.jwtSecret, config.dataDir, config.production),
      workspaceId: options.workspace,
      planId: options.plan,
    });
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  });

// `credits export | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

program.parseAsync().catch((error: unknown) => {
  // Commander has printed its message already; --help and --version end with exit code 0.
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : USAGE_ERROR);
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
