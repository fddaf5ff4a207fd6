/**
 * What the API and the delivery performer read of the webhooks reaction's tables (tables.ts): the
 * endpoints of a workspace or of the platform, one endpoint with its sealed secrets, and an
 * endpoint's deliveries with their attempts, newest first.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { DisableReason } from '../../src/domain/webhooks/endpoint-events';
import type { WebhookEventType, WebhookMessageType } from '../../src/domain/webhooks/messages';

export type EndpointStatus = 'ENABLED' | 'DISABLED' | 'DELETED';
export type DeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';

export interface WebhookEndpointView {
  endpointId: string;
  /** null: a platform endpoint, told of every workspace's events. */
  workspaceId: string | null;
  url: string;
  eventTypes: WebhookEventType[];
  description: string;
  status: EndpointStatus;
  disabledReason: DisableReason | undefined;
  disabledAt: Date | undefined;
  failingSince: Date | undefined;
  secretRotatedAt: Date | undefined;
  previousSecretExpiresAt: Date | undefined;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/** An endpoint's signing secrets, sealed: the current one, and the previous one until it expires. */
export interface SealedSecrets {
  current: string;
  previous: { sealed: string; expiresAt: number } | undefined;
}

/** One delivery's body, as every attempt sends it, with its endpoint as it is now. */
export interface OutgoingMessage extends SealedSecrets {
  body: string;
  url: string;
  status: EndpointStatus;
  /** The number of the delivery's last recorded attempt (0: none yet): the next one is numbered after it. */
  attempts: number;
  /** Canceled since its work was taken (its type taken out of the endpoint's): not to be sent. */
  canceled: boolean;
}

export interface WebhookDeliveryView {
  deliveryId: string;
  endpointId: string;
  /** null for a test of a platform endpoint. */
  workspaceId: string | null;
  eventType: WebhookMessageType;
  position: bigint;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | undefined;
  lastError: string | undefined;
  lastLatencyMs: number | undefined;
  nextAttemptAt: Date | undefined;
  createdAt: Date;
  deliveredAt: Date | undefined;
}

export interface WebhookAttemptView {
  deliveryId: string;
  attempt: number;
  succeeded: boolean;
  statusCode: number | undefined;
  error: string | undefined;
  latencyMs: number;
  nextAttemptAt: Date | undefined;
  attemptedAt: Date;
}

interface EndpointRow {
  endpoint_id: string;
  workspace_id: string | null;
  url: string;
  event_types: string;
  description: string;
  status: EndpointStatus;
  disabled_reason: DisableReason | null;
  disabled_at: number | null;
  failing_since: number | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  secret_rotated_at: number | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

interface DeliveryRow {
  delivery_id: string;
  endpoint_id: string;
  workspace_id: string;
  event_type: WebhookMessageType;
  event_position: number | bigint;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  next_attempt_at: number | null;
  created_at: number;
  delivered_at: number | null;
}

interface AttemptRow {
  delivery_id: string;
  attempt: number;
  succeeded: number;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  next_attempt_at: number | null;
  attempted_at: number;
}

const date = (value: number | null): Date | undefined => (value === null ? undefined : new Date(Number(value)));

export class WebhookReader {
  private readonly byId: Statement<[string], EndpointRow>;
  private readonly ofWorkspace: Statement<[string], EndpointRow>;
  private readonly ofPlatform: Statement<[], EndpointRow>;
  private readonly deliveryById: Statement<[string], DeliveryRow>;
  private readonly newest: Statement<[string, number], DeliveryRow>;
  private readonly older: Statement<[string, string, number], DeliveryRow>;
  private readonly attemptsOf: Statement<[string, number], AttemptRow>;
  private readonly outgoingById: Statement<
    [string],
    Pick<EndpointRow, 'url' | 'status' | 'secret' | 'previous_secret' | 'previous_secret_expires_at'> & {
      body: string;
      attempts: number;
      delivery_status: string;
    }
  >;

