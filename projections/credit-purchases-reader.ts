/**
 * Reads the purchases read model: a workspace's purchases with their refunds and disputes, one
 * refund or checkout (what a caller waiting for the payments reaction looks at), the payments that
 * could not be credited, and the lookups that say which workspace an id belongs to.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Money } from '../src/domain/credits';
import type { RefundStatus } from '../src/domain/events';

export const PURCHASE_STATUSES = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED', 'DISPUTED', 'CHARGED_BACK'] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

export const DISPUTE_STATUSES = ['OPEN', 'WON', 'LOST'] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

export const CHECKOUT_STATUSES = [
  'STARTED',
  'OPEN',
  'FAILED',
  'PROCESSING',
  'PAID',
  'PAYMENT_FAILED',
  'EXPIRED',
] as const;
export type CheckoutStatus = (typeof CHECKOUT_STATUSES)[number];

export interface PurchaseRefundView {
  id: string;
  workspaceId: string;
  purchaseId: string;
  origin: 'ADMIN' | 'PROVIDER';
  providerRefundId: string | undefined;
  status: RefundStatus;
  credits: number;
  creditsOwed: number;
  amount: Money;
  reason: string;
  failure: string | undefined;
  requestedBy: string;
  requestedAt: Date;
  updatedAt: Date;
}

export interface PurchaseDisputeView {
  id: string;
  workspaceId: string;
  purchaseId: string;
  status: DisputeStatus;
  amount: Money;
  reason: string;
  creditsHeld: number;
  creditsSpent: number;
  creditsTakenBack: number;
  creditsOwed: number;
  openedAt: Date;
  closedAt: Date | undefined;
}

export interface CreditPurchaseView {
  id: string;
  workspaceId: string;
  grantId: string;
  packageId: string;
  packageName: string;
  credits: number;
  creditsLeft: number;
  amountPaid: Money;
  refundedCredits: number;
  refundedAmount: Money;
  creditsOwed: number;
  status: PurchaseStatus;
  provider: 'MANUAL' | 'STRIPE';
  paymentIntentId: string | undefined;
  purchasedBy: string;
  purchasedAt: Date;
  refunds: PurchaseRefundView[];
  disputes: PurchaseDisputeView[];
}

export interface CheckoutView {
  id: string;
  workspaceId: string;
  packageId: string;
  status: CheckoutStatus;
  sessionId: string | undefined;
  url: string | undefined;
  expiresAt: Date | undefined;
  error: string | undefined;
}

export interface RefusedProviderEventView {
  eventId: string;
  type: string;
  reason: string;
  refusedAt: Date;
}

export interface UncreditedPaymentView {
  workspaceId: string;
  sessionId: string;
  paymentIntentId: string | undefined;
  checkoutId: string | undefined;
  amount: Money;
  /** What went back to the buyer of it: refunds Stripe reported (not failed or canceled) and disputes lost. */
  amountReturned: Money;
  reason: string;
  receivedAt: Date;
}

interface PurchaseRow {
  workspace_id: string;
  purchase_id: string;
  grant_id: string;
  package_id: string;
  package_name: string;
  credits: number;
  credits_left: number;
  price_amount: number;
  currency: string;
  provider: 'MANUAL' | 'STRIPE';
  payment_intent_id: string | null;
  refunded_credits: number;
  refunded_amount: number;
  credits_owed: number;
  dispute_status: DisputeStatus | null;
  purchased_by: string;
  purchased_at: number;
}

interface RefundRow {
  workspace_id: string;
  refund_id: string;
  purchase_id: string;
  origin: 'ADMIN' | 'PROVIDER';
  provider_refund_id: string | null;
  status: RefundStatus;
  credits: number;
  credits_owed: number;
  amount: number;
  currency: string;
  reason: string;
  failure: string | null;
  requested_by: string;
  requested_at: number;
  updated_at: number;
}

interface DisputeRow {
  workspace_id: string;
  dispute_id: string;
  purchase_id: string;
  status: DisputeStatus;
  amount: number;
  currency: string;
  reason: string;
  credits_held: number;
  credits_spent: number;
  credits_taken_back: number;
  credits_owed: number;
  opened_at: number;
  closed_at: number | null;
}

interface CheckoutRow {
  workspace_id: string;
  checkout_id: string;
  package_id: string;
  status: CheckoutStatus;
  session_id: string | null;
  url: string | null;
  expires_at: number | null;
  error: string | null;
}

interface UncreditedRow {
  workspace_id: string;
  session_id: string;
  payment_intent_id: string | null;
  checkout_id: string | null;
  amount: number;
  currency: string;
  reason: string;
  received_at: number;
  returned: number;
}

