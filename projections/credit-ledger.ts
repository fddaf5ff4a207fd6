/**
 * The credit ledger read model: one entry per balance-changing event of a workspace, with its
 * signed credits and the balance after it. Entries are keyed by the event's global position, so
 * "newest first" and the page cursors stay stable while new entries arrive. Spends also carry the
 * credits later refunded, so usage can be reported net of refunds; a purchase's entries carry the
 * money that moved with them, so an export adds up to what was paid.
 */
import type { CreditAction, Drawdown, GrantSource, Money } from '../src/domain/credits';
import { occurredAt, type WorkspaceCreditsEvent } from '../src/domain/events';
import { toWorkspaceCreditsEvent } from '../src/events/workspace-stream';
import type { RecordedEvent } from '../src/eventstore/port';
import type { Projection } from './projection';

export const LEDGER_ENTRY_TYPES = [
  'PLAN_ALLOWANCE',
  'PURCHASE',
  'PROMOTIONAL_GRANT',
  'CONSUMPTION',
  'EXPIRY',
  'PURCHASE_REFUND',
  'PURCHASE_REFUND_REVERSAL',
  'CONSUMPTION_REFUND',
  'DISPUTE_OPENED',
  'DISPUTE_CLOSED',
] as const;
export type LedgerEntryType = (typeof LEDGER_ENTRY_TYPES)[number];

export interface LedgerEntry {
  /** The id of the event the entry records. */
  id: string;
  position: bigint;
  workspaceId: string;
  type: LedgerEntryType;
  occurredAt: Date;
  /** Positive when credits were added, negative when they left the balance. */
  credits: number;
  balanceAfter: number;
  source: GrantSource | undefined;
  action: CreditAction | undefined;
  units: number | undefined;
  actorId: string | undefined;
  reference: string | undefined;
  /** The grants the entry changed, and by how many credits (always positive; the entry's sign says which way). */
  grants: Drawdown[];
  refundedCredits: number;
  /** The money that moved with the entry, signed as its credits are (see moneyOf); undefined when none did. */
  money: Money | undefined;
}

type EntryFields = Omit<
  LedgerEntry,
  'id' | 'position' | 'workspaceId' | 'occurredAt' | 'balanceAfter' | 'refundedCredits' | 'money'
>;

/** The one source that paid, when all parts of a drawdown share it. */
function singleSource(drawdown: readonly Drawdown[]): GrantSource | undefined {
  const source = drawdown[0]?.source;
  return drawdown.every((part) => part.source === source) ? source : undefined;
}

/**
 * An entry's fields, always built with every key in the same order: a replay builds millions of
 * them, and objects of one shape stay on V8's fast path (an object spread whose later keys
 * overwrite earlier ones does not, and cost more than the rest of the entry).
 */
const fields = (
  type: LedgerEntryType,
  credits: number,
  source: GrantSource | undefined,
  grants: Drawdown[],
  reference: string | undefined,
  actorId: string | undefined,
  action: CreditAction | undefined = undefined,
  units: number | undefined = undefined,
): EntryFields => ({ type, credits, source, action, units, actorId, reference, grants });

/** What a credits event means for the ledger; undefined for events that move no credits. */
function entryFor(event: WorkspaceCreditsEvent, actorId: string | undefined): EntryFields | undefined {
  switch (event.type) {
    case 'PlanAllowanceApplied': {
      const { grantId, credits, planId } = event.data;
      return fields('PLAN_ALLOWANCE', credits, 'INCLUDED', [{ grantId, source: 'INCLUDED', credits }], planId, actorId);
    }
    case 'CreditsPurchased': {
      const { grantId, credits, purchaseId } = event.data;
      const grants = [{ grantId, source: 'PURCHASED' as const, credits }];
      return fields('PURCHASE', credits, 'PURCHASED', grants, purchaseId, actorId);
    }
    case 'CreditsGranted': {
      const { grantId, credits, reason } = event.data;
      const grants = [{ grantId, source: 'PROMOTIONAL' as const, credits }];
      return fields('PROMOTIONAL_GRANT', credits, 'PROMOTIONAL', grants, reason, actorId);
    }
    case 'CreditsConsumed': {
      const { credits, action, units, reference, drawdown } = event.data;
      return fields(
        'CONSUMPTION',
        -credits,
        singleSource(drawdown),
        drawdown,
        reference,
        event.data.actorId,
        action,
        units,
      );
    }
    case 'CreditsExpired': {
      const { grantId, source, credits, reason } = event.data;
      return fields('EXPIRY', -credits, source, [{ grantId, source, credits }], reason, actorId);
    }
    case 'CreditPurchaseRefunded': {
      const { grantId, credits, purchaseId, refundedBy } = event.data;
      return purchaseEntry('PURCHASE_REFUND', grantId, -credits, purchaseId, refundedBy);
    }
    case 'PurchaseRefundRequested': {
      const { grantId, credits, purchaseId, requestedBy } = event.data;
      return purchaseEntry('PURCHASE_REFUND', grantId, -credits, purchaseId, requestedBy);
    }
    case 'PurchaseRefundFailed': {
      const { grantId, credits, purchaseId } = event.data;
      return purchaseEntry('PURCHASE_REFUND_REVERSAL', grantId, credits, purchaseId, actorId);
    }
    case 'PurchaseDisputeOpened':
      return purchaseEntry('DISPUTE_OPENED', event.data.grantId, 0, event.data.purchaseId, actorId);
    case 'PurchaseDisputeClosed': {
      const { grantId, creditsTakenBack, purchaseId } = event.data;
      return purchaseEntry('DISPUTE_CLOSED', grantId, -creditsTakenBack, purchaseId, actorId);
    }
    case 'CreditConsumptionRefunded': {
      const { credits, consumptionId, drawdown, refundedBy } = event.data;
      return fields('CONSUMPTION_REFUND', credits, singleSource(drawdown), drawdown, consumptionId, refundedBy);
    }
    default:
      return undefined;
  }
}