  constructor(db: Database) {
    this.byId = db.prepare('SELECT * FROM webhook_endpoints WHERE endpoint_id = ?');
    this.ofWorkspace = db.prepare(
      "SELECT * FROM webhook_endpoints WHERE workspace_id = ? AND status != 'DELETED' ORDER BY created_at, endpoint_id",
    );
    this.ofPlatform = db.prepare(
      "SELECT * FROM webhook_endpoints WHERE workspace_id IS NULL AND status != 'DELETED' ORDER BY created_at, endpoint_id",
    );
    this.deliveryById = db.prepare('SELECT * FROM webhook_deliveries WHERE delivery_id = ?');
    this.newest = db.prepare(
      'SELECT * FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY event_position DESC, delivery_id DESC LIMIT ?',
    );
    this.older = db.prepare(
      `SELECT d.* FROM webhook_deliveries d, webhook_deliveries c
       WHERE d.endpoint_id = ? AND c.delivery_id = ? AND c.endpoint_id = d.endpoint_id
         AND (d.event_position, d.delivery_id) < (c.event_position, c.delivery_id)
       ORDER BY d.event_position DESC, d.delivery_id DESC LIMIT ?`,
    );
    this.attemptsOf = db.prepare('SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt DESC LIMIT ?');
    this.outgoingById = db.prepare(
      `SELECT d.body, d.attempts, d.status AS delivery_status, e.url, e.status, e.secret, e.previous_secret,
         e.previous_secret_expires_at
       FROM webhook_deliveries d JOIN webhook_endpoints e ON e.endpoint_id = d.endpoint_id WHERE d.delivery_id = ?`,
    );
  }

  endpoint(endpointId: string): WebhookEndpointView | undefined {
    const row = this.byId.get(endpointId);
    return row && endpointView(row);
  }

  /**
   * What an attempt at a delivery sends, and where: its body, and its endpoint's URL, status and
   * sealed secrets, in one read; undefined when the delivery or its endpoint is unknown.
   */
  outgoing(deliveryId: string): OutgoingMessage | undefined {
    const row = this.outgoingById.get(deliveryId);
    if (!row) return undefined;
    return {
      body: row.body,
      url: row.url,
      status: row.status,
      attempts: row.attempts,
      canceled: row.delivery_status === 'CANCELED',
      current: row.secret,
      previous:
        row.previous_secret === null || row.previous_secret_expires_at === null
          ? undefined
          : { sealed: row.previous_secret, expiresAt: row.previous_secret_expires_at },
    };
  }

  /** A workspace's endpoints, or (null) the platform's, oldest first; deleted ones are left out. */
  endpoints(workspaceId: string | null): WebhookEndpointView[] {
    const rows = workspaceId === null ? this.ofPlatform.all() : this.ofWorkspace.all(workspaceId);
    return rows.map(endpointView);
  }

  delivery(deliveryId: string): WebhookDeliveryView | undefined {
    const row = this.deliveryById.get(deliveryId);
    return row && deliveryView(row);
  }

  /** An endpoint's deliveries, newest first, `first` of them after the delivery `after` (a cursor). */
  deliveries(endpointId: string, first: number, after?: string): WebhookDeliveryView[] {
    const rows = after === undefined ? this.newest.all(endpointId, first) : this.older.all(endpointId, after, first);
    return rows.map(deliveryView);
  }

  /** A delivery's attempts, the latest first, at most `limit` of them. */
  attempts(deliveryId: string, limit: number): WebhookAttemptView[] {
    return this.attemptsOf.all(deliveryId, limit).map((row) => ({
      deliveryId: row.delivery_id,
      attempt: row.attempt,
      succeeded: row.succeeded === 1,
      statusCode: row.status_code ?? undefined,
      error: row.error ?? undefined,
      latencyMs: row.latency_ms,
      nextAttemptAt: date(row.next_attempt_at),
      attemptedAt: new Date(row.attempted_at),
    }));
  }
}

function endpointView(row: EndpointRow): WebhookEndpointView {
  return {
    endpointId: row.endpoint_id,
    workspaceId: row.workspace_id,
    url: row.url,
    eventTypes: JSON.parse(row.event_types) as WebhookEventType[],
    description: row.description,
    status: row.status,
    disabledReason: row.disabled_reason ?? undefined,
    disabledAt: date(row.disabled_at),
    failingSince: date(row.failing_since),
    secretRotatedAt: date(row.secret_rotated_at),
    previousSecretExpiresAt: date(row.previous_secret_expires_at),
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function deliveryView(row: DeliveryRow): WebhookDeliveryView {
  return {
    deliveryId: row.delivery_id,
    endpointId: row.endpoint_id,
    workspaceId: row.workspace_id === '' ? null : row.workspace_id,
    eventType: row.event_type,
    position: BigInt(row.event_position),
    body: row.body,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code ?? undefined,
    lastError: row.last_error ?? undefined,
    lastLatencyMs: row.last_latency_ms ?? undefined,
    nextAttemptAt: date(row.next_attempt_at),
    createdAt: new Date(row.created_at),
    deliveredAt: date(row.delivered_at),
  };
}
