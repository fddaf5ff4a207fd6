/**
 * The alerts read model: each workspace's alert rules, the alerts its balance raised (low,
 * depleted, recovered, credits expiring soon) and its webhook endpoints disabled for failing,
 * newest first, and which grants' coming expiry was noticed. Which workspaces are due an expiry
 * notice is asked of this model together with the balance model's grants (same database); the
 * notice itself is decided on the workspace's stream.
 */
import type { Database } from 'better-sqlite3';
import { DEFAULT_ALERT_RULES } from '../src/domain/alert-rules';
import type { GrantSource } from '../src/domain/credits';
import type { AlertRules, WorkspaceCreditsEvent } from '../src/domain/events';
import { toWebhookEndpointEvent } from '../src/events/webhook-endpoint-stream';
import { toWorkspaceCreditsEvent } from '../src/events/workspace-stream';
import type { RecordedEvent } from '../src/eventstore/port';
import type { Projection } from './projection';

const DAY_MS = 86_400_000;

export const ALERT_TYPES = ['CreditsLow', 'CreditsDepleted', 'CreditsRecovered', 'CreditsExpiringSoon'] as const;
/** The balance's alerts, and a workspace's webhook endpoint disabled because every attempt failed for too long. */
export type AlertType = (typeof ALERT_TYPES)[number] | 'WebhookEndpointDisabled';
type AlertEvent = Extract<WorkspaceCreditsEvent, { type: (typeof ALERT_TYPES)[number] }>;
const isAlert = (event: WorkspaceCreditsEvent): event is AlertEvent =>
  (ALERT_TYPES as readonly string[]).includes(event.type);

