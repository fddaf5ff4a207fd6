/**
 * The analysts' CLI: replay rebuilds read models identical to the live ones, runs an analyst's own
 * projection, and export streams the ledger as CSV or NDJSON with filters.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  ApplyPlanAllowanceDocument,
  ConsumeCreditsDocument,
  GrantCreditsDocument,
  PurchaseCreditsDocument,
} from '../generated/graphql';
import { expectData } from '../support/graphql-client';
import { runCreditsCli, spawnCreditsCli } from '../support/cli';
import { adminToken, newDataDir, startServer, tokenFor } from '../support/server-process';
import { LOG_FOLLOWERS } from '../../src/server/log-followers';

const DAY = 24 * 60 * 60 * 1000;
let dataDir: string;
let seededUntil: Date;

/** A small but varied history in two workspaces, written through the real server. */
beforeAll(async () => {
  dataDir = newDataDir();
  const server = await startServer({ dataDir });
  // A set-up that fails still stops its server: nothing is left running after the tests.
  try {
    const admin = adminToken();
    const period = {
      periodStart: new Date(Date.now() - DAY).toISOString(),
      periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
    };
    for (const workspaceId of ['acme', 'globex']) {
      await expectData(
        server.url,
        ApplyPlanAllowanceDocument,
        { input: { workspaceId, planId: 'starter', ...period } },
        admin,
      );
      await expectData(
        server.url,
        PurchaseCreditsDocument,
        { input: { workspaceId, packageId: 'credits-500', paymentReference: `inv-${workspaceId}` } },
        admin,
      );
      await expectData(
        server.url,
        GrantCreditsDocument,
        { input: { workspaceId, credits: 30, reason: 'sorry', idempotencyKey: 'g' } },
        admin,
      );
      for (let i = 0; i < 6; i++) {
        await expectData(
          server.url,
          ConsumeCreditsDocument,
          {
            input: {
              workspaceId,
              action: i % 2 ? 'ORG_CHART_SYNC' : 'PERSON_ENRICHMENT',
              units: 2,
              idempotencyKey: `k${i}`,
            },
          },
          tokenFor(workspaceId, 'MEMBER'),
        );
      }
    }
    seededUntil = new Date();
  } catch (error) {
    await server.stop();
    throw error;
  }
  expect(await server.stop()).toBe(0);
});

function dumpReadModels(): Record<string, unknown[]> {
  const db = new BetterSqlite3(join(dataDir, 'read-models.sqlite'), { readonly: true });
  try {
    return Object.fromEntries(
      ['balance_workspaces', 'balance_grants', 'ledger_entries', 'ledger_balances', 'projection_checkpoints'].map(
        (table) => [table, db.prepare(`SELECT * FROM ${table} ORDER BY 1`).all()],
      ),
    );
  } finally {
    db.close();
  }
}

it('rebuilds read models identical to the ones the live server built, and reports its speed', () => {
  const live = dumpReadModels();
  expect(live.ledger_entries).toHaveLength(2 * 9);
  const { stderr } = runCreditsCli(dataDir, ['replay', '--no-progress']);
  expect(stderr).toMatch(/rebuilt workspace-balance, credit-ledger/);
  expect(stderr).toMatch(/replayed 18 events in \d+\.\d+ s \([\d,]+ events\/s\)/);
  expect(dumpReadModels()).toEqual(live);
});

it('rebuilds only the named read model, and refuses an unknown one', () => {
  const live = dumpReadModels();
  const { stderr } = runCreditsCli(dataDir, ['replay', 'credit-ledger', '--no-progress']);
  expect(stderr).toMatch(/rebuilt credit-ledger\n/);
  expect(dumpReadModels()).toEqual(live);
  expect(() => runCreditsCli(dataDir, ['replay', 'no-such-model'])).toThrow(/Unknown projection\(s\): no-such-model/);
});

