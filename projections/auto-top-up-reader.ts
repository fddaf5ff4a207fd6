/**
 * Reads the auto top-up read model: a workspace's settings, consent, card and pause, what its
 * top-ups charged in a month, its recent top-ups, and one card setup (what a billing manager waiting
 * for the setup page looks at).
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Money } from '../src/domain/credits';
import type { AutoTopUpFailed, AutoTopUpSettings, AutoTopUpSkipped } from '../src/domain/events';

export interface SavedCardView {
  paymentMethodId: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  savedAt: Date;
}

export interface TopUpView {
  topUpId: string;
  status: 'REQUESTED' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';
  credits: number;
  amount: Money;
  month: string;
  failedAttempts: number;
  lastFailure: AutoTopUpFailed['data'] | undefined;
  paymentIntentId: string | undefined;
  requestedAt: Date;
  updatedAt: Date;
}

export interface AutoTopUpView {
  workspaceId: string;
  settings: AutoTopUpSettings | undefined;
  consent: { acceptedBy: string; acceptedAt: string; terms: string } | undefined;
  paused: boolean;
  pauseReason: string | undefined;
  card: SavedCardView | undefined;
  lastSkip: AutoTopUpSkipped['data'] | undefined;
}

export interface CardSetupView {
  setupId: string;
  workspaceId: string;
  status: 'STARTED' | 'OPEN' | 'FAILED' | 'SAVED';
  url: string | undefined;
  expiresAt: Date | undefined;
  error: string | undefined;
}

interface SettingsRow {
  settings: string | null;
  consent: string | null;
  paused: number;
  pause_reason: string | null;
  card: string | null;
  last_skip: string | null;
}

interface ChargeRow {
  top_up_id: string;
  status: TopUpView['status'];
  credits: number;
  amount: number;
  currency: string;
  month: string;
  failed_attempts: number;
  last_failure: string | null;
  payment_intent_id: string | null;
  requested_at: number;
  updated_at: number;
}

const parsed = <T>(json: string | null): T | undefined => (json === null ? undefined : (JSON.parse(json) as T));

export class AutoTopUpReader {
  private readonly settings: Statement<[string], SettingsRow>;
  private readonly charges: Statement<[string, number], ChargeRow>;
  private readonly monthTotal: Statement<
    [{ workspaceId: string; month: string; currency: string }],
    { total: number | null }
  >;
  private readonly afterLimitSkip: Statement<[string, number], string>;
  private readonly setup: Statement<
    [string, string],
    { status: CardSetupView['status']; url: string | null; expires_at: number | null; error: string | null }
  >;

  constructor(db: Database) {
    this.settings = db.prepare('SELECT * FROM auto_top_up WHERE workspace_id = ?');
    this.charges = db.prepare(
      'SELECT * FROM auto_top_up_charges WHERE workspace_id = ? ORDER BY requested_at DESC, top_up_id DESC LIMIT ?',
    );
    this.monthTotal = db.prepare(
      `SELECT coalesce((SELECT sum(CASE WHEN collected_currency = @currency THEN collected_amount ELSE 0 END
           + CASE WHEN currency = @currency AND (status NOT IN ('FAILED', 'CANCELED') OR may_still_be_paid = 1)
               THEN amount ELSE 0 END)
         FROM auto_top_up_charges WHERE workspace_id = @workspaceId AND month = @month), 0)
       + coalesce((SELECT sum(amount) FROM auto_top_up_late_money
         WHERE workspace_id = @workspaceId AND month = @month AND currency = @currency), 0) AS total`,
    );
    this.afterLimitSkip = db
      .prepare<[string, number], string>(
        `SELECT workspace_id FROM auto_top_up
         WHERE limit_skipped_in IS NOT NULL AND limit_skipped_in < ? AND paused = 0
           AND json_extract(settings, '$.enabled') = 1
         ORDER BY limit_skipped_in LIMIT ?`,
      )
      .pluck();
    this.setup = db.prepare(
      'SELECT status, url, expires_at, error FROM auto_top_up_setups WHERE workspace_id = ? AND setup_id = ?',
    );
  }

  /**
   * Workspaces whose last crossing was skipped for the monthly limit of a month before `month`, and
   * that have neither topped up nor come back to the threshold since: the new month's limit is whole.
   */
  workspacesToTopUpAfterLimit(month: string, limit: number): string[] {
    return this.afterLimitSkip.all(month, limit);
  }

  autoTopUp(workspaceId: string): AutoTopUpView {
    const row = this.settings.get(workspaceId);
    const card = parsed<Omit<SavedCardView, 'savedAt'> & { savedAt: string }>(row?.card ?? null);
    return {
      workspaceId,
      settings: parsed(row?.settings ?? null),
      consent: parsed(row?.consent ?? null),
      paused: row?.paused === 1,
      pauseReason: row?.pause_reason ?? undefined,
      card: card && { ...card, savedAt: new Date(card.savedAt) },
      lastSkip: parsed(row?.last_skip ?? null),
    };
  }

  /** What top-ups counted against `month` (YYYY-MM, UTC) charge in `currency`, as the domain counts it (auto-top-up.ts). */
  chargedInMonth(workspaceId: string, month: string, currency: string): number {
    return this.monthTotal.get({ workspaceId, month, currency })?.total ?? 0;
  }

  recentTopUps(workspaceId: string, first: number): TopUpView[] {
    return this.charges.all(workspaceId, first).map((row) => ({
      topUpId: row.top_up_id,
      status: row.status,
      credits: row.credits,
      amount: { amount: row.amount, currency: row.currency },
      month: row.month,
      failedAttempts: row.failed_attempts,
      lastFailure: parsed(row.last_failure),
      paymentIntentId: row.payment_intent_id ?? undefined,
      requestedAt: new Date(row.requested_at),
      updatedAt: new Date(row.updated_at),
    }));
  }

  cardSetup(workspaceId: string, setupId: string): CardSetupView | undefined {
    const row = this.setup.get(workspaceId, setupId);
    if (!row) return undefined;
    return {
      setupId,
      workspaceId,
      status: row.status,
      url: row.url ?? undefined,
      expiresAt: row.expires_at === null ? undefined : new Date(row.expires_at),
      error: row.error ?? undefined,
    };
  }
}
