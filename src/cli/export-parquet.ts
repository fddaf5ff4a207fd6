/**
 * The ledger as an Apache Parquet file: typed columns that DuckDB, pandas or Spark read without
 * parsing text. hyparquet-writer is pure JavaScript (no native build, one dependency); it is an ES
 * module, loaded with import() only when this format is asked for. Entries are written one row
 * group at a time, so memory stays flat however long the ledger is, as with CSV and NDJSON.
 */
import type { BasicType, ColumnSource } from 'hyparquet-writer';
import type { LedgerEntry } from '../../projections/credit-ledger';
import { COLUMNS, toRecord, type LedgerRecord } from './export-ledger';

/** Entries per row group: a few MB of column values at a time. */
const ROW_GROUP_ENTRIES = 10_000;

/** Each column's Parquet type, and the value when it is not the record's own. */
const PARQUET_COLUMNS: Record<
  keyof LedgerRecord,
  { type: BasicType; nullable: boolean; value?: (entry: LedgerEntry) => unknown }
> = {
  id: { type: 'STRING', nullable: false },
  position: { type: 'INT64', nullable: false, value: (entry) => entry.position },
  workspaceId: { type: 'STRING', nullable: false },
  type: { type: 'STRING', nullable: false },
  occurredAt: { type: 'TIMESTAMP', nullable: false, value: (entry) => entry.occurredAt },
  credits: { type: 'INT64', nullable: false, value: (entry) => BigInt(entry.credits) },
  balanceAfter: { type: 'INT64', nullable: false, value: (entry) => BigInt(entry.balanceAfter) },
  source: { type: 'STRING', nullable: true },
  action: { type: 'STRING', nullable: true },
  units: { type: 'INT32', nullable: true },
  actorId: { type: 'STRING', nullable: true },
  reference: { type: 'STRING', nullable: true },
  refundedCredits: { type: 'INT64', nullable: false, value: (entry) => BigInt(entry.refundedCredits) },
  grants: { type: 'JSON', nullable: false },
  amount: { type: 'INT64', nullable: true, value: (entry) => (entry.money ? BigInt(entry.money.amount) : null) },
  currency: { type: 'STRING', nullable: true },
  consumptionId: { type: 'STRING', nullable: true },
  purchaseId: { type: 'STRING', nullable: true },
  packageId: { type: 'STRING', nullable: true },
  packageName: { type: 'STRING', nullable: true },
  refundId: { type: 'STRING', nullable: true },
  refundStatus: { type: 'STRING', nullable: true },
  disputeId: { type: 'STRING', nullable: true },
  planId: { type: 'STRING', nullable: true },
  planName: { type: 'STRING', nullable: true },
  reason: { type: 'STRING', nullable: true },
  holdId: { type: 'STRING', nullable: true },
  spentCredits: { type: 'INT64', nullable: false, value: (entry) => BigInt(entry.spentCredits) },
};

function columnsOf(entries: readonly LedgerEntry[]): ColumnSource[] {
  const records = entries.map(toRecord);
  return COLUMNS.map((name) => {
    const { type, nullable, value } = PARQUET_COLUMNS[name];
    const data = value ? entries.map(value) : records.map((record) => record[name]);
    return { name, type, nullable, data };
  });
}

/** Writes every entry to `file`; resolves with how many were written. */
export async function exportLedgerParquet(entries: Iterable<LedgerEntry>, file: string): Promise<number> {
  const { ParquetWriter, fileWriter, schemaFromColumnData } = await import('hyparquet-writer');
  const writer = new ParquetWriter({
    writer: fileWriter(file),
    schema: schemaFromColumnData({ columnData: columnsOf([]) }),
    createdBy: 'credits export',
  });
  let count = 0;
  let group: LedgerEntry[] = [];
  const flush = async () => {
    if (group.length === 0) return;
    await writer.write({ columnData: columnsOf(group), rowGroupSize: group.length });
    group = [];
  };
  for (const entry of entries) {
    group.push(entry);
    count++;
    if (group.length === ROW_GROUP_ENTRIES) await flush();
  }
  await flush();
  await writer.finish();
  return count;
}
