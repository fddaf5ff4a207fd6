/**
 * The purchases read model: each credit purchase with what was paid, what is left of its credits,
 * and what was refunded, for the Billing page and for finding a purchase from a payment. It follows
 * its grant through spends, expiries and refunds by itself, so it never depends on another model.
 */
import type { Database } from 'better-sqlite3';
import { toWorkspaceCreditsEvent } from '../src/events/workspace-stream';
import type { RecordedEvent } from '../src/eventstore/port';
import type { Projection } from './projection';

export const creditPurchasesProjection: Projection = {
  name: 'credit-purchases',
  version: 1,

  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS credit_purchases (
        purchase_id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        grant_id TEXT NOT NULL UNIQUE,
        package_id TEXT NOT NULL,
        package_name TEXT NOT NULL,
        credits INTEGER NOT NULL,
        credits_left INTEGER NOT NULL,
        price_amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        provider TEXT NOT NULL,
        payment_intent_id TEXT,
        refunded_credits INTEGER NOT NULL DEFAULT 0,
        refunded_amount INTEGER NOT NULL DEFAULT 0,
        purchased_by TEXT NOT NULL,
        purchased_at INTEGER NOT NULL
      );
    `);
  },

  queryIndexes: [
    'CREATE INDEX IF NOT EXISTS purchases_by_workspace ON credit_purchases (workspace_id, purchased_at)',
    `CREATE INDEX IF NOT EXISTS purchases_by_payment_intent ON credit_purchases (payment_intent_id)
       WHERE payment_intent_id IS NOT NULL`,
  ],

  reset(db) {
    db.exec('DROP TABLE IF EXISTS credit_purchases;');
  },

  prepare(db) {
    const insert = db.prepare(
      `INSERT INTO credit_purchases (purchase_id, workspace_id, grant_id, package_id, package_name, credits, credits_left,
         price_amount, currency, provider, payment_intent_id, purchased_by, purchased_at)
       VALUES (@purchaseId, @workspaceId, @grantId, @packageId, @packageName, @credits, @credits,
         @priceAmount, @currency, @provider, @paymentIntentId, @purchasedBy, @purchasedAt)`,
    );
    const changeLeft = db.prepare('UPDATE credit_purchases SET credits_left = credits_left + ? WHERE grant_id = ?');
    const refund = db.prepare(
      `UPDATE credit_purchases SET credits_left = credits_left - @credits, refunded_credits = refunded_credits + @credits,
         refunded_amount = refunded_amount + @amount WHERE purchase_id = @purchaseId`,
    );
    const apply = (recorded: RecordedEvent): void => {
      const event = toWorkspaceCreditsEvent(recorded);
      switch (event?.type) {
        case 'CreditsPurchased': {
          const { data } = event;
          insert.run({
            ...data,
            priceAmount: data.price.amount,
            currency: data.price.currency,
            provider: data.payment.provider,
            paymentIntentId: data.payment.provider === 'STRIPE' ? data.payment.paymentIntentId : null,
            purchasedAt: Date.parse(data.purchasedAt),
          });
          return;
        }
        case 'CreditsConsumed':
          for (const part of event.data.drawdown)
            if (part.source === 'PURCHASED') changeLeft.run(-part.credits, part.grantId);
          return;
        case 'CreditConsumptionRefunded':
          for (const part of event.data.drawdown)
            if (part.source === 'PURCHASED') changeLeft.run(part.credits, part.grantId);
          return;
        case 'CreditsExpired':
          if (event.data.source === 'PURCHASED') changeLeft.run(-event.data.credits, event.data.grantId);
          return;
        case 'CreditPurchaseRefunded':
          refund.run({
            purchaseId: event.data.purchaseId,
            credits: event.data.credits,
            amount: event.data.amount.amount,
          });
          return;
        default:
          return;
      }
    };
    return { apply };
  },
};

export const PURCHASE_STATUSES = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

export interface CreditPurchaseView {
  id: string;
  workspaceId: string;
  grantId: string;
  packageId: string;
  packageName: string;
  credits: number;
  creditsLeft: number;
  amountPaid: { amount: number; currency: string };
  refundedCredits: number;
  refundedAmount: { amount: number; currency: string };
  status: PurchaseStatus;
  provider: 'MANUAL' | 'STRIPE';
  paymentIntentId: string | undefined;
  purchasedBy: string;
  purchasedAt: Date;
}

interface PurchaseRow {
  purchase_id: string;
  workspace_id: string;
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
  purchased_by: string;
  purchased_at: number;
}

function statusOf(row: PurchaseRow): PurchaseStatus {
  if (row.refunded_amount === 0 && row.refunded_credits === 0) return 'PAID';
  const everything = row.refunded_amount >= row.price_amount && row.refunded_credits >= row.credits;
  return everything ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
}

const toView = (row: PurchaseRow): CreditPurchaseView => ({
  id: row.purchase_id,
  workspaceId: row.workspace_id,
  grantId: row.grant_id,
  packageId: row.package_id,
  packageName: row.package_name,
  credits: row.credits,
  creditsLeft: row.credits_left,
  amountPaid: { amount: row.price_amount, currency: row.currency },
  refundedCredits: row.refunded_credits,
  refundedAmount: { amount: row.refunded_amount, currency: row.currency },
  status: statusOf(row),
  provider: row.provider,
  paymentIntentId: row.payment_intent_id ?? undefined,
  purchasedBy: row.purchased_by,
  purchasedAt: new Date(row.purchased_at),
});

export class CreditPurchasesReader {
  private readonly byWorkspace;
  private readonly byId;
  private readonly byPaymentIntent;

  constructor(db: Database) {
    this.byWorkspace = db.prepare<[string], PurchaseRow>(
      'SELECT * FROM credit_purchases WHERE workspace_id = ? ORDER BY purchased_at DESC, purchase_id',
    );
    this.byId = db.prepare<[string], PurchaseRow>('SELECT * FROM credit_purchases WHERE purchase_id = ?');
    this.byPaymentIntent = db.prepare<[string], PurchaseRow>(
      'SELECT * FROM credit_purchases WHERE payment_intent_id = ?',
    );
  }

  /** Newest first. */
  purchases(workspaceId: string): CreditPurchaseView[] {
    return this.byWorkspace.all(workspaceId).map(toView);
  }

  purchase(purchaseId: string): CreditPurchaseView | undefined {
    const row = this.byId.get(purchaseId);
    return row && toView(row);
  }

  purchaseByPaymentIntent(paymentIntentId: string): CreditPurchaseView | undefined {
    const row = this.byPaymentIntent.get(paymentIntentId);
    return row && toView(row);
  }
}
