/**
 * The credit ledger read model: one entry per balance-changing event of a workspace, with its
 * signed credits and the balance after it. Entries are keyed by the event's global position, so
 * "newest first" and the page cursors stay stable while new entries arrive. Spends also carry the
 * credits later refunded, so usage can be reported net of refunds; a purchase's entries carry the
 * money that moved with them, so an export adds up to what was paid. Each entry also carries its
 * links (see LedgerLinks): the ids an admin acts on, the names a person reads, and the reason.
 *
 * `balanceAfter` is the running sum of the entries: what the grants have left to spend, which is
 * the available balance as far as the ledger has seen it. Held credits are out of it from their
 * HOLD entry on; a hold's settle, release or expiry brings back what it did not use (a settle's
 * `credits` is that, less any excess it took from the balance; its real cost is `spentCredits`).
 */
import type { CreditAction, Drawdown, GrantSource, Money } from '../src/domain/credits';
import { occurredAt, type RefundStatus, type WorkspaceCreditsEvent } from '../src/domain/events';
import { creditsOf, settledFromBalance } from '../src/domain/holds';
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
  'HOLD',
  'HOLD_SETTLED',
  'HOLD_RELEASED',
  'HOLD_EXPIRED',
] as const;
export type LedgerEntryType = (typeof LEDGER_ENTRY_TYPES)[number];

export interface LedgerEntry extends LedgerLinks {
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
  /** The hold the entry reserves, settles, releases or expires. */
  holdId: string | undefined;
  /** Credits the entry spent: a spend's credits, a settled hold's real cost; 0 otherwise. */
  spentCredits: number;
  /** The money that moved with the entry, signed as its credits are (see moneyOf); undefined when none did. */
  money: Money | undefined;
}

/**
 * What an entry is about, by id and by name, so that a reader can act on it or show it: the spend
 * `refundCreditConsumption` takes, the purchase `refundCreditPurchase` takes, the refund and where
 * it stands, the dispute, the plan; the package's and plan's names as the catalog named them when
 * the event was recorded; and the reason given. Undefined where it does not apply (see linksOf).
 */
export interface LedgerLinks {
  /**
   * CONSUMPTION: this spend. HOLD_SETTLED: the spend the hold's real cost was recorded as.
   * CONSUMPTION_REFUND: the spend given back. The id refundCreditConsumption takes.
   */
  consumptionId: string | undefined;
  /** PURCHASE, PURCHASE_REFUND, PURCHASE_REFUND_REVERSAL, DISPUTE_OPENED, DISPUTE_CLOSED. */
  purchaseId: string | undefined;
  /** The purchased package, on the same entries as purchaseId. */
  packageId: string | undefined;
  packageName: string | undefined;
  /** PURCHASE_REFUND and PURCHASE_REFUND_REVERSAL. */
  refundId: string | undefined;
  /** Where the refund stands now: a PURCHASE_REFUND entry follows its refund's later events. */
  refundStatus: RefundStatus | undefined;
  /** DISPUTE_OPENED and DISPUTE_CLOSED. */
  disputeId: string | undefined;
  /** PLAN_ALLOWANCE. */
  planId: string | undefined;
  planName: string | undefined;
  /**
   * PROMOTIONAL_GRANT, PURCHASE_REFUND, CONSUMPTION_REFUND, HOLD_RELEASED: the reason the admin
   * (or the provider, or the caller) gave. PURCHASE_REFUND_REVERSAL: why the refund failed. DISPUTE_OPENED: the bank's reason.
   * EXPIRY: EXPIRED, PERIOD_REPLACED or MONEY_RETURNED.
   */
  reason: string | undefined;
}

type EntryFields = Omit<
  LedgerEntry,
  'id' | 'position' | 'workspaceId' | 'occurredAt' | 'balanceAfter' | 'refundedCredits' | 'money' | keyof LedgerLinks
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
  holdId: string | undefined = undefined,
  spentCredits = 0,
): EntryFields => ({ type, credits, source, action, units, actorId, reference, grants, holdId, spentCredits });

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
        undefined,
        credits,
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
      const { grantId, credits, creditsRestored = 0, purchaseId } = event.data;
      return purchaseEntry('PURCHASE_REFUND_REVERSAL', grantId, credits + creditsRestored, purchaseId, actorId);
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
    case 'CreditsReserved':
    case 'CreditHoldSettled':
    case 'CreditHoldReleased':
    case 'CreditHoldExpired':
      return holdEntry(event, actorId);
    default:
      return undefined;
  }
}

