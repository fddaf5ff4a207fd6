/**
 * The per-workspace balance read model: every grant with its counters, and the workspace's
 * current plan period. The breakdown itself (available, buckets, drawdown order) is computed at
 * query time by the domain's `creditBalance`, so that expiry is exact to the instant of the read.
 * For holds to end exactly too, it keeps the active holds with where their credits are held, and
 * per purchased grant the money that decides whether credits coming back to it lapse
 * (domain/hold-returns.ts gives a hold's credits back at its expiry before that is written).
 */
import type { Database } from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import type { Drawdown, Grant, GrantSource } from '../src/domain/credits';
import type { ReturnTerms } from '../src/domain/given-back';
import type { HeldCredits } from '../src/domain/hold-returns';
import { settledFromBalance, settledFromHold } from '../src/domain/holds';
import type { CurrentPeriod } from '../src/domain/state';
import { toWorkspaceCreditsEvent } from '../src/events/workspace-stream';
import type { RecordedEvent } from '../src/eventstore/port';
import type { Projection } from './projection';

export const workspaceBalanceProjection: Projection = {
  name: 'workspace-balance',
  version: 3,

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
        price_amount INTEGER,
        price_currency TEXT,
        money_returned INTEGER NOT NULL DEFAULT 0,
        credits_owed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (workspace_id, grant_id)
      );
      CREATE TABLE IF NOT EXISTS balance_holds (
        workspace_id TEXT NOT NULL,
        hold_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        drawdown TEXT NOT NULL,
        PRIMARY KEY (workspace_id, hold_id)
      );
    `);
  },

  queryIndexes: [
    'CREATE INDEX IF NOT EXISTS balance_grants_by_expiry ON balance_grants (expires_at) WHERE remaining > 0',
    // Grants whose every credit left is held: their expiry notice is still due (credit-alerts.ts).
    'CREATE INDEX IF NOT EXISTS balance_grants_held_by_expiry ON balance_grants (expires_at) WHERE held > 0',
    'CREATE INDEX IF NOT EXISTS balance_holds_by_expiry ON balance_holds (expires_at)',
  ],

  reset(db) {
    db.exec(
      'DROP TABLE IF EXISTS balance_grants; DROP TABLE IF EXISTS balance_workspaces; DROP TABLE IF EXISTS balance_holds;',
    );
  },

  prepare(db) {
    const insertGrant = db.prepare(
      `INSERT INTO balance_grants (grant_id, workspace_id, source, granted, remaining, expires_at, granted_at, seq,
         price_amount, price_currency)
       VALUES (@grantId, @workspaceId, @source, @credits, @credits, @expiresAt, @grantedAt, @seq, @priceAmount, @priceCurrency)`,
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
      `UPDATE balance_grants SET remaining = remaining - @consumed - @expired - @refunded - @held,
         consumed = consumed + @consumed, expired = expired + @expired, refunded = refunded + @refunded,
         held = held + @held
       WHERE workspace_id = @workspaceId AND grant_id = @grantId`,
    );
    // Money moves rarely: written at once, in the order the decider folded it.
    const moveMoney = db.prepare<[number, number, string, string]>(
      `UPDATE balance_grants SET money_returned = money_returned + ?, credits_owed = credits_owed + ?
       WHERE workspace_id = ? AND grant_id = ?`,
    );
    const settleOwed = db.prepare<[number, string, string]>(
      'UPDATE balance_grants SET credits_owed = MAX(0, credits_owed - ?) WHERE workspace_id = ? AND grant_id = ?',
    );
    const insertHold = db.prepare<[string, string, number, string]>(
      'INSERT INTO balance_holds (workspace_id, hold_id, expires_at, drawdown) VALUES (?, ?, ?, ?)',
    );
    const extendHold = db.prepare<[number, string, string]>(
      'UPDATE balance_holds SET expires_at = ? WHERE workspace_id = ? AND hold_id = ?',
    );
    const deleteHold = db.prepare<[string, string]>('DELETE FROM balance_holds WHERE workspace_id = ? AND hold_id = ?');
    const freeze = db.prepare<[number, string, string]>(
      'UPDATE balance_grants SET frozen = ? WHERE workspace_id = ? AND grant_id = ?',
    );
    interface Counters {
      workspaceId: string;
      grantId: string;
      consumed: number;
      expired: number;
      refunded: number;
      held: number;
    }
    const pending = new Map<string, Counters>();
    const counters = (workspaceId: string, grantId: string): Counters => {
      const key = `${workspaceId}\n${grantId}`;
      let delta = pending.get(key);
      if (!delta) pending.set(key, (delta = { workspaceId, grantId, consumed: 0, expired: 0, refunded: 0, held: 0 }));
      return delta;
    };
    /** Held credits leave for `to` (consumed, or back to remaining when `to` is undefined). */
    const unhold = (workspaceId: string, parts: readonly Drawdown[], to?: 'consumed'): void => {
      for (const part of parts) {
        const delta = counters(workspaceId, part.grantId);
        delta.held -= part.credits;
        if (to) delta.consumed += part.credits;
      }
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
          insertGrant.run({
            ...grantRow(data, 'INCLUDED', seq),
            expiresAt: periodEnd,
            grantedAt: ms(data.appliedAt),
          });
          upsertPeriod.run({ ...data, periodStart: ms(data.periodStart), periodEnd });
          return;
        }
        case 'CreditsPurchased':
          insertGrant.run({
            ...grantRow(event.data, 'PURCHASED', seq),
            expiresAt: ms(event.data.expiresAt),
            grantedAt: ms(event.data.purchasedAt),
            priceAmount: event.data.price.amount,
            priceCurrency: event.data.price.currency,
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
          if (event.data.reason === 'MONEY_RETURNED')
            settleOwed.run(event.data.credits, workspaceId, event.data.grantId);
          return;
        case 'CreditPurchaseRefunded':
          counters(workspaceId, event.data.grantId).refunded += event.data.credits;
          moveMoney.run(event.data.amount.amount, 0, workspaceId, event.data.grantId);
          return;
        case 'PurchaseRefundRequested':
          counters(workspaceId, event.data.grantId).refunded += event.data.credits;
          moveMoney.run(event.data.amount.amount, event.data.creditsOwed, workspaceId, event.data.grantId);
          return;
        case 'PurchaseRefundFailed': {
          const grant = counters(workspaceId, event.data.grantId);
          grant.refunded -= event.data.credits;
          grant.expired -= event.data.creditsRestored ?? 0;
          moveMoney.run(-event.data.amount.amount, -event.data.creditsOwed, workspaceId, event.data.grantId);
          return;
        }
        case 'CreditConsumptionRefunded':
          for (const part of event.data.drawdown) counters(workspaceId, part.grantId).consumed -= part.credits;
          return;
        case 'PurchaseDisputeOpened':
          freeze.run(1, workspaceId, event.data.grantId);
          return;
        case 'PurchaseDisputeClosed':
          freeze.run(0, workspaceId, event.data.grantId);
          counters(workspaceId, event.data.grantId).refunded += event.data.creditsTakenBack;
          moveMoney.run(event.data.amountLost.amount, event.data.creditsOwed, workspaceId, event.data.grantId);
          return;
        case 'CreditsReserved':
          for (const part of event.data.drawdown) counters(workspaceId, part.grantId).held += part.credits;
          insertHold.run(
            workspaceId,
            event.data.holdId,
            ms(event.data.expiresAt) as number,
            JSON.stringify(event.data.drawdown),
          );
          return;
        case 'CreditHoldSettled':
          unhold(workspaceId, settledFromHold(event.data), 'consumed');
          for (const part of settledFromBalance(event.data))
            counters(workspaceId, part.grantId).consumed += part.credits;
          unhold(workspaceId, event.data.returned);
          deleteHold.run(workspaceId, event.data.holdId);
          return;
        case 'CreditHoldReleased':
        case 'CreditHoldExpired':
          unhold(workspaceId, event.data.returned);
          deleteHold.run(workspaceId, event.data.holdId);
          return;
        case 'CreditHoldExtended':
          extendHold.run(ms(event.data.expiresAt) as number, workspaceId, event.data.holdId);
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
  priceAmount: null as number | null,
  priceCurrency: null as string | null,
});

/**
 * A grant as SQLite answers it: the domain's Grant, with a flag as 0 or 1 and no expiry as null,
 * and the money of its purchase (none for other grants) that credits coming back to it depend on.
 */
type GrantRow = Omit<Grant, 'frozen' | 'expiresAt'> & {
  frozen: 0 | 1;
  expiresAt: number | null;
  priceAmount: number | null;
  priceCurrency: string | null;
  moneyReturned: number;
  creditsOwed: number;
};

/** A workspace's part of the balance read model, as read at one checkpoint. */
export interface WorkspaceBalance {
  grants: readonly Grant[];
  period: CurrentPeriod | undefined;
  holds: readonly HeldCredits[];
  /** What credits coming back to each grant depend on, by grant id. */
  terms: ReadonlyMap<string, ReturnTerms>;
}

/**
 * Reads the balance read model: a workspace's grants, its current plan period and its active holds.
 *
 * With `cachedWorkspaces`, the workspaces read last are kept in memory (frozen) until `forget` is
 * told that a committed batch changed them; the owner must call it for every committed batch before
 * releasing anyone waiting for that batch, so a read never misses a write it has waited for.
 *
 * The projections commit on their own thread, and the owner hears of a batch a moment after it is
 * in the database. So that no reader ever sees this model behind the others in that moment (a
 * purchase shown as paid beside a balance without its credits), a cached copy is served only while
 * the model's checkpoint in the database is the one the owner has heard of (`seen`, given with the
 * cache): once a batch the owner has not yet forgotten is committed, reads go to the database.
 */
export class WorkspaceBalanceReader {
  private readonly grantsOf;
  private readonly periodOf;
  private readonly holdsOf;
  private readonly dueExpiries;
  private readonly cache: LRUCache<string, WorkspaceBalance> | undefined;
  private readonly read: (workspaceId: string) => WorkspaceBalance;

  private readonly storedCheckpoint;
  private readonly seen: () => bigint | undefined;

  constructor(db: Database, options: { cachedWorkspaces?: number; seen?: () => bigint | undefined } = {}) {
    this.grantsOf = db.prepare<[string], GrantRow>(
      `SELECT grant_id AS id, source, granted, remaining, consumed, expired, refunded, held, frozen,
         expires_at AS expiresAt, granted_at AS grantedAt, seq, price_amount AS priceAmount,
         price_currency AS priceCurrency, money_returned AS moneyReturned, credits_owed AS creditsOwed
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
    this.holdsOf = db.prepare<[string], { hold_id: string; expires_at: number; drawdown: string }>(
      'SELECT hold_id, expires_at, drawdown FROM balance_holds WHERE workspace_id = ?',
    );
    this.dueExpiries = db.prepare<[number, number, number], { workspace_id: string }>(
      `SELECT workspace_id FROM balance_grants WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ?
       UNION SELECT workspace_id FROM balance_holds WHERE expires_at <= ? LIMIT ?`,
    );
    const max = options.cachedWorkspaces ?? 0;
    // Only a cache needs it (a reader without one may stand on read-model tables alone).
    this.storedCheckpoint =
      max > 0
        ? db.prepare<[string], { position: string | null }>(
            'SELECT position FROM projection_checkpoints WHERE name = ?',
          )
        : undefined;
    this.seen = options.seen ?? (() => undefined);
    this.cache = max > 0 ? new LRUCache({ max }) : undefined;
    // Every part in one read transaction: the projection thread may commit between two statements.
    this.read = db.transaction((workspaceId: string): WorkspaceBalance => {
      const period = this.readPeriod(workspaceId);
      const rows = this.grantsOf.all(workspaceId);
      return Object.freeze({
        grants: Object.freeze(rows.map(toGrant)),
        period,
        holds: Object.freeze(this.readHolds(workspaceId)),
        terms: returnTermsOf(rows, period),
      });
    });
  }

  /** Drops what is cached of these workspaces: a committed batch changed them. */
  forget(workspaceIds: Iterable<string>): void {
    if (!this.cache) return;
    for (const workspaceId of workspaceIds) this.cache.delete(workspaceId);
  }

  /** Workspaces holding credits, or holds, that have expired by `now` but whose expiry is not yet recorded. */
  workspacesWithDueExpiries(now: number, limit: number): string[] {
    return this.dueExpiries.all(now, now, limit).map((row) => row.workspace_id);
  }

  /** The workspace's holds that have not been settled, released or recorded as expired. */
  holds(workspaceId: string): readonly HeldCredits[] {
    return this.balance(workspaceId).holds;
  }

  /** What credits coming back to each of the workspace's grants depend on (given-back.ts). */
  returnTerms(workspaceId: string): ReadonlyMap<string, ReturnTerms> {
    return this.balance(workspaceId).terms;
  }

  /** Everything the read model has of a workspace, read at one checkpoint. */
  workspace(workspaceId: string): WorkspaceBalance {
    return this.balance(workspaceId);
  }

  grants(workspaceId: string): readonly Grant[] {
    return this.balance(workspaceId).grants;
  }

  period(workspaceId: string): CurrentPeriod | undefined {
    return this.balance(workspaceId).period;
  }

  private balance(workspaceId: string): WorkspaceBalance {
    const cached = this.cache?.get(workspaceId);
    if (cached && this.heardOfEveryCommit()) return cached;
    const balance = this.read(workspaceId);
    this.cache?.set(workspaceId, balance);
    return balance;
  }

  /** Whether every batch committed to this model so far has been passed to `forget`. */
  private heardOfEveryCommit(): boolean {
    const stored = this.storedCheckpoint?.get(workspaceBalanceProjection.name)?.position ?? null;
    return stored === null || stored === `${this.seen() ?? ''}`;
  }

  private readHolds(workspaceId: string): HeldCredits[] {
    return this.holdsOf.all(workspaceId).map((row) =>
      Object.freeze({
        holdId: row.hold_id,
        expiresAt: row.expires_at,
        drawdown: JSON.parse(row.drawdown) as Drawdown[],
      }),
    );
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

const toGrant = (row: GrantRow): Grant =>
  Object.freeze({
    id: row.id,
    source: row.source,
    granted: row.granted,
    remaining: row.remaining,
    consumed: row.consumed,
    expired: row.expired,
    refunded: row.refunded,
    held: row.held,
    frozen: row.frozen === 1,
    expiresAt: row.expiresAt ?? undefined,
    grantedAt: row.grantedAt,
    seq: row.seq,
  });

/** An allowance other than the current period's was replaced by a newer period (each period replaces the one before). */
function returnTermsOf(rows: readonly GrantRow[], period: CurrentPeriod | undefined): ReadonlyMap<string, ReturnTerms> {
  const terms = new Map<string, ReturnTerms>();
  for (const row of rows) {
    terms.set(row.id, {
      replaced: row.source === 'INCLUDED' && row.id !== period?.grantId,
      money:
        row.priceAmount === null
          ? undefined
          : {
              price: { amount: row.priceAmount, currency: row.priceCurrency ?? '' },
              amountReturned: row.moneyReturned,
              creditsOwed: row.creditsOwed,
            },
    });
  }
  return terms;
}