export const creditAlertsProjection: Projection = {
  name: 'credit-alerts',
  version: 2,

  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS alert_rules (
        workspace_id TEXT PRIMARY KEY,
        rules TEXT NOT NULL,
        expiring_soon_days INTEGER,
        configured_by TEXT NOT NULL,
        configured_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS alert_history (
        workspace_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        occurred_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, position)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS alert_expiry_notices (
        workspace_id TEXT NOT NULL,
        grant_id TEXT NOT NULL,
        PRIMARY KEY (workspace_id, grant_id)
      ) WITHOUT ROWID;
      -- Which workspace each of its webhook endpoints belongs to, for the alert when one is disabled
      -- for failing (platform endpoints have no workspace to tell).
      CREATE TABLE IF NOT EXISTS alert_endpoints (
        endpoint_id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL
      ) WITHOUT ROWID;
    `);
  },

  reset(db) {
    db.exec(
      'DROP TABLE IF EXISTS alert_rules; DROP TABLE IF EXISTS alert_history; DROP TABLE IF EXISTS alert_expiry_notices; DROP TABLE IF EXISTS alert_endpoints;',
    );
  },

  prepare(db) {
    const upsertRules = db.prepare(
      `INSERT INTO alert_rules (workspace_id, rules, expiring_soon_days, configured_by, configured_at)
       VALUES (@workspaceId, @rules, @expiringSoonDays, @configuredBy, @configuredAt)
       ON CONFLICT (workspace_id) DO UPDATE SET rules = excluded.rules, expiring_soon_days = excluded.expiring_soon_days,
         configured_by = excluded.configured_by, configured_at = excluded.configured_at`,
    );
    const insertAlert = db.prepare(
      `INSERT OR IGNORE INTO alert_history (workspace_id, position, type, data, occurred_at)
       VALUES (?, ?, ?, ?, ?)`,
    );
    const insertNotice = db.prepare(
      'INSERT OR IGNORE INTO alert_expiry_notices (workspace_id, grant_id) VALUES (?, ?)',
    );

    const workspaceOf = db
      .prepare<[string], string>('SELECT workspace_id FROM alert_endpoints WHERE endpoint_id = ?')
      .pluck();
    const rememberEndpoint = db.prepare(
      'INSERT OR IGNORE INTO alert_endpoints (endpoint_id, workspace_id) VALUES (?, ?)',
    );
    const forgetEndpoint = db.prepare('DELETE FROM alert_endpoints WHERE endpoint_id = ?');

    /** A workspace's endpoint disabled because every attempt failed for longer than the limit is an alert of the workspace's. */
    const applyEndpointEvent = (recorded: RecordedEvent): void => {
      const event = toWebhookEndpointEvent(recorded);
      if (!event) return;
      switch (event.type) {
        case 'WebhookEndpointCreated':
          if (event.data.workspaceId !== null) rememberEndpoint.run(event.data.endpointId, event.data.workspaceId);
          return;
        case 'WebhookEndpointDisabled': {
          const { endpointId, reason, failingSince, disabledAt } = event.data;
          const workspaceId = workspaceOf.get(endpointId);
          if (reason !== 'FAILING' || workspaceId === undefined) return;
          const data = { endpointId, failingSince, disabledAt };
          insertAlert.run(
            workspaceId,
            recorded.position,
            'WebhookEndpointDisabled',
            JSON.stringify(data),
            Date.parse(disabledAt),
          );
          return;
        }
        case 'WebhookEndpointDeleted':
          forgetEndpoint.run(event.data.endpointId);
          return;
        default:
          return;
      }
    };

    const apply = (recorded: RecordedEvent): void => {
      const event = toWorkspaceCreditsEvent(recorded);
      if (!event) {
        applyEndpointEvent(recorded);
        return;
      }
      if (event.type === 'AlertRulesConfigured') {
        const { workspaceId, rules, configuredBy, configuredAt } = event.data;
        upsertRules.run({
          workspaceId,
          rules: JSON.stringify(rules),
          expiringSoonDays: rules.expiringSoonDays,
          configuredBy,
          configuredAt: Date.parse(configuredAt),
        });
        return;
      }
      if (!isAlert(event)) return;
      const { workspaceId } = event.data;
      const occurredAt = Date.parse(
        event.type === 'CreditsDepleted'
          ? event.data.depletedAt
          : event.type === 'CreditsExpiringSoon'
            ? event.data.noticedAt
            : event.data.crossedAt,
      );
      insertAlert.run(workspaceId, recorded.position, event.type, JSON.stringify(event.data), occurredAt);
      if (event.type === 'CreditsExpiringSoon') insertNotice.run(workspaceId, event.data.grantId);
    };
    return { apply };
  },
};

/** A workspace's alert rules as the read model has them, with who set them last. */
export interface AlertRulesView {
  rules: AlertRules;
  configuredBy: string | undefined;
  configuredAt: Date | undefined;
}

/** One alert the workspace's balance raised, at its position in the log. */
export interface AlertView {
  workspaceId: string;
  position: bigint;
  type: AlertType;
  /** Whether the workspace's rules asked to be told of it (expiry notices always are). */
  notify: boolean;
  available: number | undefined;
  threshold: number | undefined;
  /** A recovery from depletion that is still low (CreditsRecovered). */
  stillLow: boolean | undefined;
  grantId: string | undefined;
  source: GrantSource | undefined;
  credits: number | undefined;
  expiresAt: Date | undefined;
  /** The endpoint disabled, and since when every attempt to it had failed (WebhookEndpointDisabled). */
  endpointId: string | undefined;
  failingSince: Date | undefined;
  occurredAt: Date;
}

interface AlertRow {
  workspace_id: string;
  position: number | bigint;
  type: AlertType;
  data: string;
  occurred_at: number;
}

export class CreditAlertsReader {
  private readonly rulesOf;
  private readonly history;
  private readonly historyBefore;
  private readonly expiring;

  constructor(db: Database) {
    this.rulesOf = db.prepare<[string], { rules: string; configured_by: string; configured_at: number }>(
      'SELECT rules, configured_by, configured_at FROM alert_rules WHERE workspace_id = ?',
    );
    this.history = db
      .prepare<[string, number], AlertRow>(
        'SELECT * FROM alert_history WHERE workspace_id = ? ORDER BY position DESC LIMIT ?',
      )
      .safeIntegers(true);
    this.historyBefore = db
      .prepare<[string, bigint, number], AlertRow>(
        'SELECT * FROM alert_history WHERE workspace_id = ? AND position < ? ORDER BY position DESC LIMIT ?',
      )
      .safeIntegers(true);
    // Grants with credits left (balance model), free or held by a running action, not yet noticed
    // whose notice period has begun; a workspace that never set rules has the default notice period.
    this.expiring = db.prepare<
      { now: number; day: number; defaultDays: number | null; limit: number },
      { workspace_id: string }
    >(
      `SELECT DISTINCT g.workspace_id FROM balance_grants g
       LEFT JOIN alert_rules r ON r.workspace_id = g.workspace_id
       WHERE (g.remaining > 0 OR g.held > 0) AND g.frozen = 0 AND g.expires_at > @now
         AND g.expires_at - @day * (CASE WHEN r.workspace_id IS NULL THEN @defaultDays ELSE r.expiring_soon_days END) <= @now
         AND NOT EXISTS (SELECT 1 FROM alert_expiry_notices n WHERE n.workspace_id = g.workspace_id AND n.grant_id = g.grant_id)
       LIMIT @limit`,
    );
  }

  rules(workspaceId: string): AlertRulesView {
    const row = this.rulesOf.get(workspaceId);
    if (!row) return { rules: DEFAULT_ALERT_RULES, configuredBy: undefined, configuredAt: undefined };
    return {
      rules: JSON.parse(row.rules) as AlertRules,
      configuredBy: row.configured_by,
      configuredAt: new Date(row.configured_at),
    };
  }

  /** The workspace's alerts, newest first, `limit` of them from before `before` (a position). */
  recent(workspaceId: string, limit: number, before?: bigint): AlertView[] {
    const rows =
      before === undefined ? this.history.all(workspaceId, limit) : this.historyBefore.all(workspaceId, before, limit);
    return rows.map(toAlertView);
  }

  /** Workspaces with a grant whose expiry notice is due at `now` and not yet recorded. */
  workspacesWithExpiringCredits(now: number, limit: number): string[] {
    return this.expiring
      .all({ now, day: DAY_MS, defaultDays: DEFAULT_ALERT_RULES.expiringSoonDays, limit })
      .map((row) => row.workspace_id);
  }
}

function toAlertView(row: AlertRow): AlertView {
  const data = JSON.parse(row.data) as Record<string, unknown>;
  const number = (key: string): number | undefined => (typeof data[key] === 'number' ? data[key] : undefined);
  return {
    workspaceId: row.workspace_id,
    position: BigInt(row.position),
    type: row.type,
    // Expiry notices and disabled endpoints are always told.
    notify: row.type === 'CreditsExpiringSoon' || row.type === 'WebhookEndpointDisabled' ? true : data.notify === true,
    available: number('available'),
    threshold: number('threshold'),
    stillLow: typeof data.stillLow === 'boolean' ? data.stillLow : undefined,
    grantId: typeof data.grantId === 'string' ? data.grantId : undefined,
    source: typeof data.source === 'string' ? (data.source as GrantSource) : undefined,
    credits: number('credits'),
    expiresAt: typeof data.expiresAt === 'string' ? new Date(data.expiresAt) : undefined,
    endpointId: typeof data.endpointId === 'string' ? data.endpointId : undefined,
    failingSince: typeof data.failingSince === 'string' ? new Date(data.failingSince) : undefined,
    occurredAt: new Date(Number(row.occurred_at)),
  };
}