/** Where a purchase stands in the list: when it was bought (epoch ms), then its id. */
export interface PurchasePosition {
  at: number;
  id: string;
}

interface PageParameters {
  workspaceId: string;
  at: number | null;
  id: string | null;
  limit: number;
}

function statusOf(row: PurchaseRow): PurchaseStatus {
  if (row.dispute_status === 'OPEN') return 'DISPUTED';
  if (row.dispute_status === 'LOST') return 'CHARGED_BACK';
  if (row.refunded_amount === 0 && row.refunded_credits === 0) return 'PAID';
  return row.refunded_amount >= row.price_amount && row.refunded_amount > 0 ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
}

const refundView = (row: RefundRow): PurchaseRefundView => ({
  id: row.refund_id,
  workspaceId: row.workspace_id,
  purchaseId: row.purchase_id,
  origin: row.origin,
  providerRefundId: row.provider_refund_id ?? undefined,
  status: row.status,
  credits: row.credits,
  creditsOwed: row.credits_owed,
  amount: { amount: row.amount, currency: row.currency },
  reason: row.reason,
  failure: row.failure ?? undefined,
  requestedBy: row.requested_by,
  requestedAt: new Date(row.requested_at),
  updatedAt: new Date(row.updated_at),
});

const disputeView = (row: DisputeRow): PurchaseDisputeView => ({
  id: row.dispute_id,
  workspaceId: row.workspace_id,
  purchaseId: row.purchase_id,
  status: row.status,
  amount: { amount: row.amount, currency: row.currency },
  reason: row.reason,
  creditsHeld: row.credits_held,
  creditsSpent: row.credits_spent,
  creditsTakenBack: row.credits_taken_back,
  creditsOwed: row.credits_owed,
  openedAt: new Date(row.opened_at),
  closedAt: row.closed_at === null ? undefined : new Date(row.closed_at),
});

export class CreditPurchasesReader {
  private readonly byWorkspace: Statement<[string], PurchaseRow>;
  private readonly pageOfWorkspace: Statement<PageParameters, PurchaseRow>;
  private readonly byId: Statement<[string, string], PurchaseRow>;
  private readonly workspacesById: Statement<[string], { workspace_id: string }>;
  private readonly byPaymentIntent: Statement<[string], { workspace_id: string }>;
  private readonly refundsOf: Statement<[string, string], RefundRow>;
  private readonly disputesOf: Statement<[string, string], DisputeRow>;
  private readonly refundById: Statement<[string, string], RefundRow>;
  private readonly checkoutById: Statement<[string, string], CheckoutRow>;
  private readonly uncredited: Statement<[], UncreditedRow>;
  private readonly refused: Statement<[], { event_id: string; type: string; reason: string; refused_at: number }>;

  constructor(db: Database) {
    this.byWorkspace = db.prepare(
      'SELECT * FROM credit_purchases WHERE workspace_id = ? ORDER BY purchased_at DESC, purchase_id',
    );
    // The same order, from just past a cursor (the last purchase of the page before).
    this.pageOfWorkspace = db.prepare(
      `SELECT * FROM credit_purchases WHERE workspace_id = @workspaceId
         AND (@at IS NULL OR purchased_at < @at OR (purchased_at = @at AND purchase_id > @id))
       ORDER BY purchased_at DESC, purchase_id LIMIT @limit`,
    );
    this.byId = db.prepare('SELECT * FROM credit_purchases WHERE workspace_id = ? AND purchase_id = ?');
    this.workspacesById = db.prepare(
      'SELECT workspace_id FROM credit_purchases WHERE purchase_id = ? ORDER BY workspace_id',
    );
    this.byPaymentIntent = db.prepare('SELECT workspace_id FROM credit_purchases WHERE payment_intent_id = ?');
    this.refundsOf = db.prepare(
      'SELECT * FROM purchase_refunds WHERE workspace_id = ? AND purchase_id = ? ORDER BY requested_at, refund_id',
    );
    this.disputesOf = db.prepare(
      'SELECT * FROM purchase_disputes WHERE workspace_id = ? AND purchase_id = ? ORDER BY opened_at, dispute_id',
    );
    this.refundById = db.prepare('SELECT * FROM purchase_refunds WHERE workspace_id = ? AND refund_id = ?');
    this.checkoutById = db.prepare('SELECT * FROM checkouts WHERE workspace_id = ? AND checkout_id = ?');
    this.uncredited = db.prepare(
      `SELECT u.*, (SELECT COALESCE(SUM(f.amount), 0) FROM provider_facts_of_unrecorded f
           WHERE f.workspace_id = u.workspace_id AND f.payment_intent_id = u.payment_intent_id
             AND f.status IN ('PENDING', 'REQUIRES_ACTION', 'SUCCEEDED', 'LOST')) AS returned
       FROM uncredited_payments u ORDER BY u.received_at DESC`,
    );
    this.refused = db.prepare('SELECT * FROM refused_provider_events ORDER BY refused_at DESC LIMIT 500');
  }

