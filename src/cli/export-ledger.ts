/**
 * Streams ledger entries as CSV or NDJSON. Rows come from a SQLite cursor one at a time and go out
 * through a stream that respects back-pressure, so memory stays flat however long the ledger is.
 *
 * CSV is opened by spreadsheets, and a text cell starting with =, +, -, @, a tab or a carriage
 * return would run there as a formula (a spend's `reference` is the caller's free text). Such
 * cells are prefixed with a single quote, OWASP's rule for CSV injection, by csv-stringify's
 * `escape_formulas`; numbers, negative credits included, are not text and stay numbers.
 */
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { LedgerEntry } from '../../projections/credit-ledger';

/** Formats written as a stream (to stdout or a file); Parquet (export-parquet.ts) needs a file. */
export const STREAM_FORMATS = ['csv', 'ndjson'] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];
export const EXPORT_FORMATS = [...STREAM_FORMATS, 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One record per entry, the same fields in every format; grants stay objects. */
export const toRecord = (entry: LedgerEntry) => ({
  id: entry.id,
  position: entry.position.toString(),
  workspaceId: entry.workspaceId,
  type: entry.type,
  occurredAt: entry.occurredAt.toISOString(),
  credits: entry.credits,
  balanceAfter: entry.balanceAfter,
  source: entry.source ?? null,
  action: entry.action ?? null,
  units: entry.units ?? null,
  actorId: entry.actorId ?? null,
  reference: entry.reference ?? null,
  refundedCredits: entry.refundedCredits,
  grants: entry.grants.map(({ grantId, source, credits }) => ({ grantId, source, credits })),
  // Money of purchases, refunds and chargebacks: minor units, signed as credits are.
  amount: entry.money?.amount ?? null,
  currency: entry.money?.currency ?? null,
  // What the entry is about (after the columns earlier releases wrote, which keep their places).
  consumptionId: entry.consumptionId ?? null,
  purchaseId: entry.purchaseId ?? null,
  packageId: entry.packageId ?? null,
  packageName: entry.packageName ?? null,
  refundId: entry.refundId ?? null,
  refundStatus: entry.refundStatus ?? null,
  disputeId: entry.disputeId ?? null,
  planId: entry.planId ?? null,
  planName: entry.planName ?? null,
  reason: entry.reason ?? null,
  // Holds (after the columns above): which hold a row reserves, settles, releases or expires, and
  // what a row really spent (a settle's cost, beside the credits it gave back).
  holdId: entry.holdId ?? null,
  spentCredits: entry.spentCredits,
});
export type LedgerRecord = ReturnType<typeof toRecord>;

export const COLUMNS = Object.keys(
  toRecord({ position: 0n, occurredAt: new Date(0), grants: [] } as unknown as LedgerEntry),
) as (keyof LedgerRecord)[];

/** A CSV cell holds one value: each grant as `grantId:SOURCE:credits`, separated by spaces. */
const withFlatGrants = (record: LedgerRecord) => ({
  ...record,
  grants: record.grants.map((grant) => `${grant.grantId}:${grant.source}:${grant.credits}`).join(' '),
});

function formatter(format: StreamFormat): Transform {
  if (format === 'csv') {
    return stringify({ header: true, columns: COLUMNS, cast: { number: String }, escape_formulas: true });
  }
  return new Transform({
    writableObjectMode: true,
    transform(record: object, _encoding, done) {
      done(null, `${JSON.stringify(record)}\n`);
    },
  });
}

/** Writes every entry to `out`; resolves with how many were written. */
export async function exportLedger(
  entries: Iterable<LedgerEntry>,
  format: StreamFormat,
  out: Writable,
): Promise<number> {
  let count = 0;
  const shape = format === 'csv' ? withFlatGrants : (record: LedgerRecord) => record;
  const records = Readable.from(
    (function* () {
      for (const entry of entries) {
        count++;
        yield shape(toRecord(entry));
      }
    })(),
    { highWaterMark: 256 },
  );
  await pipeline(records, formatter(format), out);
  return count;
}
