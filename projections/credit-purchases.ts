/**
 * The purchases read model: each credit purchase with what was paid, what is left of its credits,
 * the money returned and the credits owed, its refunds and disputes with their statuses, and the
 * checkouts that led (or did not lead) to a purchase, for the Billing page, admins, and the
 * callers waiting for a checkout or a refund to move. Everything is keyed by workspace: purchase
 * ids are the workspace's own (an invoice reference may repeat across workspaces).
 */
import { toProviderEventRefused } from '../src/events/provider-refusals';
import { toWorkspaceCreditsEvent } from '../src/events/workspace-stream';
import type { RecordedEvent } from '../src/eventstore/port';
import type { Projection } from './projection';

export const creditPurchasesProjection: Projection = {
  name: 'credit-purchases',
  version: 4,

  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS credit_purchases (
        workspace_id TEXT NOT NULL,
        purchase_id TEXT NOT NULL,
        grant_id TEXT NOT NULL,
        package_id TEXT NOT NULL,
        package_name TEXT NOT NULL,
        credits INTEGER NOT NULL,
        credits_left INTEGER NOT NULL,
        price_amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        provider TEXT NOT NULL,
        payment_intent_id TEXT,
        checkout_id TEXT,
        refunded_credits INTEGER NOT NULL DEFAULT 0,
        refunded_amount INTEGER NOT NULL DEFAULT 0,
        credits_owed INTEGER NOT NULL DEFAULT 0,
        dispute_status TEXT,
        purchased_by TEXT NOT NULL,
        purchased_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, purchase_id)
      );
      CREATE UNIQUE INDEX IF NOT EXISTS purchases_by_grant ON credit_purchases (workspace_id, grant_id);
      CREATE TABLE IF NOT EXISTS purchase_refunds (
        workspace_id TEXT NOT NULL,
        refund_id TEXT NOT NULL,
        purchase_id TEXT NOT NULL,
        origin TEXT NOT NULL,
        provider_refund_id TEXT,
        status TEXT NOT NULL,
        credits INTEGER NOT NULL,
        credits_owed INTEGER NOT NULL,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        reason TEXT NOT NULL,
        failure TEXT,
        requested_by TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, refund_id)
      );
      CREATE TABLE IF NOT EXISTS purchase_disputes (
        workspace_id TEXT NOT NULL,
        dispute_id TEXT NOT NULL,
        purchase_id TEXT NOT NULL,
        status TEXT NOT NULL,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        reason TEXT NOT NULL,
        credits_held INTEGER NOT NULL,
        credits_spent INTEGER NOT NULL,
        credits_taken_back INTEGER NOT NULL DEFAULT 0,
        credits_owed INTEGER NOT NULL DEFAULT 0,
        opened_at INTEGER NOT NULL,
        closed_at INTEGER,
        PRIMARY KEY (workspace_id, dispute_id)
      );
      CREATE TABLE IF NOT EXISTS checkouts (
        workspace_id TEXT NOT NULL,
        checkout_id TEXT NOT NULL,
        package_id TEXT NOT NULL,
        package_name TEXT NOT NULL,
        credits INTEGER NOT NULL,
        price_amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        status TEXT NOT NULL,
        session_id TEXT,
        url TEXT,
        expires_at INTEGER,
        error TEXT,
        started_by TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, checkout_id)
      );
      CREATE TABLE IF NOT EXISTS uncredited_payments (
        workspace_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        payment_intent_id TEXT,
        checkout_id TEXT,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        reason TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, session_id)
      );
      -- What Stripe reported of payments not recorded as purchases (yet): refunds and disputes by
      -- their ids, as last reported. For an uncredited payment, the money that went back.
      CREATE TABLE IF NOT EXISTS provider_facts_of_unrecorded (
        workspace_id TEXT NOT NULL,
        payment_intent_id TEXT NOT NULL,
        fact_id TEXT NOT NULL,
        amount INTEGER NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (workspace_id, payment_intent_id, fact_id)
      );
      CREATE TABLE IF NOT EXISTS refused_provider_events (
        event_id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        reason TEXT NOT NULL,
        refused_at INTEGER NOT NULL
      );
    `);
  },

  queryIndexes: [
    'CREATE INDEX IF NOT EXISTS purchases_by_id ON credit_purchases (purchase_id)',
    'CREATE INDEX IF NOT EXISTS purchases_by_time ON credit_purchases (workspace_id, purchased_at)',
    `CREATE INDEX IF NOT EXISTS purchases_by_payment_intent ON credit_purchases (payment_intent_id)
       WHERE payment_intent_id IS NOT NULL`,
    'CREATE INDEX IF NOT EXISTS refunds_by_purchase ON purchase_refunds (workspace_id, purchase_id)',
    'CREATE INDEX IF NOT EXISTS disputes_by_purchase ON purchase_disputes (workspace_id, purchase_id)',
  ],

  reset(db) {
    db.exec(`DROP TABLE IF EXISTS credit_purchases; DROP TABLE IF EXISTS purchase_refunds;
      DROP TABLE IF EXISTS purchase_disputes; DROP TABLE IF EXISTS checkouts; DROP TABLE IF EXISTS uncredited_payments;
      DROP TABLE IF EXISTS refused_provider_events; DROP TABLE IF EXISTS provider_facts_of_unrecorded;`);
  },

  prepare(db) {
    const insert = db.prepare(
      `INSERT INTO credit_purchases (workspace_id, purchase_id, grant_id, package_id, package_name, credits, credits_left,
         price_amount, currency, provider, payment_intent_id, checkout_id, purchased_by, purchased_at)
       VALUES (@workspaceId, @purchaseId, @grantId, @packageId, @packageName, @credits, @credits,
         @priceAmount, @currency, @provider, @paymentIntentId, @checkoutId, @purchasedBy, @purchasedAt)`,
    );
    const changeLeft = db.prepare<[number, string, string]>(
      'UPDATE credit_purchases SET credits_left = credits_left + ? WHERE workspace_id = ? AND grant_id = ?',
    );
    const changeOwed = db.prepare<[number, string, string]>(
      'UPDATE credit_purchases SET credits_owed = MAX(0, credits_owed + ?) WHERE workspace_id = ? AND grant_id = ?',
    );
    const moneyBack = db.prepare(
      `UPDATE credit_purchases SET credits_left = credits_left - @credits, refunded_credits = refunded_credits + @credits,
         refunded_amount = refunded_amount + @amount, credits_owed = credits_owed + @owed
       WHERE workspace_id = @workspaceId AND purchase_id = @purchaseId`,
    );
    const disputeStatus = db.prepare<[string, string, string]>(
      'UPDATE credit_purchases SET dispute_status = ? WHERE workspace_id = ? AND purchase_id = ?',
    );
    const insertRefund = db.prepare(
      `INSERT INTO purchase_refunds (workspace_id, refund_id, purchase_id, origin, provider_refund_id, status, credits,
         credits_owed, amount, currency, reason, requested_by, requested_at, updated_at)
       VALUES (@workspaceId, @refundId, @purchaseId, @origin, @providerRefundId, @status, @credits,
         @creditsOwed, @amount, @currency, @reason, @requestedBy, @at, @at)`,
    );
    const refundStatus = db.prepare(
      `UPDATE purchase_refunds SET status = @status, provider_refund_id = COALESCE(@providerRefundId, provider_refund_id),
         failure = COALESCE(@failure, failure), updated_at = @at
       WHERE workspace_id = @workspaceId AND refund_id = @refundId`,
    );
    const insertDispute = db.prepare(
      `INSERT INTO purchase_disputes (workspace_id, dispute_id, purchase_id, status, amount, currency, reason,
         credits_held, credits_spent, opened_at)
       VALUES (@workspaceId, @disputeId, @purchaseId, 'OPEN', @amount, @currency, @reason, @creditsHeld, @creditsSpent, @at)`,
    );
    const closeDispute = db.prepare(
      `UPDATE purchase_disputes SET status = @outcome, credits_taken_back = @creditsTakenBack, credits_owed = @creditsOwed,
         closed_at = @at WHERE workspace_id = @workspaceId AND dispute_id = @disputeId`,
    );
    const insertCheckout = db.prepare(
      `INSERT INTO checkouts (workspace_id, checkout_id, package_id, package_name, credits, price_amount, currency,
         status, started_by, started_at)
       VALUES (@workspaceId, @checkoutId, @packageId, @packageName, @credits, @priceAmount, @currency, 'STARTED',
         @startedBy, @at)`,
    );
    const checkoutStatus = db.prepare(
      `UPDATE checkouts SET status = @status, session_id = COALESCE(@sessionId, session_id), url = COALESCE(@url, url),
         expires_at = COALESCE(@expiresAt, expires_at), error = COALESCE(@error, error)
       WHERE workspace_id = @workspaceId AND checkout_id = @checkoutId`,
    );
    const insertUncredited = db.prepare(
      `INSERT INTO uncredited_payments (workspace_id, session_id, payment_intent_id, checkout_id, amount, currency, reason,
         received_at)
       VALUES (@workspaceId, @sessionId, @paymentIntentId, @checkoutId, @amount, @currency, @reason, @at)`,
    );
    const checkoutChange = (workspaceId: string, checkoutId: string, status: string, fields: CheckoutFields = {}) =>
      checkoutStatus.run({
        workspaceId,
        checkoutId,
        status,
        sessionId: fields.sessionId ?? null,
        url: fields.url ?? null,
        expiresAt: fields.expiresAt ?? null,
        error: fields.error ?? null,
      });

    const providerFact = db.prepare(
      `INSERT INTO provider_facts_of_unrecorded (workspace_id, payment_intent_id, fact_id, amount, status)
       VALUES (@workspaceId, @paymentIntentId, @factId, @amount, @status)
       ON CONFLICT (workspace_id, payment_intent_id, fact_id) DO UPDATE SET amount = excluded.amount, status = excluded.status
       -- Stripe's messages come in any order: an end (failed, canceled, won, lost) is not undone by an older
       -- word, and a refund made moves on only to failing (a refund can fail after it succeeded), as in the domain.
       WHERE provider_facts_of_unrecorded.status NOT IN ('FAILED', 'CANCELED', 'WON', 'LOST')
         AND (provider_facts_of_unrecorded.status <> 'SUCCEEDED' OR excluded.status IN ('FAILED', 'CANCELED'))`,
    );
    const insertRefused = db.prepare(
      `INSERT OR IGNORE INTO refused_provider_events (event_id, type, reason, refused_at)
       VALUES (@eventId, @type, @reason, @at)`,
    );

    const apply = (recorded: RecordedEvent): void => {
      const refused = toProviderEventRefused(recorded);
      if (refused) {
        insertRefused.run({ ...refused, at: Date.parse(refused.refusedAt) });
        return;
      }
      const event = toWorkspaceCreditsEvent(recorded);
      if (!event) return;
      const workspaceId = event.data.workspaceId;
      switch (event.type) {
        case 'CreditsPurchased': {
          const { data } = event;
          insert.run({
            ...data,
            priceAmount: data.price.amount,
            currency: data.price.currency,
            provider: data.payment.provider,
            paymentIntentId: data.payment.provider === 'STRIPE' ? data.payment.paymentIntentId : null,
            checkoutId: data.checkoutId ?? null,
            purchasedAt: Date.parse(data.purchasedAt),
          });
          if (data.checkoutId !== undefined) checkoutChange(workspaceId, data.checkoutId, 'PAID');
          return;
        }
        case 'CreditsConsumed':
        case 'CreditHoldSettled': // a settled hold's real cost is a spend; held credits are still left
          for (const part of event.data.drawdown)
            if (part.source === 'PURCHASED') changeLeft.run(-part.credits, workspaceId, part.grantId);
          return;
        case 'CreditConsumptionRefunded':
          for (const part of event.data.drawdown)
            if (part.source === 'PURCHASED') changeLeft.run(part.credits, workspaceId, part.grantId);
          return;
        case 'CreditsExpired':
          if (event.data.source !== 'PURCHASED') return;
          changeLeft.run(-event.data.credits, workspaceId, event.data.grantId);
          if (event.data.reason === 'MONEY_RETURNED')
            changeOwed.run(-event.data.credits, workspaceId, event.data.grantId);
          return;
        case 'CreditPurchaseRefunded': {
          const { data } = event;
          moneyBack.run({ ...data, amount: data.amount.amount, owed: 0 });
          insertRefund.run({
            ...data,
            providerRefundId: data.providerRefundId ?? null,
            status: 'SUCCEEDED',
            creditsOwed: 0,
            amount: data.amount.amount,
            currency: data.amount.currency,
            requestedBy: data.refundedBy,
            at: Date.parse(data.refundedAt),
          });
          return;
        }
        case 'PurchaseRefundRequested': {
          const { data } = event;
          moneyBack.run({ ...data, amount: data.amount.amount, owed: data.creditsOwed });
          insertRefund.run({
            ...data,
            providerRefundId: data.providerRefundId ?? null,
            status: 'REQUESTED',
            amount: data.amount.amount,
            currency: data.amount.currency,
            at: Date.parse(data.requestedAt),
          });
          return;
        }
        case 'PurchaseRefundPending':
          refundStatus.run({ ...event.data, failure: null, at: Date.parse(event.data.updatedAt) });
          return;
        case 'PurchaseRefundSucceeded':
          refundStatus.run({
            ...event.data,
            status: 'SUCCEEDED',
            providerRefundId: event.data.providerRefundId ?? null,
            failure: null,
            at: Date.parse(event.data.succeededAt),
          });
          return;
        case 'PurchaseRefundFailed': {
          const { data } = event;
          moneyBack.run({ ...data, credits: -data.credits, amount: -data.amount.amount, owed: -data.creditsOwed });
          // Credits that had lapsed for the money are left again (their lapse took them off).
          if (data.creditsRestored) changeLeft.run(data.creditsRestored, workspaceId, data.grantId);
          refundStatus.run({
            ...data,
            providerRefundId: data.providerRefundId ?? null,
            failure: data.reason,
            at: Date.parse(data.failedAt),
          });
          return;
        }
        case 'PurchaseDisputeOpened': {
          const { data } = event;
          insertDispute.run({
            ...data,
            amount: data.amount.amount,
            currency: data.amount.currency,
            at: Date.parse(data.openedAt),
          });
          disputeStatus.run('OPEN', workspaceId, data.purchaseId);
          return;
        }
        case 'PurchaseDisputeClosed': {
          const { data } = event;
          closeDispute.run({ ...data, at: Date.parse(data.closedAt) });
          moneyBack.run({
            ...data,
            credits: data.creditsTakenBack,
            amount: data.amountLost.amount,
            owed: data.creditsOwed,
          });
          disputeStatus.run(data.outcome, workspaceId, data.purchaseId);
          return;
        }
        case 'CheckoutStarted': {
          const { data } = event;
          insertCheckout.run({
            ...data,
            ...data.offer,
            priceAmount: data.offer.price.amount,
            currency: data.offer.price.currency,
            at: Date.parse(data.startedAt),
          });
          return;
        }
        case 'CheckoutSessionOpened':
          checkoutChange(workspaceId, event.data.checkoutId, 'OPEN', {
            sessionId: event.data.sessionId,
            url: event.data.url,
            expiresAt: Date.parse(event.data.expiresAt),
          });
          return;
        case 'CheckoutSessionFailed':
          checkoutChange(workspaceId, event.data.checkoutId, 'FAILED', { error: event.data.error });
          return;
        case 'CheckoutPaymentUpdated':
          checkoutChange(
            workspaceId,
            event.data.checkoutId,
            event.data.status === 'FAILED' ? 'PAYMENT_FAILED' : event.data.status,
          );
          return;
        case 'ProviderEventDeferred': {
          const { workspaceId, paymentIntentId, fact } = event.data;
          const [factId, amount, status] =
            fact.kind === 'REFUND'
              ? [
                  `refund:${fact.refund.providerRefundId ?? fact.refund.refundId ?? ''}`,
                  fact.refund.amount,
                  fact.refund.status,
                ]
              : [`dispute:${fact.dispute.disputeId}`, fact.dispute.amount, fact.dispute.status];
          providerFact.run({ workspaceId, paymentIntentId, factId, amount, status });
          return;
        }
        case 'PaidCheckoutNotCredited': {
          const { data } = event;
          insertUncredited.run({
            ...data,
            checkoutId: data.checkoutId ?? null,
            amount: data.amountPaid.amount,
            currency: data.amountPaid.currency,
            at: Date.parse(data.receivedAt),
          });
          return;
        }
        default:
          return;
      }
    };
    return { apply };
  },
};

interface CheckoutFields {
  sessionId?: string;
  url?: string;
  expiresAt?: number;
  error?: string;
}