/** The entry of a hold's reservation or its outcome: what it did to the credits left to spend. */
function holdEntry(
  event: Extract<
    WorkspaceCreditsEvent,
    { type: 'CreditsReserved' | 'CreditHoldSettled' | 'CreditHoldReleased' | 'CreditHoldExpired' }
  >,
  actorId: string | undefined,
): EntryFields {
  switch (event.type) {
    case 'CreditsReserved': {
      const { credits, drawdown, reference, action, units, holdId } = event.data;
      const by = event.data.actorId;
      return fields('HOLD', -credits, singleSource(drawdown), drawdown, reference, by, action, units, holdId);
    }
    case 'CreditHoldSettled': {
      const { returned, reference, action, units, holdId, credits } = event.data;
      const taken = settledFromBalance(event.data);
      const back = creditsOf(returned) - creditsOf(taken);
      // The grants this entry changed: those the rest of the hold went back to, or, for a settle
      // past the hold, those the difference was taken from (the spend's own grants are the HOLD
      // entry's). Never both: only a settle within the hold gives credits back.
      const changed = back > 0 ? returned : taken;
      const by = event.data.actorId;
      return fields(
        'HOLD_SETTLED',
        back,
        singleSource(changed),
        [...changed],
        reference,
        by,
        action,
        units,
        holdId,
        credits,
      );
    }
    case 'CreditHoldReleased': {
      const { credits, returned, reason, releasedBy, holdId } = event.data;
      return fields(
        'HOLD_RELEASED',
        credits,
        singleSource(returned),
        returned,
        reason,
        releasedBy,
        undefined,
        undefined,
        holdId,
      );
    }
    case 'CreditHoldExpired': {
      const { credits, returned, holdId } = event.data;
      return fields(
        'HOLD_EXPIRED',
        credits,
        singleSource(returned),
        returned,
        undefined,
        actorId,
        undefined,
        undefined,
        holdId,
      );
    }
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

/**
 * An entry's links, built with every key in the same order (see `fields`). A purchase's later
 * entries take its package from its PURCHASE entry (`packageOf`), since their events do not name it.
 */
const links = (l: Partial<LedgerLinks>): LedgerLinks => ({
  consumptionId: l.consumptionId,
  purchaseId: l.purchaseId,
  packageId: l.packageId,
  packageName: l.packageName,
  refundId: l.refundId,
  refundStatus: l.refundStatus,
  disputeId: l.disputeId,
  planId: l.planId,
  planName: l.planName,
  reason: l.reason,
});

type PackageOf = (workspaceId: string, purchaseId: string) => { packageId: string; packageName: string } | undefined;

/** The links of an entry about one purchase: its id, its package, and `more`. */
const ofPurchase = (packageOf: PackageOf, workspaceId: string, purchaseId: string, more: Partial<LedgerLinks>) =>
  links({ purchaseId, ...packageOf(workspaceId, purchaseId), ...more });

/** What an entry of this event is about; undefined for an event that makes no entry or links nothing. */
function linksOf(event: WorkspaceCreditsEvent, packageOf: PackageOf): LedgerLinks | undefined {
  const { workspaceId } = event.data;
  switch (event.type) {
    case 'PlanAllowanceApplied':
      return links({ planId: event.data.planId, planName: event.data.planName });
    case 'CreditsPurchased': {
      const { purchaseId, packageId, packageName } = event.data;
      return links({ purchaseId, packageId, packageName });
    }
    case 'CreditsGranted':
      return links({ reason: event.data.reason });
    case 'CreditsConsumed':
    case 'CreditHoldSettled':
      return links({ consumptionId: event.data.consumptionId });
    case 'CreditHoldReleased':
      return links({ reason: event.data.reason });
    case 'CreditsExpired':
      return links({ reason: event.data.reason });
    case 'CreditConsumptionRefunded':
      return links({ consumptionId: event.data.consumptionId, reason: event.data.reason });
    case 'CreditPurchaseRefunded': {
      const { purchaseId, refundId, reason } = event.data;
      return ofPurchase(packageOf, workspaceId, purchaseId, { refundId, refundStatus: 'SUCCEEDED', reason });
    }
    case 'PurchaseRefundRequested': {
      const { purchaseId, refundId, reason } = event.data;
      return ofPurchase(packageOf, workspaceId, purchaseId, { refundId, refundStatus: 'REQUESTED', reason });
    }
    case 'PurchaseRefundFailed': {
      const { purchaseId, refundId, status, reason } = event.data;
      return ofPurchase(packageOf, workspaceId, purchaseId, { refundId, refundStatus: status, reason });
    }
    case 'PurchaseDisputeOpened': {
      const { purchaseId, disputeId, reason } = event.data;
      return ofPurchase(packageOf, workspaceId, purchaseId, { disputeId, reason });
    }
    case 'PurchaseDisputeClosed':
      return ofPurchase(packageOf, workspaceId, event.data.purchaseId, { disputeId: event.data.disputeId });
    default:
      return undefined;
  }
}

/** Where a refund stands after a later event of it; undefined for any other event. */
function refundStatusAfter(event: WorkspaceCreditsEvent): { refundId: string; status: RefundStatus } | undefined {
  switch (event.type) {
    case 'PurchaseRefundPending':
      return { refundId: event.data.refundId, status: event.data.status };
    case 'PurchaseRefundSucceeded':
      return { refundId: event.data.refundId, status: 'SUCCEEDED' };
    case 'PurchaseRefundFailed':
      return { refundId: event.data.refundId, status: event.data.status };
    default:
      return undefined;
  }
}

const NO_LINKS = links({});

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

/** Events that record a spend a refund can give back: a spend, or the real cost of a settled hold. */
const isSpend = (
  event: WorkspaceCreditsEvent,
): event is Extract<WorkspaceCreditsEvent, { type: 'CreditsConsumed' | 'CreditHoldSettled' }> =>
  event.type === 'CreditsConsumed' || event.type === 'CreditHoldSettled';

export const creditLedgerProjection: Projection = {
  name: 'credit-ledger',
  // 6: a HOLD_SETTLED entry names the grants it changed (the credits given back, or the excess
  // taken), not those the spend was paid from.
  version: 6,

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
        hold_id TEXT,
        spent INTEGER NOT NULL DEFAULT 0,
        amount INTEGER,
        currency TEXT,
        purchase_id TEXT,
        package_id TEXT,
        package_name TEXT,
        refund_id TEXT,
        refund_status TEXT,
        dispute_id TEXT,
        plan_id TEXT,
        plan_name TEXT,
        reason TEXT
      );
      CREATE INDEX IF NOT EXISTS ledger_by_consumption ON ledger_entries (consumption_id) WHERE consumption_id IS NOT NULL;
      CREATE INDEX IF NOT EXISTS ledger_purchases ON ledger_entries (workspace_id, purchase_id) WHERE type = 'PURCHASE';
      CREATE INDEX IF NOT EXISTS ledger_refunds ON ledger_entries (workspace_id, refund_id) WHERE refund_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS ledger_balances (
        workspace_id TEXT PRIMARY KEY,
        balance INTEGER NOT NULL
      );
    `);
  },

  queryIndexes: [
    'CREATE INDEX IF NOT EXISTS ledger_by_workspace ON ledger_entries (workspace_id, position)',
    'CREATE INDEX IF NOT EXISTS ledger_usage ON ledger_entries (workspace_id, type, occurred_at)',
    // A page of the entries of some types (credit-ledger-reader.ts), newest first, for each type.
    'CREATE INDEX IF NOT EXISTS ledger_by_type ON ledger_entries (workspace_id, type, position)',
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
         action, units, actor_id, reference, grants, consumption_id, stream_revision, hold_id, spent, amount, currency,
         purchase_id, package_id, package_name, refund_id, refund_status, dispute_id, plan_id, plan_name, reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // A CONSUMPTION_REFUND entry names the spend it gave back; it is not that spend.
    const markRefunded = db.prepare(
      `UPDATE ledger_entries SET refunded_credits = refunded_credits + ?
       WHERE consumption_id = ? AND workspace_id = ? AND type <> 'CONSUMPTION_REFUND'`,
    );
    const purchaseOf = db.prepare<[string, string], { packageId: string; packageName: string }>(
      `SELECT package_id AS packageId, package_name AS packageName FROM ledger_entries
       WHERE workspace_id = ? AND purchase_id = ? AND type = 'PURCHASE'`,
    );
    const packageOf: PackageOf = (workspaceId, purchaseId) => purchaseOf.get(workspaceId, purchaseId);
    const moveRefund = db.prepare<[string, string, string]>(
      `UPDATE ledger_entries SET refund_status = ?
       WHERE workspace_id = ? AND refund_id = ? AND type = 'PURCHASE_REFUND'`,
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
      const refund = refundStatusAfter(event);
      if (refund) moveRefund.run(refund.status, workspaceId, refund.refundId);
      const actorId = typeof recorded.metadata.actorId === 'string' ? recorded.metadata.actorId : undefined;
      const entry = entryFor(event, actorId);
      if (!entry) return;
      const before = balances.get(workspaceId) ?? balanceOf.get(workspaceId)?.balance ?? 0;
      const balanceAfter = before + entry.credits;
      balances.set(workspaceId, balanceAfter);
      const money = moneyOf(event);
      const link = linksOf(event, packageOf) ?? NO_LINKS;
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
        link.consumptionId ?? null,
        isSpend(event) ? recorded.revision : null,
        entry.holdId ?? null,
        entry.spentCredits,
        money?.amount ?? null,
        money?.currency ?? null,
        link.purchaseId ?? null,
        link.packageId ?? null,
        link.packageName ?? null,
        link.refundId ?? null,
        link.refundStatus ?? null,
        link.disputeId ?? null,
        link.planId ?? null,
        link.planName ?? null,
        link.reason ?? null,
      );
    };
    const endBatch = (): void => {
      for (const [workspaceId, balance] of balances) saveBalance.run(workspaceId, balance);
      balances.clear();
    };
    return { apply, endBatch };
  },
};