/**
 * The money of a purchase's entries, in minor units and signed as their credits: paid in for a
 * purchase (+), to be returned for a refund (-), kept after all when a refund fails (+), lost to a
 * chargeback when a dispute closes (-, 0 when won). Summed, it is what the workspace has paid net.
 */
function moneyOf(event: WorkspaceCreditsEvent): Money | undefined {
  const back = ({ amount, currency }: Money): Money => ({ amount: amount === 0 ? 0 : -amount, currency });
  switch (event.type) {
    case 'CreditsPurchased':
      return event.data.price;
    case 'CreditPurchaseRefunded':
    case 'PurchaseRefundRequested':
      return back(event.data.amount);
    case 'PurchaseRefundFailed':
      return event.data.amount;
    case 'PurchaseDisputeClosed':
      return back(event.data.amountLost);
    default:
      return undefined;
  }
}

/** An entry that moves credits of one purchase's grant (signed: negative when they leave). */
const purchaseEntry = (
  type: LedgerEntryType,
  grantId: string,
  credits: number,
  purchaseId: string,
  actorId: string | undefined,
): EntryFields =>
  fields(
    type,
    credits,
    'PURCHASED',
    [{ grantId, source: 'PURCHASED', credits: Math.abs(credits) }],
    purchaseId,
    actorId,
  );

export const creditLedgerProjection: Projection = {
  name: 'credit-ledger',
  version: 3,

  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS ledger_entries (
        position INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        type TEXT NOT NULL,
        occurred_at INTEGER NOT NULL,
        credits INTEGER NOT NULL,
        balance_after INTEGER NOT NULL,
        source TEXT,
        action TEXT,
        units INTEGER,
        actor_id TEXT,
        reference TEXT,
        grants TEXT NOT NULL,
        consumption_id TEXT,
        stream_revision INTEGER,
        refunded_credits INTEGER NOT NULL DEFAULT 0,
        amount INTEGER,
        currency TEXT
      );
      CREATE INDEX IF NOT EXISTS ledger_by_consumption ON ledger_entries (consumption_id) WHERE consumption_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS ledger_balances (
        workspace_id TEXT PRIMARY KEY,
        balance INTEGER NOT NULL
      );
    `);
  },

  queryIndexes: [
    'CREATE INDEX IF NOT EXISTS ledger_by_workspace ON ledger_entries (workspace_id, position)',
    'CREATE INDEX IF NOT EXISTS ledger_usage ON ledger_entries (workspace_id, type, occurred_at)',
  ],

  reset(db) {
    db.exec('DROP TABLE IF EXISTS ledger_entries; DROP TABLE IF EXISTS ledger_balances;');
  },

  prepare(db) {
    const balanceOf = db.prepare<[string], { balance: number }>(
      'SELECT balance FROM ledger_balances WHERE workspace_id = ?',
    );
    const saveBalance = db.prepare(
      `INSERT INTO ledger_balances (workspace_id, balance) VALUES (?, ?)
       ON CONFLICT (workspace_id) DO UPDATE SET balance = excluded.balance`,
    );
    // Positional parameters: named ones cost an object per row, and a replay writes millions of rows.
    const insert = db.prepare(
      `INSERT INTO ledger_entries (position, entry_id, workspace_id, type, occurred_at, credits, balance_after, source,
         action, units, actor_id, reference, grants, consumption_id, stream_revision, amount, currency)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const markRefunded = db.prepare(
      'UPDATE ledger_entries SET refunded_credits = refunded_credits + ? WHERE consumption_id = ? AND workspace_id = ?',
    );
    // Running balances are kept in memory during a batch and written once at its end.
    const balances = new Map<string, number>();
    const apply = (recorded: RecordedEvent): void => {
      const event = toWorkspaceCreditsEvent(recorded);
      if (!event) return;
      const workspaceId = event.data.workspaceId;
      if (event.type === 'CreditConsumptionRefunded') {
        markRefunded.run(event.data.credits, event.data.consumptionId, workspaceId);
      }
      const actorId = typeof recorded.metadata.actorId === 'string' ? recorded.metadata.actorId : undefined;
      const entry = entryFor(event, actorId);
      if (!entry) return;
      const before = balances.get(workspaceId) ?? balanceOf.get(workspaceId)?.balance ?? 0;
      const balanceAfter = before + entry.credits;
      balances.set(workspaceId, balanceAfter);
      const money = moneyOf(event);
      insert.run(
        recorded.position,
        recorded.id,
        workspaceId,
        entry.type,
        Date.parse(occurredAt(event)),
        entry.credits,
        balanceAfter,
        entry.source ?? null,
        entry.action ?? null,
        entry.units ?? null,
        entry.actorId ?? null,
        entry.reference ?? null,
        JSON.stringify(entry.grants),
        event.type === 'CreditsConsumed' ? event.data.consumptionId : null,
        event.type === 'CreditsConsumed' ? recorded.revision : null,
        money?.amount ?? null,
        money?.currency ?? null,
      );
    };
    const endBatch = (): void => {
      for (const [workspaceId, balance] of balances) saveBalance.run(workspaceId, balance);
      balances.clear();
    };
    return { apply, endBatch };
  },
};
