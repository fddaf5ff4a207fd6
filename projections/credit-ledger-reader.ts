/**
 * Reads the credit ledger: pages of entries newest first, usage totals, and a streaming iterator
 * for exports. Cursors are opaque to clients; inside they are the entry's global position.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { CreditAction, Drawdown, GrantSource } from '../src/domain/credits';
import type { LedgerEntry, LedgerEntryType } from './credit-ledger';

interface EntryRow {
  position: number;
  entry_id: string;
  workspace_id: string;
  type: LedgerEntryType;
  occurred_at: number;
  credits: number;
  balance_after: number;
  source: GrantSource | null;
  action: CreditAction | null;
  units: number | null;
  actor_id: string | null;
  reference: string | null;
  grants: string;
  refunded_credits: number;
  amount: number | null;
  currency: string | null;
}

const toEntry = (row: EntryRow): LedgerEntry => ({
  id: row.entry_id,
  position: BigInt(row.position),
  workspaceId: row.workspace_id,
  type: row.type,
  occurredAt: new Date(row.occurred_at),
  credits: row.credits,
  balanceAfter: row.balance_after,
  source: row.source ?? undefined,
  action: row.action ?? undefined,
  units: row.units ?? undefined,
  actorId: row.actor_id ?? undefined,
  reference: row.reference ?? undefined,
  grants: JSON.parse(row.grants) as Drawdown[],
  refundedCredits: row.refunded_credits,
  money: row.amount !== null && row.currency !== null ? { amount: row.amount, currency: row.currency } : undefined,
});

export interface LedgerFilter {
  types?: readonly LedgerEntryType[] | undefined;
  /** Inclusive. */
  from?: Date | undefined;
  /** Exclusive. */
  to?: Date | undefined;
}

export const USAGE_GROUPINGS = ['ACTION', 'MEMBER', 'DAY'] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

export interface UsageTotal {
  /** The action, the member's id, or the UTC day (YYYY-MM-DD). */
  key: string;
  credits: number;
  count: number;
}

const USAGE_KEY: Record<UsageGrouping, string> = {
  ACTION: 'action',
  MEMBER: "COALESCE(actor_id, 'unknown')",
  DAY: "strftime('%Y-%m-%d', occurred_at / 1000, 'unixepoch')",
};

export class CreditLedgerReader {
  private readonly usageStatements: Record<UsageGrouping, Statement<[string, number, number], UsageTotal>>;

  constructor(private readonly db: Database) {
    this.usageStatements = Object.fromEntries(
      USAGE_GROUPINGS.map((grouping) => [
        grouping,
        db.prepare<[string, number, number], UsageTotal>(
          `SELECT ${USAGE_KEY[grouping]} AS key,
                  SUM(-credits - refunded_credits) AS credits,
                  SUM(CASE WHEN refunded_credits = 0 THEN 1 ELSE 0 END) AS count
           FROM ledger_entries
           WHERE workspace_id = ? AND type = 'CONSUMPTION' AND occurred_at >= ? AND occurred_at < ?
           GROUP BY key
           HAVING SUM(CASE WHEN refunded_credits = 0 THEN 1 ELSE 0 END) > 0 OR SUM(-credits - refunded_credits) <> 0
           ORDER BY key`,
        ),
      ]),
    ) as Record<UsageGrouping, Statement<[string, number, number], UsageTotal>>;
  }

  /** Up to `first` entries older than the `before` position, newest first, and whether more follow. */
  page(
    workspaceId: string,
    options: LedgerFilter & { first: number; before?: bigint | undefined },
  ): { entries: LedgerEntry[]; hasNextPage: boolean } {
    const { sql, params } = this.where(workspaceId, options);
    const positionBound = options.before === undefined ? '' : ' AND position < ?';
    const rows = this.db
      .prepare<unknown[], EntryRow>(
        `SELECT * FROM ledger_entries WHERE ${sql}${positionBound} ORDER BY position DESC LIMIT ?`,
      )
      .all(...params, ...(options.before === undefined ? [] : [options.before]), options.first + 1);
    return { entries: rows.slice(0, options.first).map(toEntry), hasNextPage: rows.length > options.first };
  }

  /** Every matching entry, oldest first, one row in memory at a time. */
  *entries(workspaceId: string | undefined, filter: LedgerFilter = {}): Generator<LedgerEntry> {
    const { sql, params } = this.where(workspaceId, filter);
    const statement = this.db.prepare<unknown[], EntryRow>(
      `SELECT * FROM ledger_entries WHERE ${sql} ORDER BY position`,
    );
    for (const row of statement.iterate(...params)) yield toEntry(row);
  }

  /** Credits spent and number of spends in [from, to), net of refunded spends. */
  usage(workspaceId: string, from: Date, to: Date, grouping: UsageGrouping): UsageTotal[] {
    return this.usageStatements[grouping].all(workspaceId, from.getTime(), to.getTime());
  }

  private where(workspaceId: string | undefined, filter: LedgerFilter): { sql: string; params: unknown[] } {
    const clauses: string[] = ['1 = 1'];
    const params: unknown[] = [];
    if (workspaceId !== undefined) {
      clauses.push('workspace_id = ?');
      params.push(workspaceId);
    }
    if (filter.types && filter.types.length > 0) {
      clauses.push(`type IN (${filter.types.map(() => '?').join(', ')})`);
      params.push(...filter.types);
    }
    if (filter.from) {
      clauses.push('occurred_at >= ?');
      params.push(filter.from.getTime());
    }
    if (filter.to) {
      clauses.push('occurred_at < ?');
      params.push(filter.to.getTime());
    }
    return { sql: clauses.join(' AND '), params };
  }
}
