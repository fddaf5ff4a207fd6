/**
 * Reads the holds read model: a workspace's holds a page at a time, newest first, by status as it
 * is at the instant of the read (an active hold past its expiry is EXPIRED from that instant), and
 * which workspace a hold id belongs to.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { CreditAction, Drawdown } from '../src/domain/credits';
import type { HoldStatus } from '../src/domain/holds';

export interface CreditHoldView {
  id: string;
  position: bigint;
  workspaceId: string;
  action: CreditAction;
  units: number;
  creditsPerUnit: number;
  credits: number;
  drawdown: Drawdown[];
  status: HoldStatus;
  expiresAt: Date;
  reference: string | undefined;
  actorId: string;
  createdAt: Date;
  closedAt: Date | undefined;
  settledUnits: number | undefined;
  settledCredits: number | undefined;
  consumptionId: string | undefined;
}

interface HoldRow {
  position: number;
  hold_id: string;
  workspace_id: string;
  action: CreditAction;
  units: number;
  credits_per_unit: number;
  credits: number;
  drawdown: string;
  status: HoldStatus;
  expires_at: number;
  reference: string | null;
  actor_id: string;
  created_at: number;
  closed_at: number | null;
  settled_units: number | null;
  settled_credits: number | null;
  consumption_id: string | null;
}

function toView(row: HoldRow, now: number): CreditHoldView {
  const lapsed = row.status === 'ACTIVE' && row.expires_at <= now;
  return {
    id: row.hold_id,
    position: BigInt(row.position),
    workspaceId: row.workspace_id,
    action: row.action,
    units: row.units,
    creditsPerUnit: row.credits_per_unit,
    credits: row.credits,
    drawdown: JSON.parse(row.drawdown) as Drawdown[],
    status: lapsed ? 'EXPIRED' : row.status,
    expiresAt: new Date(row.expires_at),
    reference: row.reference ?? undefined,
    actorId: row.actor_id,
    createdAt: new Date(row.created_at),
    closedAt: lapsed ? new Date(row.expires_at) : row.closed_at === null ? undefined : new Date(row.closed_at),
    settledUnits: row.settled_units ?? undefined,
    settledCredits: row.settled_credits ?? undefined,
    consumptionId: row.consumption_id ?? undefined,
  };
}

/** Each status as it stands at `now` (the second parameter). */
const STATUS_AT: Record<HoldStatus, string> = {
  ACTIVE: "status = 'ACTIVE' AND expires_at > @now",
  EXPIRED: "(status = 'EXPIRED' OR (status = 'ACTIVE' AND expires_at <= @now))",
  SETTLED: "status = 'SETTLED'",
  RELEASED: "status = 'RELEASED'",
};

export class CreditHoldsReader {
  private readonly byId: Statement<[string], HoldRow>;

  constructor(private readonly db: Database) {
    this.byId = db.prepare('SELECT * FROM credit_holds WHERE hold_id = ?');
  }

  /** Up to `first` holds reserved before the `before` position, newest first, and whether more follow. */
  page(
    workspaceId: string,
    options: { status?: HoldStatus | undefined; first: number; before?: bigint | undefined; now: number },
  ): { holds: CreditHoldView[]; hasNextPage: boolean } {
    const clauses = ['workspace_id = @workspaceId'];
    if (options.status) clauses.push(STATUS_AT[options.status]);
    if (options.before !== undefined) clauses.push('position < @before');
    const rows = this.db
      .prepare<Record<string, unknown>, HoldRow>(
        `SELECT * FROM credit_holds WHERE ${clauses.join(' AND ')} ORDER BY position DESC LIMIT @limit`,
      )
      .all({
        workspaceId,
        now: options.now,
        limit: options.first + 1,
        ...(options.before !== undefined && { before: options.before }),
      });
    return {
      holds: rows.slice(0, options.first).map((row) => toView(row, options.now)),
      hasNextPage: rows.length > options.first,
    };
  }

  hold(holdId: string, now: number): CreditHoldView | undefined {
    const row = this.byId.get(holdId);
    return row && toView(row, now);
  }

  /** The workspace a hold belongs to, if the read model has seen it reserved. */
  workspaceOfHold(holdId: string): string | undefined {
    return this.byId.get(holdId)?.workspace_id;
  }
}
