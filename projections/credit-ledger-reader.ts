/**
 * Reads the credit ledger: pages of entries newest first, usage totals, and a streaming iterator
 * for exports. Cursors are opaque to clients; inside they are the entry's global position.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { CreditAction, Drawdown, GrantSource } from '../src/domain/credits';
import type { RefundStatus } from '../src/domain/events';
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
  hold_id: string | null;
  spent: number;
  amount: number | null;
  currency: string | null;
  consumption_id: string | null;
  purchase_id: string | null;
  package_id: string | null;
  package_name: string | null;
  refund_id: string | null;
  refund_status: RefundStatus | null;
  dispute_id: string | null;
  plan_id: string | null;
  plan_name: string | null;
  reason: string | null;
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
  holdId: row.hold_id ?? undefined,
  spentCredits: row.spent,
  money: row.amount !== null && row.currency !== null ? { amount: row.amount, currency: row.currency } : undefined,
  consumptionId: row.consumption_id ?? undefined,
  purchaseId: row.purchase_id ?? undefined,
  packageId: row.package_id ?? undefined,
  packageName: row.package_name ?? undefined,
  refundId: row.refund_id ?? undefined,
  refundStatus: row.refund_status ?? undefined,
  disputeId: row.dispute_id ?? undefined,
  planId: row.plan_id ?? undefined,
  planName: row.plan_name ?? undefined,
  reason: row.reason ?? undefined,
});

export interface LedgerFilter {
  types?: readonly LedgerEntryType[] | undefined;
  /** Inclusive. */
  from?: Date | undefined;
  /** Exclusive. */
  to?: Date | undefined;
  /** Only entries of events after this position of the log: an incremental export's resume point. */
  afterPosition?: bigint | undefined;
}

/** Which entries of a filter a page holds: the `first` newest or the `last` oldest between two positions. */
export type LedgerWindow = ({ first: number; last?: undefined } | { last: number; first?: undefined }) & {
  /** Only entries older than this position (the `after` cursor's). */
  olderThan?: bigint | undefined;
  /** Only entries newer than this position (the `before` cursor's). */
  newerThan?: bigint | undefined;
};

