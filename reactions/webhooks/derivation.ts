/**
 * What the webhooks reaction must send, derived from the log: for each credits event that makes
 * webhook messages (the mapping in src/domain/webhooks/messages.ts), one delivery per message to
 * each enabled endpoint subscribed to its type, in the event's workspace or platform-wide, due at
 * once; and what became of each (the endpoint's WebhookDeliveryAttempted: delivered, due again at
 * its next attempt, or given up). Disabling or deleting an endpoint cancels what it was still owed.
 *
 * Everything here is a function of the log up to the event: which endpoints are subscribed is this
 * derivation's own table, changed in log order; the balance in a message is the ledger's at the
 * event's position (the ledger is projected before the reactions in every batch). So a replay
 * derives the same deliveries with the same webhook-ids and bodies, and completes those whose
 * outcome the log already holds: it sends nothing that was delivered. The one exception is
 * forgetting: finished deliveries are forgotten by the log's time (30 days after they were made),
 * within an hour of it, so a replay may forget one a little sooner or later than the first pass
 * did; never one still pending.
 */
import type { Database } from 'better-sqlite3';
import {
  endpointDisabledMessage,
  mayAnnounce,
  testMessage,
  webhookMessagesOf,
  WEBHOOK_TEST_TYPE,
  type LogContext,
  type WebhookMessage,
  type WebhookMessageType,
} from '../../src/domain/webhooks/messages';
import type { WebhookEndpointEvent } from '../../src/domain/webhooks/endpoint-events';
import { toWebhookEndpointEvent } from '../../src/events/webhook-endpoint-stream';
import { toWorkspaceCreditsEvent } from '../../src/events/workspace-stream';
import type { RecordedEvent } from '../../src/eventstore/port';
import type { ReactionDerivation } from '../reaction';
import type { WorkQueue } from '../work-queue';
import { DROP_WEBHOOK_TABLES, WEBHOOK_TABLES } from './tables';
import { deliveryIdOf, WEBHOOKS_REACTION, workKey, type WebhookWork } from './work';

const ms = (instant: string): number => Date.parse(instant);

/**
 * A platform endpoint disabled from this instant on is announced to the platform's other endpoints.
 * Disabled before it, it was not, and a rebuild of the deliveries from the log must not send now
 * what was never owed then: the rule has a start in the log, as a new rule of a derivation does.
 */
const PLATFORM_DISABLED_ANNOUNCED_SINCE = Date.parse('2026-12-03T00:00:00.000Z');

/**
 * Finished deliveries (delivered, given up, canceled) and their attempts are forgotten this long
 * after they were made, in the log's time: the history stays readable (webhookDeliveries) and can be
 * resent for as long, and the read model does not grow for ever. A delivery made pending again by a
 * resend stays until it is finished again.
 */
export const DELIVERY_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** How often, in the log's time, deliveries past the retention are looked for. */
const FORGET_EVERY_MS = 60 * 60 * 1000;
/**
 * Deliveries looked at, at most, per look; a backlog (the first look after an upgrade, say) goes on
 * a second of log time later, so that no projection batch is held up by forgetting.
 */
const FORGET_BATCH = 100;
const FORGET_BACKLOG_EVERY_MS = 1_000;

export const webhooksDerivation: ReactionDerivation = {
  name: WEBHOOKS_REACTION,
  // 2: a failure answered after its delivery got through leaves it delivered. Derived afresh, the
  // deliveries an earlier release turned back to PENDING that way show as delivered again.
  version: 2,
  migrate: (db) => db.exec(WEBHOOK_TABLES),
  reset: (db) => db.exec(DROP_WEBHOOK_TABLES),
  prepare(db, work) {
    const deliveries = deliveriesOf(db, work);
    const endpoints = endpointsOf(db, deliveries);
    return (recorded: RecordedEvent) => {
      if (mayAnnounce(recorded.type)) {
        deliveries.derive(recorded);
      } else {
        const event = toWebhookEndpointEvent(recorded);
        if (event) endpoints.apply(event, recorded);
      }
      // After the event: a resend it asks for makes its delivery pending first, and pending is kept.
      deliveries.forgetPast(recorded.recordedAt.getTime());
    };
  },
};