  /** Newest first. */
  purchases(workspaceId: string): CreditPurchaseView[] {
    return this.byWorkspace.all(workspaceId).map((row) => this.view(row));
  }

  /** One page of purchases, newest first: `first` of them after the purchase `after` names. */
  page(
    workspaceId: string,
    options: { first: number; after?: PurchasePosition | undefined },
  ): { purchases: CreditPurchaseView[]; hasNextPage: boolean } {
    const rows = this.pageOfWorkspace.all({
      workspaceId,
      at: options.after?.at ?? null,
      id: options.after?.id ?? null,
      limit: options.first + 1,
    });
    return {
      purchases: rows.slice(0, options.first).map((row) => this.view(row)),
      hasNextPage: rows.length > options.first,
    };
  }

  purchase(workspaceId: string, purchaseId: string): CreditPurchaseView | undefined {
    const row = this.byId.get(workspaceId, purchaseId);
    return row && this.view(row);
  }

  /** The workspaces that have a purchase with this id (a manual payment reference may repeat). */
  workspacesOfPurchase(purchaseId: string): string[] {
    return this.workspacesById.all(purchaseId).map((row) => row.workspace_id);
  }

  workspaceOfPayment(paymentIntentId: string): string | undefined {
    return this.byPaymentIntent.get(paymentIntentId)?.workspace_id;
  }

  refund(workspaceId: string, refundId: string): PurchaseRefundView | undefined {
    const row = this.refundById.get(workspaceId, refundId);
    return row && refundView(row);
  }

  checkout(workspaceId: string, checkoutId: string): CheckoutView | undefined {
    const row = this.checkoutById.get(workspaceId, checkoutId);
    return (
      row && {
        id: row.checkout_id,
        workspaceId: row.workspace_id,
        packageId: row.package_id,
        status: row.status,
        sessionId: row.session_id ?? undefined,
        url: row.url ?? undefined,
        expiresAt: row.expires_at === null ? undefined : new Date(row.expires_at),
        error: row.error ?? undefined,
      }
    );
  }

  /** Paid checkouts that could not be credited, newest first: for admins to act on. */
  uncreditedPayments(): UncreditedPaymentView[] {
    return this.uncredited.all().map((row) => ({
      workspaceId: row.workspace_id,
      sessionId: row.session_id,
      paymentIntentId: row.payment_intent_id ?? undefined,
      checkoutId: row.checkout_id ?? undefined,
      amount: { amount: row.amount, currency: row.currency },
      amountReturned: { amount: Math.min(row.returned, row.amount), currency: row.currency },
      reason: row.reason,
      receivedAt: new Date(row.received_at),
    }));
  }

  /** Provider events refused as invalid, newest first (the last 500). */
  refusedProviderEvents(): RefusedProviderEventView[] {
    return this.refused.all().map((row) => ({
      eventId: row.event_id,
      type: row.type,
      reason: row.reason,
      refusedAt: new Date(row.refused_at),
    }));
  }

  private view(row: PurchaseRow): CreditPurchaseView {
    return {
      id: row.purchase_id,
      workspaceId: row.workspace_id,
      grantId: row.grant_id,
      packageId: row.package_id,
      packageName: row.package_name,
      credits: row.credits,
      creditsLeft: row.credits_left,
      amountPaid: { amount: row.price_amount, currency: row.currency },
      refundedCredits: row.refunded_credits,
      // The provider's messages in any order may briefly add up past the price; no more than it went back.
      refundedAmount: { amount: Math.min(row.refunded_amount, row.price_amount), currency: row.currency },
      creditsOwed: row.credits_owed,
      status: statusOf(row),
      provider: row.provider,
      paymentIntentId: row.payment_intent_id ?? undefined,
      purchasedBy: row.purchased_by,
      purchasedAt: new Date(row.purchased_at),
      refunds: this.refundsOf.all(row.workspace_id, row.purchase_id).map(refundView),
      disputes: this.disputesOf.all(row.workspace_id, row.purchase_id).map(disputeView),
    };
  }
}
