/**
 * The per-workspace balance read model: every grant with its counters, and the workspace's
 * current plan period. The breakdown itself (available, buckets, drawdown order) is computed at
 * query time by the domain's `creditBalance`, so that expiry is exact to the instant of the read.
 */
import type { Database } from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import type { Grant, GrantSource } from '../src/domain/credits';
import type { CurrentPeriod } from '../src/domain/state';
import { toWorkspaceCreditsEvent } from '../src/events/workspace-stream';
import type { RecordedEvent } from '../src/eventstore/port';
import type { Projection } from './projection';

export const workspaceBalanceProjection: Projection = {
  name: 'workspace-balance',
  version: 2,

  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS balance_workspaces (
        workspace_id TEXT PRIMARY KEY,
        plan_id TEXT,
        plan_name TEXT,
        included_credits INTEGER,
        period_start INTEGER,
        period_end INTEGER,
        allowance_grant_id TEXT
      );
      CREATE TABLE IF NOT EXISTS balance_grants (
        workspace_id TEXT NOT NULL,
        grant_id TEXT NOT NULL,
        source TEXT NOT NULL,
        granted INTEGER NOT NULL,
        remaining INTEGER NOT NULL,
        consumed INTEGER NOT NULL DEFAULT 0,
        expired INTEGER NOT NULL DEFAULT 0,
        refunded INTEGER NOT NULL DEFAULT 0,
        held INTEGER NOT NULL DEFAULT 0,
        frozen INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER,
        granted_at INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, grant_id)
      );
    `);
  },

  queryIndexes: [
    'CREATE INDEX IF NOT EXISTS balance_grants_by_expiry ON balance_grants (expires_at) WHERE remaining > 0',
  ],

  reset(db) {
    db.exec('DROP TABLE IF EXISTS balance_grants; DROP TABLE IF EXISTS balance_workspaces;');
  },

  prepare(db) {
    const insertGrant = db.prepare(
      `INSERT INTO balance_grants (grant_id, workspace_id, source, granted, remaining, expires_at, granted_at, seq)
       VALUES (@grantId, @workspaceId, @source, @credits, @credits, @expiresAt, @grantedAt, @seq)`,
    );
    const upsertPeriod = db.prepare(
      `INSERT INTO balance_workspaces (workspace_id, plan_id, plan_name, included_credits, period_start, period_end, allowance_grant_id)
       VALUES (@workspaceId, @planId, @planName, @credits, @periodStart, @periodEnd, @grantId)
       ON CONFLICT (workspace_id) DO UPDATE SET plan_id = excluded.plan_id, plan_name = excluded.plan_name,
         included_credits = excluded.included_credits, period_start = excluded.period_start,
         period_end = excluded.period_end, allowance_grant_id = excluded.allowance_grant_id`,
    );
    // Spends, expiries and refunds only move a grant's counters: they are added up per grant during a
    // batch and written once at its end, so a busy grant costs one UPDATE per batch, not per spend.
    const updateCounters = db.prepare(
      `UPDATE balance_grants SET remaining = remaining - @consumed - @expired - @refunded,
         consumed = consumed + @consumed, expired = expired + @expired, refunded = refunded + @refunded
       WHERE workspace_id = @workspaceId AND grant_id = @grantId`,
    );
    const freeze = db.prepare<[number, string, string]>(
      'UPDATE balance_grants SET frozen = ? WHERE workspace_id = ? AND grant_id = ?',
    );
    interface Counters {
      workspaceId: string;
      grantId: string;
      consumed: number;
      expired: number;
      refunded: number;
    }
    const pending = new Map<string, Counters>();
    const counters = (workspaceId: string, grantId: string): Counters => {
      const key = `${workspaceId}\n${grantId}`;
      let delta = pending.get(key);
      if (!delta) pending.set(key, (delta = { workspaceId, grantId, consumed: 0, expired: 0, refunded: 0 }));
      return delta;
    };
    const flush = (): void => {
      for (const delta of pending.values()) updateCounters.run(delta);
      pending.clear();
    };
    const ms = (iso: string | undefined): number | null => (iso === undefined ? null : Date.parse(iso));

    const apply = (recorded: RecordedEvent): void => {
      const event = toWorkspaceCreditsEvent(recorded);
      if (!event) return;
      const seq = Number(recorded.position);
      const workspaceId = event.data.workspaceId;
      switch (event.type) {
        case 'PlanAllowanceApplied': {
          const { data } = event;
          const periodEnd = ms(data.periodEnd);
          insertGrant.run({ ...grantRow(data, 'INCLUDED', seq), expiresAt: periodEnd, grantedAt: ms(data.appliedAt) });
          upsertPeriod.run({ ...data, periodStart: ms(data.periodStart), periodEnd });
          return;
        }
        case 'CreditsPurchased':
          insertGrant.run({
            ...grantRow(event.data, 'PURCHASED', seq),
            expiresAt: ms(event.data.expiresAt),
            grantedAt: ms(event.data.purchasedAt),
          });
          return;
        case 'CreditsGranted':
          insertGrant.run({
            ...grantRow(event.data, 'PROMOTIONAL', seq),
            expiresAt: ms(event.data.expiresAt),
            grantedAt: ms(event.data.grantedAt),
          });
          return;
        case 'CreditsConsumed':
          for (const part of event.data.drawdown) counters(workspaceId, part.grantId).consumed += part.credits;
          return;
        case 'CreditsExpired':
          counters(workspaceId, event.data.grantId).expired += event.data.credits;
          return;
        case 'CreditPurchaseRefunded':
        case 'PurchaseRefundRequested':
          counters(workspaceId, event.data.grantId).refunded += event.data.credits;
          return;
        case 'PurchaseRefundFailed':
          counters(workspaceId, event.data.grantId).refunded -= event.data.credits;
          return;
        case 'CreditConsumptionRefunded':
          for (const part of event.data.drawdown) counters(workspaceId, part.grantId).consumed -= part.credits;
          return;
        case 'PurchaseDisputeOpened':
          freeze.run(1, workspaceId, event.data.grantId);
          return;
        case 'PurchaseDisputeClosed':
          freeze.run(0, workspaceId, event.data.grantId);
          counters(workspaceId, event.data.grantId).refunded += event.data.creditsTakenBack;
          return;
        default:
          return;
      }
    };
    return { apply, endBatch: flush };
  },
};

const grantRow = (
  data: { grantId: string; workspaceId: string; credits: number },
  source: GrantSource,
  seq: number,
) => ({
  grantId: data.grantId,
  workspaceId: data.workspaceId,
  credits: data.credits,
  source,
  seq,
});

/** A grant as SQLite answers it: the domain's Grant, with a flag as 0 or 1 and no expiry as null. */
type GrantRow = Omit<Grant, 'frozen' | 'expiresAt'> & { frozen: 0 | 1; expiresAt: number | null };

/** A workspace's part of the balance read model, as read at one checkpoint. */
interface WorkspaceBalance {
  grants: readonly Grant[];
  period: CurrentPeriod | undefined;
}

/**
 * Reads the balance read model: a workspace's grants and its current plan period.
 *
 * With `cachedWorkspaces`, the workspaces read last are kept in memory (frozen) until `forget` is
 * told that a committed batch changed them; the owner must call it for every committed batch before
 * releasing anyone waiting for that batch, so a read never misses a write it has waited for.
 */
export class WorkspaceBalanceReader {
  private readonly grantsOf;
  private readonly periodOf;
  private readonly dueExpiries;
  private readonly cache: LRUCache<string, WorkspaceBalance> | undefined;
  private readonly read: (workspaceId: string) => WorkspaceBalance;

  constructor(db: Database, options: { cachedWorkspaces?: number } = {}) {
    this.grantsOf = db.prepare<[string], GrantRow>(
      `SELECT grant_id AS id, source, granted, remaining, consumed, expired, refunded, held, frozen,
         expires_at AS expiresAt, granted_at AS grantedAt, seq
       FROM balance_grants WHERE workspace_id = ? ORDER BY seq`,
    );
    this.periodOf = db.prepare<
      [string],
      {
        plan_id: string;
        plan_name: string;
        included_credits: number;
        period_start: number;
        period_end: number;
        allowance_grant_id: string;
      }
    >('SELECT * FROM balance_workspaces WHERE workspace_id = ? AND plan_id IS NOT NULL');
    this.dueExpiries = db.prepare<[number, number], { workspace_id: string }>(
      `SELECT DISTINCT workspace_id FROM balance_grants
       WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ? LIMIT ?`,
    );
    const max = options.cachedWorkspaces ?? 0;
    this.cache = max > 0 ? new LRUCache({ max }) : undefined;
    // Both parts in one read transaction: the projection thread may commit between two statements.
    this.read = db.transaction((workspaceId: string): WorkspaceBalance =>
      Object.freeze({ grants: Object.freeze(this.readGrants(workspaceId)), period: this.readPeriod(workspaceId) }),
    );
  }

  /** Drops what is cached of these workspaces: a committed batch changed them. */
  forget(workspaceIds: Iterable<string>): void {
    if (!this.cache) return;
    for (const workspaceId of workspaceIds) this.cache.delete(workspaceId);
  }

  /** Workspaces holding credits that have expired by `now` but whose expiry is not yet recorded. */
  workspacesWithDueExpiries(now: number, limit: number): string[] {
    return this.dueExpiries.all(now, limit).map((row) => row.workspace_id);
  }

  grants(workspaceId: string): readonly Grant[] {
    return this.balance(workspaceId).grants;
  }

  period(workspaceId: string): CurrentPeriod | undefined {
    return this.balance(workspaceId).period;
  }

  private balance(workspaceId: string): WorkspaceBalance {
    const cached = this.cache?.get(workspaceId);
    if (cached) return cached;
    const balance = this.read(workspaceId);
    this.cache?.set(workspaceId, balance);
    return balance;
  }

  private readGrants(workspaceId: string): Grant[] {
    return this.grantsOf
      .all(workspaceId)
      .map((row) => Object.freeze({ ...row, frozen: row.frozen === 1, expiresAt: row.expiresAt ?? undefined }));
  }

  private readPeriod(workspaceId: string): CurrentPeriod | undefined {
    const row = this.periodOf.get(workspaceId);
    return (
      row &&
      Object.freeze({
        grantId: row.allowance_grant_id,
        planId: row.plan_id,
        planName: row.plan_name,
        credits: row.included_credits,
        periodStart: row.period_start,
        periodEnd: row.period_end,
      })
    );
  }
}