/**
 * Whether an attempt was made for the run before the resend the work now holds: it names another
 * resend, or none. Attempts recorded before they named their resend (before 2026-12-02) are told
 * apart by time instead: sent before the resend was asked for.
 */
function isFromRunBefore(
  work: WebhookWork,
  attempt: Extract<WebhookEndpointEvent, { type: 'WebhookDeliveryAttempted' }>['data'],
): boolean {
  const askedAt = work.redeliveryRequestedAt;
  if (askedAt === undefined) return false;
  if (attempt.redeliveryRequestedAt !== undefined) return ms(attempt.redeliveryRequestedAt) !== askedAt;
  return ms(attempt.attemptedAt) < askedAt;
}

function deliveriesOf(db: Database, work: WorkQueue) {
  const enabled = db.prepare<[string], { workspace_id: string | null }>(
    "SELECT workspace_id FROM webhook_endpoints WHERE endpoint_id = ? AND status = 'ENABLED'",
  );
  const subscribers = db.prepare<[string], { endpoint_id: string; event_types: string }>(
    `SELECT endpoint_id, event_types FROM webhook_endpoints
     WHERE status = 'ENABLED' AND (workspace_id = ? OR workspace_id IS NULL)`,
  );
  const platformSubscribers = db.prepare<[], { endpoint_id: string; event_types: string }>(
    `SELECT endpoint_id, event_types FROM webhook_endpoints WHERE status = 'ENABLED' AND workspace_id IS NULL`,
  );
  // The ledger's balance at the event's position (credit-ledger.ts keeps one row per change).
  const balanceAt = db.prepare<[string, bigint], { balance_after: number }>(
    'SELECT balance_after FROM ledger_entries WHERE workspace_id = ? AND position <= ? ORDER BY position DESC LIMIT 1',
  );
  const insert = db.prepare(
    `INSERT OR IGNORE INTO webhook_deliveries (delivery_id, endpoint_id, workspace_id, event_type, event_position, body, status, next_attempt_at, created_at)
     VALUES (@deliveryId, @endpointId, @workspaceId, @eventType, @position, @body, 'PENDING', @at, @at)`,
  );
  const get = db.prepare<
    [string],
    { endpoint_id: string; event_type: WebhookMessageType; status: string; attempts: number }
  >('SELECT endpoint_id, event_type, status, attempts FROM webhook_deliveries WHERE delivery_id = ?');
  // Only for a delivery still kept (a late answer to one forgotten since is history no one can read).
  // An attempt recorded twice under one number (two replicas sent it) keeps the one that got through.
  const attempted = db.prepare(
    `INSERT INTO webhook_attempts (delivery_id, attempt, succeeded, status_code, error, latency_ms, next_attempt_at, attempted_at)
     SELECT @deliveryId, @attempt, @succeeded, @statusCode, @error, @latencyMs, @nextAttemptAt, @attemptedAt
     WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE delivery_id = @deliveryId)
     ON CONFLICT (delivery_id, attempt) DO UPDATE SET succeeded = 1, status_code = excluded.status_code,
       error = NULL, latency_ms = excluded.latency_ms, next_attempt_at = NULL, attempted_at = excluded.attempted_at
     WHERE excluded.succeeded = 1 AND webhook_attempts.succeeded = 0`,
  );
  // The delivery's status after the attempt, decided here (with the status it had) rather than read
  // first: delivered; still canceled (its endpoint disabled meanwhile) unless it got through; given
  // up when no attempt follows; due again otherwise. Every expression reads the row as it was. A
  // failure answered after the delivery got through (two replicas sent it: one's lease lapsed
  // while its attempt was in flight) changes nothing: delivered stays delivered, with its answer.
  const outcome = db.prepare<
    [
      {
        deliveryId: string;
        attempt: number;
        succeeded: number;
        statusCode: number | null;
        error: string | null;
        latencyMs: number;
        nextAttemptAt: number | null;
        attemptedAt: number;
      },
    ],
    { status: string }
  >(
    `UPDATE webhook_deliveries SET
       status = CASE WHEN @succeeded = 1 THEN 'SUCCEEDED' WHEN status = 'CANCELED' THEN 'CANCELED'
         WHEN @nextAttemptAt IS NULL THEN 'FAILED' ELSE 'PENDING' END,
       next_attempt_at = CASE WHEN @succeeded = 0 AND status != 'CANCELED' THEN @nextAttemptAt END,
       attempts = max(attempts, @attempt), last_status_code = @statusCode, last_error = @error,
       last_latency_ms = @latencyMs,
       delivered_at = CASE WHEN @succeeded = 1 THEN @attemptedAt ELSE delivered_at END
     WHERE delivery_id = @deliveryId AND NOT (status = 'SUCCEEDED' AND @succeeded = 0)
     RETURNING status`,
  );
  // The answer to an attempt sent before a redelivery was asked for: the delivery's last answer,
  // but not its status, which stays PENDING for the resend.
  const answeredEarlier = db.prepare(
    `UPDATE webhook_deliveries SET attempts = max(attempts, @attempt), last_status_code = @statusCode,
       last_error = @error, last_latency_ms = @latencyMs
     WHERE delivery_id = @deliveryId`,
  );
  const pendingAgain = db.prepare(
    "UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = ? WHERE delivery_id = ?",
  );
  const cancel = db.prepare(
    "UPDATE webhook_deliveries SET status = 'CANCELED', next_attempt_at = NULL WHERE endpoint_id = ? AND status = 'PENDING'",
  );
  // Work keys start with `<endpointId>/`; '0' is the character after '/'.
  const dropWork = db.prepare('DELETE FROM reaction_work WHERE reaction = ? AND key >= ? AND key < ?');
  const workOf = db.prepare<[string, string, string], { key: string; payload: string }>(
    'SELECT key, payload FROM reaction_work WHERE reaction = ? AND key >= ? AND key < ?',
  );
  const cancelOne = db.prepare(
    "UPDATE webhook_deliveries SET status = 'CANCELED', next_attempt_at = NULL WHERE delivery_id = ? AND status = 'PENDING'",
  );
  // Deliveries are inserted in log order, so their rowids follow the log's time.
  const oldest = db.prepare<[number, number], { row: number; delivery_id: string; status: string; created_at: number }>(
    'SELECT rowid AS row, delivery_id, status, created_at FROM webhook_deliveries WHERE rowid > ? ORDER BY rowid LIMIT ?',
  );
  const forgetDelivery = db.prepare('DELETE FROM webhook_deliveries WHERE rowid = ?');
  const forgetAttempts = db.prepare('DELETE FROM webhook_attempts WHERE delivery_id = ?');
  /** The last delivery looked at by a sweep of forgetPast still going on (rowid), and the log time of its next look. */
  let lookedAt = 0;
  let nextLookAt = 0;

  return {
    /**
     * Forgets finished deliveries made more than DELIVERY_RETENTION_MS before `now` (the log time of
     * the event being derived), oldest first, FORGET_BATCH at most per event, once an hour of log
     * time unless a backlog is left. One still pending (a resend of an old one) is passed over.
     */
    forgetPast(now: number): void {
      if (now < nextLookAt) return;
      const cutoff = now - DELIVERY_RETENTION_MS;
      const rows = oldest.all(lookedAt, FORGET_BATCH);
      let backlog = rows.length === FORGET_BATCH;
      for (const row of rows) {
        if (row.created_at >= cutoff) {
          backlog = false;
          break;
        }
        lookedAt = row.row;
        if (row.status === 'PENDING') continue;
        forgetAttempts.run(row.delivery_id);
        forgetDelivery.run(row.row);
      }
      if (backlog) {
        nextLookAt = now + FORGET_BACKLOG_EVERY_MS;
        return;
      }
      // Swept up to the retention: the next look, in an hour of log time, starts from the oldest.
      lookedAt = 0;
      nextLookAt = now + FORGET_EVERY_MS;
    },

    derive(recorded: RecordedEvent): void {
      const event = toWorkspaceCreditsEvent(recorded);
      if (event) this.announce(recorded, event.data.workspaceId, (at) => webhookMessagesOf(event, at));
    },

    /** One delivery of each message to each enabled endpoint of the workspace or platform subscribed to its type. */
    announce(recorded: RecordedEvent, workspaceId: string, messagesAt: (at: LogContext) => WebhookMessage[]): void {
      const endpoints = subscribers.all(workspaceId);
      if (endpoints.length === 0) return;
      const balanceAfter = balanceAt.get(workspaceId, recorded.position)?.balance_after ?? 0;
      const messages = messagesAt({ position: recorded.position, balanceAfter });
      for (const message of messages) {
        const body = JSON.stringify(message);
        for (const endpoint of endpoints) {
          if (!(JSON.parse(endpoint.event_types) as string[]).includes(message.type)) continue;
          this.deliver(recorded, endpoint.endpoint_id, workspaceId, message.type, body);
        }
      }
    },

    /**
     * A message about the platform itself (one of its endpoints disabled) to the platform's enabled
     * endpoints subscribed to its type: it belongs to no workspace ('' in the column, null in the body).
     */
    announceToPlatform(recorded: RecordedEvent, message: WebhookMessage): void {
      const body = JSON.stringify(message);
      for (const endpoint of platformSubscribers.all()) {
        if (!(JSON.parse(endpoint.event_types) as string[]).includes(message.type)) continue;
        this.deliver(recorded, endpoint.endpoint_id, '', message.type, body);
      }
    },

    /**
     * A test message to the one endpoint it was asked for, unless the endpoint is no longer enabled
     * (disabled or deleted in the same append): its workspace's balance at the request, none for a
     * platform endpoint.
     */
    test(
      recorded: RecordedEvent,
      test: { endpointId: string; deliveryId: string; requestedBy: string; requestedAt: string },
    ) {
      const endpoint = enabled.get(test.endpointId);
      if (!endpoint) return;
      const workspaceId = endpoint.workspace_id;
      const balanceAfter =
        workspaceId === null ? null : (balanceAt.get(workspaceId, recorded.position)?.balance_after ?? 0);
      const message = testMessage({ ...test, workspaceId }, { position: recorded.position, balanceAfter });
      // A platform endpoint's delivery belongs to no workspace: '' in the column, null in the body.
      const body = JSON.stringify(message);
      this.deliver(recorded, test.endpointId, workspaceId ?? '', WEBHOOK_TEST_TYPE, body, test.deliveryId);
    },

    /**
     * One delivery of one message to one endpoint, due at once. Its webhook-id is derived from the
     * event (a test's was made with its request).
     */
    deliver(
      recorded: RecordedEvent,
      endpointId: string,
      workspaceId: string,
      type: WebhookMessageType,
      body: string,
      deliveryId = deliveryIdOf(endpointId, recorded.id, type),
    ) {
      const at = recorded.recordedAt.getTime();
      const payload: WebhookWork = { endpointId, deliveryId, eventType: type, firstAttempt: 1 };
      insert.run({ ...payload, body, workspaceId, position: recorded.position, at });
      work.schedule(workKey(endpointId, deliveryId), payload, at);
    },

    attempted(data: Extract<WebhookEndpointEvent, { type: 'WebhookDeliveryAttempted' }>['data']): void {
      const { endpointId, deliveryId, attempt, succeeded, error } = data;
      const nextAttemptAt = data.nextAttemptAt === null ? null : ms(data.nextAttemptAt);
      const fields = {
        deliveryId,
        attempt,
        succeeded: succeeded ? 1 : 0,
        statusCode: data.statusCode,
        error,
        latencyMs: data.latencyMs,
        nextAttemptAt,
        attemptedAt: ms(data.attemptedAt),
      };
      attempted.run(fields);
      const key = workKey(endpointId, deliveryId);
      const payload = work.payload<WebhookWork>(key);
      if (payload && isFromRunBefore(payload, data)) {
        // In flight when a resend was asked for (one attempt at most: one performer has the work
        // at a time, and the executor starts the resend only once this outcome is derived).
        // Whatever it came to, the resend stays due when it was asked, numbered after it.
        answeredEarlier.run(fields);
        work.updatePayload(key, { ...payload, firstAttempt: Math.max(payload.firstAttempt, attempt + 1) });
        return;
      }
      const status = outcome.get(fields)?.status;
      if (status === undefined) return;
      if (status !== 'PENDING' || nextAttemptAt === null) {
        work.complete(key);
        return;
      }
      if (payload) work.failed(key, attempt - payload.firstAttempt + 1, error ?? 'failed', nextAttemptAt);
    },

    redeliver(deliveryId: string, at: number): void {
      const row = get.get(deliveryId);
      if (!row) return;
      const payload: WebhookWork = {
        endpointId: row.endpoint_id,
        deliveryId,
        eventType: row.event_type,
        firstAttempt: row.attempts + 1,
        redeliveryRequestedAt: at,
      };
      pendingAgain.run(at, deliveryId);
      const key = workKey(row.endpoint_id, deliveryId);
      work.schedule(key, payload, at);
      work.retried(key, at);
    },

    cancel(endpointId: string): void {
      cancel.run(endpointId);
      dropWork.run(WEBHOOKS_REACTION, `${endpointId}/`, `${endpointId}0`);
    },

    /**
     * Cancels what an endpoint is still owed of types it no longer subscribes to (a test, asked for
     * whatever the types, stays): found through its work, which holds only what is pending.
     */
    unsubscribed(endpointId: string, eventTypes: readonly string[]): void {
      for (const row of workOf.all(WEBHOOKS_REACTION, `${endpointId}/`, `${endpointId}0`)) {
        const pending = JSON.parse(row.payload) as WebhookWork;
        // A test, or a resend someone asked for by hand, is sent whatever the types.
        const asked = pending.eventType === WEBHOOK_TEST_TYPE || pending.redeliveryRequestedAt !== undefined;
        if (asked || eventTypes.includes(pending.eventType)) continue;
        cancelOne.run(pending.deliveryId);
        work.complete(row.key);
      }
    },
  };
}