it('lists every read model, and names those a replay cut off before its first batch', () => {
  const copy = newDataDir();
  cpSync(dataDir, copy, { recursive: true });
  // What a replay killed before its first batch leaves: the tables emptied and the checkpoints gone.
  const db = new BetterSqlite3(join(copy, 'read-models.sqlite'));
  db.prepare("DELETE FROM projection_checkpoints WHERE name IN ('credit-ledger', 'workspace-balance')").run();
  db.close();
  const listed = () => {
    const { stdout, stderr } = spawnCreditsCli(copy, ['projections']);
    return {
      stderr,
      statuses: stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { name: string; position: string | null }),
    };
  };
  const cut = listed();
  expect(cut.statuses.map((status) => status.name)).toEqual(LOG_FOLLOWERS.map((projection) => projection.name).sort());
  const unbuilt = cut.statuses.filter((status) => status.position === null).map((status) => status.name);
  expect(unbuilt).toEqual(['credit-ledger', 'workspace-balance']);
  expect(cut.stderr).toMatch(
    /^credit-ledger, workspace-balance: nothing projected yet .*`credits replay` rebuilds them now\.\n$/,
  );

  runCreditsCli(copy, ['replay', '--no-progress']);
  const rebuilt = listed();
  expect(rebuilt.statuses.every((status) => status.position === '18')).toBe(true);
  expect(rebuilt.stderr).toBe('');
});

it('refuses a DATA_DIR that holds no log or read models, and makes nothing there', () => {
  const mistyped = join(dataDir, 'no-such-dir');
  for (const args of [['replay', '--no-progress'], ['export'], ['projections'], ['reactions']]) {
    const result = spawnCreditsCli(mistyped, args);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/does not exist: DATA_DIR \(.*no-such-dir\) holds no (event log|read models)\./);
    expect(existsSync(mistyped)).toBe(false);
  }
});

it('names a damaged database a tool reads, and what to do with it, and changes nothing', () => {
  for (const [name, advice, readers, others] of [
    [
      'events.sqlite',
      /It is the event log, the only record of every credit: restore it from a backup/,
      [['replay', '--no-progress'], ['export'], ['backup', 'bk']],
      [['projections'], ['reactions']],
    ],
    [
      'read-models.sqlite',
      /It holds only read models, which the event log rebuilds/,
      [['replay', '--no-progress'], ['export'], ['projections'], ['reactions']],
      // A backup reads the event log alone: a damaged read-model file does not stop it.
      [['backup', 'bk']],
    ],
  ] as const) {
    const copy = newDataDir();
    cpSync(dataDir, copy, { recursive: true });
    const file = join(copy, name);
    for (const suffix of ['-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const withDir = (args: readonly string[]) => args.map((arg) => (arg === 'bk' ? join(copy, 'bk') : arg));
    for (const args of readers) {
      const result = spawnCreditsCli(copy, withDir(args));
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`${file} is not a readable SQLite database`);
      expect(result.stderr).toMatch(advice);
      expect(readFileSync(file)).toEqual(Buffer.alloc(8192, 0x5a));
    }
    for (const args of others) expect(spawnCreditsCli(copy, withDir(args)).status).toBe(0);
  }
});

it('counts in the example projection what creditUsage counts: settled holds, net of spends given back', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the example is a CommonJS module
  const example = require('../fixtures/analyst-projection.js') as {
    init(): unknown;
    apply(state: unknown, event: { type: string; data: Record<string, unknown> }): unknown;
    result(state: unknown): unknown;
  };
  let state = example.init();
  for (const event of [
    { type: 'CreditsConsumed', data: { consumptionId: 'c1', action: 'PERSON_ENRICHMENT', credits: 70 } },
    { type: 'CreditHoldSettled', data: { consumptionId: 'c2', action: 'ORG_CHART_GENERATION', credits: 300 } },
    { type: 'CreditConsumptionRefunded', data: { consumptionId: 'c1', credits: 14 } },
    { type: 'CreditConsumptionRefunded', data: { consumptionId: 'c2', credits: 100 } },
  ]) {
    state = example.apply(state, event);
  }
  expect(example.result(state)).toEqual({
    events: 4,
    creditsByAction: { PERSON_ENRICHMENT: 56, ORG_CHART_GENERATION: 200 },
    purchasesByProvider: {},
  });
});

