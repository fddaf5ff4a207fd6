/**
 * The auto top-up read model: per workspace, the settings and the consent in force, the saved card,
 * whether auto top-up paused itself and why, the last crossing it skipped; the card setups (the
 * page a billing manager is sent to); and each top-up with its attempts, for the month's use and
 * the Billing page. Decisions never read it: the monthly limit is decided on the workspace's stream.
 */
import type { WorkspaceCreditsEvent } from '../src/domain/events';
import { toWorkspaceCreditsEvent } from '../src/events/workspace-stream';
import type { RecordedEvent } from '../src/eventstore/port';
import type { Projection } from './projection';

type Handled<Type extends WorkspaceCreditsEvent['type']> = Extract<WorkspaceCreditsEvent, { type: Type }>;

export const autoTopUpProjection: Projection = {
  name: 'auto-top-up',
  // 5: money taken for a top-up that could not be credited counts in its month (collected_*).
  // 6: so does money of another attempt that came after the top-up was paid or had ended.
  version: 6,

  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS auto_top_up (
        workspace_id TEXT PRIMARY KEY,
        settings TEXT,
        consent TEXT,
        paused INTEGER NOT NULL DEFAULT 0,
        pause_reason TEXT,
        card TEXT,
        last_skip TEXT,
        -- The month (YYYY-MM) of a skip for the monthly limit the workspace has not left yet (no top-up
        -- requested, nor the balance back at the threshold, since): the expiry sweeper looks at these
        -- once a later month starts, a time-driven change no command brings.
        limit_skipped_in TEXT
      );
      CREATE TABLE IF NOT EXISTS auto_top_up_setups (
        workspace_id TEXT NOT NULL,
        setup_id TEXT NOT NULL,
        status TEXT NOT NULL,
        url TEXT,
        expires_at INTEGER,
        error TEXT,
        started_by TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, setup_id)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS auto_top_up_charges (
        workspace_id TEXT NOT NULL,
        top_up_id TEXT NOT NULL,
        status TEXT NOT NULL,
        credits INTEGER NOT NULL,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        month TEXT NOT NULL,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        last_failure TEXT,
        -- Canceled with no outcome recorded since: a charge made before the cancel may yet be paid,
        -- so it counts in the month as the decider counts it (auto-top-up.ts, mayStillBePaid).
        may_still_be_paid INTEGER NOT NULL DEFAULT 0,
        payment_intent_id TEXT,
        -- Money taken for it that could not be credited (AutoTopUpFailed.collected): it counts in
        -- the month in place of the amount, as the decider counts it.
        collected_amount INTEGER,
        collected_currency TEXT,
        requested_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, top_up_id)
      ) WITHOUT ROWID;
      -- Money of an attempt taken after its top-up was paid by another or had ended, not credited:
      -- it counts in the month it was taken (PaidCheckoutNotCredited.autoTopUpId).
      CREATE TABLE IF NOT EXISTS auto_top_up_late_money (
        workspace_id TEXT NOT NULL,
        payment_intent_id TEXT NOT NULL,
        top_up_id TEXT NOT NULL,
        month TEXT NOT NULL,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        PRIMARY KEY (workspace_id, payment_intent_id)
      ) WITHOUT ROWID;
    `);
  },

  reset(db) {
    db.exec(
      'DROP TABLE IF EXISTS auto_top_up; DROP TABLE IF EXISTS auto_top_up_setups; DROP TABLE IF EXISTS auto_top_up_charges; DROP TABLE IF EXISTS auto_top_up_late_money;',
    );
  },

  prepare(db) {
    const ensure = db.prepare('INSERT OR IGNORE INTO auto_top_up (workspace_id) VALUES (?)');
    const setColumn = (column: string) =>
      db.prepare<[string | number | null, string]>(`UPDATE auto_top_up SET ${column} = ? WHERE workspace_id = ?`);
    const setSettings = db.prepare(
      'UPDATE auto_top_up SET settings = ?, consent = ?, paused = 0, pause_reason = NULL WHERE workspace_id = ?',
    );
    const setCard = setColumn('card');
    const setSkip = setColumn('last_skip');
    const setLimitSkip = setColumn('limit_skipped_in');
    const pause = db.prepare('UPDATE auto_top_up SET paused = 1, pause_reason = ? WHERE workspace_id = ?');
    const resume = db.prepare('UPDATE auto_top_up SET paused = 0, pause_reason = NULL WHERE workspace_id = ?');
    const removeCard = db.prepare(
      `UPDATE auto_top_up SET card = NULL WHERE workspace_id = ? AND json_extract(card, '$.paymentMethodId') = ?`,
    );
    const insertSetup = db.prepare(
      `INSERT OR IGNORE INTO auto_top_up_setups (workspace_id, setup_id, status, started_by, started_at)
       VALUES (?, ?, 'STARTED', ?, ?)`,
    );
    const updateSetup = db.prepare(
      `UPDATE auto_top_up_setups SET status = @status, url = coalesce(@url, url), expires_at = coalesce(@expiresAt, expires_at),
         error = coalesce(@error, error) WHERE workspace_id = @workspaceId AND setup_id = @setupId`,
    );
    const insertCharge = db.prepare(
      `INSERT OR IGNORE INTO auto_top_up_charges
         (workspace_id, top_up_id, status, credits, amount, currency, month, requested_at, updated_at)
       VALUES (@workspaceId, @topUpId, 'REQUESTED', @credits, @amount, @currency, @month, @at, @at)`,
    );
    const chargeFailed = db.prepare(
      `UPDATE auto_top_up_charges SET failed_attempts = max(failed_attempts, @attempt), last_failure = @failure,
         may_still_be_paid = CASE WHEN @attempt > failed_attempts THEN 0 ELSE may_still_be_paid END,
         status = CASE WHEN @final = 1 AND status = 'REQUESTED' THEN 'FAILED' ELSE status END, updated_at = @at,
         month = CASE WHEN @collectedMonth IS NOT NULL THEN max(month, @collectedMonth) ELSE coalesce(@retryMonth, month) END,
         collected_amount = CASE
           WHEN @collectedAmount IS NULL THEN collected_amount
           WHEN collected_currency = @collectedCurrency THEN collected_amount + @collectedAmount
           ELSE @collectedAmount END,
         collected_currency = coalesce(@collectedCurrency, collected_currency)
       WHERE workspace_id = @workspaceId AND top_up_id = @topUpId`,
    );
    // Money for a top-up paid by another attempt or ended (PaidCheckoutNotCredited.autoTopUpId):
    // counted in the month it was taken, the top-up's own month left as it is, as the decider does.
    const lateMoney = db.prepare(
      `INSERT OR IGNORE INTO auto_top_up_late_money (workspace_id, payment_intent_id, top_up_id, month, amount, currency)
       VALUES (@workspaceId, @paymentIntentId, @topUpId, @month, @amount, @currency)`,
    );
    const chargeCanceled = db.prepare(
      `UPDATE auto_top_up_charges SET status = 'CANCELED', may_still_be_paid = 1, updated_at = ?
       WHERE workspace_id = ? AND top_up_id = ? AND status = 'REQUESTED'`,
    );
    const chargePaid = db.prepare(
      `UPDATE auto_top_up_charges SET status = 'SUCCEEDED', payment_intent_id = ?, may_still_be_paid = 0, updated_at = ?,
         month = CASE WHEN status = 'REQUESTED' OR may_still_be_paid = 1 THEN max(month, ?) ELSE month END
       WHERE workspace_id = ? AND top_up_id = ?`,
    );

    const handlers: { [Type in WorkspaceCreditsEvent['type']]?: (event: Handled<Type>) => void } = {
      AutoTopUpConfigured: ({ data }) => {
        ensure.run(data.workspaceId);
        setSettings.run(JSON.stringify(data.settings), JSON.stringify(data.consent), data.workspaceId);
        // A billing manager acting re-arms it, as the decider does: the skip is left.
        setLimitSkip.run(null, data.workspaceId);
      },
      PaymentMethodSetupStarted: ({ data }) => {
        ensure.run(data.workspaceId);
        insertSetup.run(data.workspaceId, data.setupId, data.startedBy, Date.parse(data.startedAt));
      },
      PaymentMethodSetupOpened: ({ data }) =>
        updateSetup.run({
          ...data,
          status: 'OPEN',
          url: data.url,
          expiresAt: Date.parse(data.expiresAt),
          error: null,
        }),
      PaymentMethodSetupFailed: ({ data }) =>
        updateSetup.run({ ...data, status: 'FAILED', url: null, expiresAt: null, error: data.error }),
      PaymentMethodSaved: ({ data }) => {
        ensure.run(data.workspaceId);
        if (data.setupId !== null) {
          updateSetup.run({ ...data, setupId: data.setupId, status: 'SAVED', url: null, expiresAt: null, error: null });
        }
        const card = { paymentMethodId: data.paymentMethodId, ...data.card, savedAt: data.savedAt };
        setCard.run(JSON.stringify(card), data.workspaceId);
        resume.run(data.workspaceId);
        setLimitSkip.run(null, data.workspaceId);
      },
      PaymentMethodRemoved: ({ data }) => removeCard.run(data.workspaceId, data.paymentMethodId),
      AutoTopUpRequested: ({ data }) => {
        setLimitSkip.run(null, data.workspaceId);
        insertCharge.run({
          workspaceId: data.workspaceId,
          topUpId: data.topUpId,
          credits: data.credits,
          amount: data.amount.amount,
          currency: data.amount.currency,
          month: data.month,
          at: Date.parse(data.requestedAt),
        });
      },
      AutoTopUpSkipped: ({ data }) => {
        ensure.run(data.workspaceId);
        setSkip.run(JSON.stringify(data), data.workspaceId);
        setLimitSkip.run(data.reason === 'MONTHLY_LIMIT' ? data.skippedAt.slice(0, 7) : null, data.workspaceId);
      },
      AutoTopUpRearmed: ({ data }) => setLimitSkip.run(null, data.workspaceId),
      AutoTopUpFailed: ({ data }) =>
        chargeFailed.run({
          workspaceId: data.workspaceId,
          topUpId: data.topUpId,
          attempt: data.attempt,
          failure: JSON.stringify(data),
          final: data.retryAt === null ? 1 : 0,
          at: Date.parse(data.failedAt),
          retryMonth: data.retryMonth ?? null,
          collectedAmount: data.collected?.amount ?? null,
          // Taken while awaited: counted in the month it was taken, as the decider does.
          collectedMonth: data.collected ? data.failedAt.slice(0, 7) : null,
          collectedCurrency: data.collected?.currency ?? null,
        }),
      PaidCheckoutNotCredited: ({ data }) => {
        if (data.autoTopUpId === undefined) return;
        lateMoney.run({
          workspaceId: data.workspaceId,
          paymentIntentId: data.paymentIntentId ?? data.sessionId,
          topUpId: data.autoTopUpId,
          month: data.receivedAt.slice(0, 7),
          amount: data.amountPaid.amount,
          currency: data.amountPaid.currency,
        });
      },
      AutoTopUpPaused: ({ data }) => {
        ensure.run(data.workspaceId);
        pause.run(data.reason, data.workspaceId);
      },
      AutoTopUpCanceled: ({ data }) => chargeCanceled.run(Date.parse(data.canceledAt), data.workspaceId, data.topUpId),
      CreditsPurchased: ({ data }) => {
        if (!('autoTopUpId' in data.payment)) return;
        chargePaid.run(
          data.payment.paymentIntentId,
          Date.parse(data.purchasedAt),
          data.purchasedAt.slice(0, 7), // paid in a later month while being charged: counted there, as the decider does
          data.workspaceId,
          data.payment.autoTopUpId,
        );
      },
    };

    return {
      apply(recorded: RecordedEvent) {
        const event = toWorkspaceCreditsEvent(recorded);
        if (!event) return;
        const handle = handlers[event.type] as ((event: WorkspaceCreditsEvent) => void) | undefined;
        handle?.(event);
      },
    };
  },
};