export interface LedgerPage {
  /** Newest first. */
  entries: LedgerEntry[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
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

/** A type named twice is asked for once: a long list of repeats stays within SQLite's variables. */
const distinctTypes = (types: readonly LedgerEntryType[] | undefined): LedgerEntryType[] => [...new Set(types ?? [])];

export class CreditLedgerReader {
  private readonly usageStatements: Record<UsageGrouping, Statement<[string, number, number], UsageTotal>>;

  constructor(private readonly db: Database) {
    this.usageStatements = Object.fromEntries(
      USAGE_GROUPINGS.map((grouping) => [
        grouping,
        db.prepare<[string, number, number], UsageTotal>(
          `SELECT ${USAGE_KEY[grouping]} AS key,
                  SUM(spent - refunded_credits) AS credits,
                  SUM(CASE WHEN refunded_credits = 0 THEN 1 ELSE 0 END) AS count
           FROM ledger_entries
           WHERE workspace_id = ? AND type IN ('CONSUMPTION', 'HOLD_SETTLED') AND occurred_at >= ? AND occurred_at < ?
           GROUP BY key
           HAVING SUM(CASE WHEN refunded_credits = 0 THEN 1 ELSE 0 END) > 0 OR SUM(spent - refunded_credits) <> 0
           ORDER BY key`,
        ),
      ]),
    ) as Record<UsageGrouping, Statement<[string, number, number], UsageTotal>>;
  }

  /**
   * One page of the entries between two positions, newest first, as a Relay connection pages: the
   * `first` newest of them, or the `last` oldest. `olderThan` is the position of the `after`
   * cursor, `newerThan` of `before`. hasNextPage says whether older entries (of the same filter)
   * follow the page, hasPreviousPage whether newer ones come before it.
   */
  page(workspaceId: string, options: LedgerFilter & LedgerWindow): LedgerPage {
    const { sql, params } = this.where(workspaceId, options);
    const { olderThan, newerThan } = options;
    const window = `${olderThan === undefined ? '' : ' AND position < ?'}${newerThan === undefined ? '' : ' AND position > ?'}`;
    const bounds = [...(olderThan === undefined ? [] : [olderThan]), ...(newerThan === undefined ? [] : [newerThan])];
    const fromNewest = options.last === undefined;
    const size = options.last ?? options.first;
    const order = `ORDER BY position ${fromNewest ? 'DESC' : 'ASC'}`;
    const types = distinctTypes(options.types);
    const rows =
      types.length === 0
        ? this.db
            .prepare<unknown[], EntryRow>(`SELECT * FROM ledger_entries WHERE ${sql}${window} ${order} LIMIT ?`)
            .all(...params, ...bounds, size + 1)
        : this.pageOfTypes(workspaceId, { ...options, types }, window, order, bounds, size + 1);
    const more = rows.length > size;
    const entries = rows.slice(0, size).map(toEntry);
    if (!fromNewest) entries.reverse();
    // Each side: more of the window past the page's end it was filled towards, or entries of the
    // filter past the cursor that bounds the window on that side (newer than `after`, older than
    // `before`), whichever end the page was filled from.
    const newerBeyond = olderThan !== undefined && this.any(sql, params, 'position >= ?', olderThan);
    const olderBeyond = newerThan !== undefined && this.any(sql, params, 'position <= ?', newerThan);
    return fromNewest
      ? { entries, hasNextPage: more || olderBeyond, hasPreviousPage: newerBeyond }
      : { entries, hasNextPage: olderBeyond, hasPreviousPage: more || newerBeyond };
  }

  /**
   * The `limit` first entries (in `order`, within `window`) of the filter's types. Each type is read through
   * its own index (ledger_by_type) and the pages merged: a rare type (the purchases of a workspace
   * with a million spends) costs a page, not a scan of every entry of the workspace on the thread
   * that answers everyone.
   */
  private pageOfTypes(
    workspaceId: string,
    filter: LedgerFilter & { types: readonly LedgerEntryType[] },
    window: string,
    order: string,
    bounds: readonly bigint[],
    limit: number,
  ): EntryRow[] {
    const { sql, params } = this.where(workspaceId, { ...filter, types: undefined });
    const ofType = `SELECT * FROM (SELECT * FROM ledger_entries WHERE ${sql} AND type = ?${window} ${order} LIMIT ?)`;
    return this.db
      .prepare<unknown[], EntryRow>(
        `SELECT * FROM (${filter.types.map(() => ofType).join(' UNION ALL ')}) ${order} LIMIT ?`,
      )
      .all(...filter.types.flatMap((type) => [...params, type, ...bounds, limit]), limit);
  }

  /** Every matching entry, oldest first, one row in memory at a time. */
  *entries(workspaceId: string | undefined, filter: LedgerFilter = {}): Generator<LedgerEntry> {
    const { sql, params } = this.where(workspaceId, filter);
    const statement = this.db.prepare<unknown[], EntryRow>(
      `SELECT * FROM ledger_entries WHERE ${sql} ORDER BY position`,
    );
    for (const row of statement.iterate(...params)) yield toEntry(row);
  }

  /** Credits spent and number of spends (settled holds included) in [from, to), net of refunded spends. */
  usage(workspaceId: string, from: Date, to: Date, grouping: UsageGrouping): UsageTotal[] {
    return this.usageStatements[grouping].all(workspaceId, from.getTime(), to.getTime());
  }

  private any(sql: string, params: unknown[], bound: string, position: bigint): boolean {
    const statement = this.db.prepare<unknown[], { found: number }>(
      `SELECT 1 AS found FROM ledger_entries WHERE ${sql} AND ${bound} LIMIT 1`,
    );
    return statement.get(...params, position) !== undefined;
  }

  private where(workspaceId: string | undefined, filter: LedgerFilter): { sql: string; params: unknown[] } {
    const clauses: string[] = ['1 = 1'];
    const params: unknown[] = [];
    if (workspaceId !== undefined) {
      clauses.push('workspace_id = ?');
      params.push(workspaceId);
    }
    const types = distinctTypes(filter.types);
    if (types.length > 0) {
      clauses.push(`type IN (${types.map(() => '?').join(', ')})`);
      params.push(...types);
    }
    if (filter.from) {
      clauses.push('occurred_at >= ?');
      params.push(filter.from.getTime());
    }
    if (filter.to) {
      clauses.push('occurred_at < ?');
      params.push(filter.to.getTime());
    }
    if (filter.afterPosition !== undefined) {
      clauses.push('position > ?');
      params.push(filter.afterPosition);
    }
    return { sql: clauses.join(' AND '), params };
  }
}