it('names the event a custom projection failed on, with its error', () => {
  const run = spawnCreditsCli(dataDir, [
    'replay',
    '--projection',
    resolve(__dirname, '../fixtures/failing-projection.js'),
    '--no-progress',
  ]);
  expect(run.status).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(
    /^apply\(\) failed on the event at position 1 \(PlanAllowanceApplied in stream workspace-credits-acme, revision 0, id [\w-]+\): Cannot read properties of undefined \(reading 'toLowerCase'\)\n$/,
  );
});

it('exports one workspace as CSV, oldest first, with a header', () => {
  const { stdout } = runCreditsCli(dataDir, ['export', '--format', 'csv', '--workspace', 'globex']);
  const [header, ...rows] = stdout.trim().split('\n');
  expect(header).toBe(
    'id,position,workspaceId,type,occurredAt,credits,balanceAfter,source,action,units,actorId,reference,refundedCredits,grants,amount,currency,' +
      'consumptionId,purchaseId,packageId,packageName,refundId,refundStatus,disputeId,planId,planName,reason,holdId,spentCredits',
  );
  expect(rows).toHaveLength(9);
  expect(rows.every((row) => row.split(',')[2] === 'globex')).toBe(true);
  expect(rows.map((row) => row.split(',')[3])).toEqual([
    'PLAN_ALLOWANCE',
    'PURCHASE',
    'PROMOTIONAL_GRANT',
    ...Array<string>(6).fill('CONSUMPTION'),
  ]);
  expect(rows.map((row) => Number(row.split(',')[6]))).toEqual([1000, 1500, 1530, 1516, 1316, 1302, 1102, 1088, 888]);
});

it('exports NDJSON filtered by a time range', () => {
  const everything = runCreditsCli(dataDir, ['export', '--format', 'ndjson']).stdout.trim().split('\n');
  expect(everything).toHaveLength(18);
  const records = everything.map((line) => JSON.parse(line) as { occurredAt: string; position: string });
  const middle = records[9]!.occurredAt;
  const later = runCreditsCli(dataDir, [
    'export',
    '--format',
    'ndjson',
    '--from',
    middle,
    '--to',
    seededUntil.toISOString(),
    '--out',
    join(dataDir, 'later.ndjson'),
  ]);
  expect(later.stderr).toMatch(/exported \d+ ledger entries/);
  const exported = readFileSync(join(dataDir, 'later.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { occurredAt: string });
  expect(exported.length).toBeGreaterThan(0);
  expect(exported.length).toBe(records.filter((record) => record.occurredAt >= middle).length);
  expect(exported.every((record) => record.occurredAt >= middle)).toBe(true);
});

it('exports what was recorded after a log position, for an incremental export, and refuses a position that is not one', () => {
  const everything = runCreditsCli(dataDir, ['export', '--format', 'ndjson']).stdout.trim().split('\n');
  const lastWritten = (JSON.parse(everything[11]!) as { position: string }).position;
  const since = runCreditsCli(dataDir, ['export', '--format', 'ndjson', '--after', lastWritten]).stdout.trim();
  expect(since.split('\n')).toEqual(everything.slice(12));
  const newest = (JSON.parse(everything[everything.length - 1]!) as { position: string }).position;
  expect(runCreditsCli(dataDir, ['export', '--format', 'ndjson', '--after', newest]).stdout).toBe('');

  for (const value of ['-1', 'abc', '1.5', '']) {
    const refused = spawnCreditsCli(dataDir, ['export', '--after', value]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('Not a log position');
    expect(refused.stdout).toBe('');
  }
});

it('refuses a malformed instant, and a time without its offset (it would be read as local time)', () => {
  for (const value of [
    'last tuesday',
    'hello 2026',
    '1',
    'Dec 3 2026',
    '2026-12-03T13:23:02',
    '2026-13-45',
    '2026-02-30',
    '2026-12-01T24:00:00Z',
  ]) {
    expect(() => runCreditsCli(dataDir, ['export', '--from', value])).toThrow(/Not an ISO-8601 instant/);
  }
});
