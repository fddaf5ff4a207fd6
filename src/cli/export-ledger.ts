/**
 * Streams ledger entries as CSV or NDJSON. Rows come from a SQLite cursor one at a time and go out
 * through a stream that respects back-pressure, so memory stays flat however long the ledger is.
 */
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { LedgerEntry } from '../../projections/credit-ledger';

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One flat record per entry: the same fields in both formats. */
const toRecord = (entry: LedgerEntry) => ({
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
  grants: entry.grants.map((grant) => `${grant.grantId}:${grant.source}:${grant.credits}`).join(' '),
});

const COLUMNS = Object.keys(toRecord({ position: 0n, occurredAt: new Date(0), grants: [] } as unknown as LedgerEntry));

function formatter(format: ExportFormat): Transform {
  if (format === 'csv') return stringify({ header: true, columns: COLUMNS, cast: { number: String } });
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
  format: ExportFormat,
  out: Writable,
): Promise<number> {
  let count = 0;
  const records = Readable.from(
    (function* () {
      for (const entry of entries) {
        count++;
        yield toRecord(entry);
      }
    })(),
    { highWaterMark: 256 },
  );
  await pipeline(records, formatter(format), out);
  return count;
}