function endpointsOf(db: Database, deliveries: ReturnType<typeof deliveriesOf>) {
  const create = db.prepare(
    `INSERT OR IGNORE INTO webhook_endpoints (endpoint_id, workspace_id, url, event_types, description, status, secret, created_by, created_at, updated_at)
     VALUES (@endpointId, @workspaceId, @url, @eventTypes, @description, 'ENABLED', @secret, @createdBy, @at, @at)`,
  );
  const update = db.prepare(
    'UPDATE webhook_endpoints SET url = @url, event_types = @eventTypes, description = @description, updated_at = @at WHERE endpoint_id = @endpointId',
  );
  const status = db.prepare(
    `UPDATE webhook_endpoints SET status = @status, disabled_reason = @reason, disabled_at = @disabledAt,
       failing_since = CASE WHEN @status = 'ENABLED' THEN NULL ELSE failing_since END, updated_at = @at
     WHERE endpoint_id = @endpointId`,
  );
  const rotate = db.prepare(
    `UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = @expiresAt, secret = @secret,
       secret_rotated_at = @at, updated_at = @at WHERE endpoint_id = @endpointId`,
  );
  // Written only when it changes: most attempts succeed at an endpoint that is not failing.
  const failing = db.prepare(
    `UPDATE webhook_endpoints SET failing_since = CASE WHEN @succeeded = 1 THEN NULL ELSE @at END
     WHERE endpoint_id = @endpointId AND (failing_since IS NULL) = (@succeeded = 0)`,
  );
  // As the attempt says (since 2026-12-03): a failure long after the previous one starts afresh.
  const failingAsRecorded = db.prepare(
    `UPDATE webhook_endpoints SET failing_since = @failingSince
     WHERE endpoint_id = @endpointId AND failing_since IS NOT @failingSince`,
  );
  const scope = db.prepare<[string], { workspace_id: string | null; url: string }>(
    'SELECT workspace_id, url FROM webhook_endpoints WHERE endpoint_id = ?',
  );
  const setStatus = (endpointId: string, value: string, at: string, reason: string | null = null): void => {
    status.run({
      endpointId,
      status: value,
      reason,
      disabledAt: value === 'DISABLED' ? ms(at) : null,
      at: ms(at),
    });
  };

  return {
    apply(event: WebhookEndpointEvent, recorded: RecordedEvent): void {
      switch (event.type) {
        case 'WebhookEndpointCreated': {
          const { data } = event;
          create.run({ ...data, eventTypes: JSON.stringify(data.eventTypes), at: ms(data.createdAt) });
          return;
        }
        case 'WebhookEndpointUpdated': {
          const { data } = event;
          update.run({
            endpointId: data.endpointId,
            url: data.url,
            description: data.description,
            eventTypes: JSON.stringify(data.eventTypes),
            at: ms(data.updatedAt),
          });
          deliveries.unsubscribed(data.endpointId, data.eventTypes);
          return;
        }
        case 'WebhookEndpointDisabled': {
          const { endpointId, reason, failingSince, disabledAt } = event.data;
          setStatus(endpointId, 'DISABLED', disabledAt, reason);
          deliveries.cancel(endpointId);
          const endpoint = scope.get(endpointId);
          if (reason !== 'FAILING' || !endpoint) return;
          // A workspace's endpoint that kept failing: the alert goes to its other endpoints and the platform's.
          if (endpoint.workspace_id) {
            const { workspace_id: workspaceId, url } = endpoint;
            deliveries.announce(recorded, workspaceId, (at) => [
              endpointDisabledMessage({ workspaceId, endpointId, url, failingSince, disabledAt }, at),
            ]);
          } else if (recorded.recordedAt.getTime() >= PLATFORM_DISABLED_ANNOUNCED_SINCE) {
            // A platform endpoint (the app's own backend) that kept failing: the platform's other endpoints.
            const at = { position: recorded.position, balanceAfter: null };
            const message = endpointDisabledMessage(
              { workspaceId: null, endpointId, url: endpoint.url, failingSince, disabledAt },
              at,
            );
            deliveries.announceToPlatform(recorded, message);
          }
          return;
        }
        case 'WebhookEndpointEnabled':
          setStatus(event.data.endpointId, 'ENABLED', event.data.enabledAt);
          return;
        case 'WebhookEndpointDeleted':
          setStatus(event.data.endpointId, 'DELETED', event.data.deletedAt);
          deliveries.cancel(event.data.endpointId);
          return;
        case 'WebhookSecretRotated': {
          const { data } = event;
          rotate.run({
            endpointId: data.endpointId,
            secret: data.secret,
            expiresAt: ms(data.previousSecretExpiresAt),
            at: ms(data.rotatedAt),
          });
          return;
        }
        case 'WebhookDeliveryAttempted': {
          const { endpointId, succeeded, attemptedAt, failingSince } = event.data;
          if (failingSince === undefined) {
            failing.run({ endpointId, succeeded: succeeded ? 1 : 0, at: ms(attemptedAt) });
          } else {
            failingAsRecorded.run({ endpointId, failingSince: failingSince === null ? null : ms(failingSince) });
          }
          deliveries.attempted(event.data);
          return;
        }
        case 'WebhookRedeliveryRequested':
          deliveries.redeliver(event.data.deliveryId, ms(event.data.requestedAt));
          return;
        case 'WebhookTestRequested':
          deliveries.test(recorded, event.data);
          return;
      }
    },
  };
}
