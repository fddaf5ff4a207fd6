/**
 * The webhook endpoint's decider: `{ decide, evolve, initialState }` over its own stream. Commands
 * carry the instant and every value already resolved (the sealed secret, how long a failing
 * endpoint is tolerated), so deciding reads nothing but the state.
 *
 * Rules: settings change only while the endpoint exists; a deleted endpoint stays deleted; an
 * attempt is a fact and is always recorded, and when every attempt since `failingSince` failed for
 * at least `disableAfterMs` the same append disables the endpoint (reason FAILING).
 */
import { conflict, idempotencyKeyReused, invalidCommand, notFound } from '../errors';
import { iso, ms } from '../instants';
import type { EndpointScope, WebhookEndpointEvent } from './endpoint-events';
import type { WebhookEventType, WebhookMessageType } from './messages';

type Command<Type extends string, Data> = { type: Type; data: Data & { endpointId: string; by: string; now: string } };

export type WebhookEndpointCommand =
  | Command<
      'CreateWebhookEndpoint',
      EndpointScope & { url: string; eventTypes: WebhookEventType[]; description: string; secret: string }
    >
  | Command<'UpdateWebhookEndpoint', { url?: string; eventTypes?: WebhookEventType[]; description?: string }>
  | Command<'DisableWebhookEndpoint', Record<never, never>>
  | Command<'EnableWebhookEndpoint', Record<never, never>>
  | Command<'DeleteWebhookEndpoint', Record<never, never>>
  | Command<'RotateWebhookSecret', { secret: string; overlapMs: number; idempotencyKey?: string }>
  | Command<
      'RecordWebhookAttempt',
      {
        deliveryId: string;
        eventType: WebhookMessageType;
        attempt: number;
        succeeded: boolean;
        statusCode: number | null;
        error: string | null;
        latencyMs: number;
        nextAttemptAt: string | null;
        /** The redelivery this attempt resends, when it does. */
        redeliveryRequestedAt?: string;
        /** How long every attempt may fail before the endpoint is disabled. */
        disableAfterMs: number;
        /**
         * A failure this long after the endpoint's previous failed attempt starts its failing period
         * afresh: nothing was tried in between (longer than any wait of the retry schedule), so
         * nothing says it was failing all along. Default: never.
         */
        quietAfterMs?: number;
      }
    >
  | Command<'RequestWebhookRedelivery', { deliveryId: string }>
  | Command<'SendWebhookTest', { deliveryId: string }>;

export type EndpointStatus = 'NONE' | 'ENABLED' | 'DISABLED' | 'DELETED';

export interface WebhookEndpointState {
  status: EndpointStatus;
  workspaceId: string | null;
  url: string;
  eventTypes: WebhookEventType[];
  description: string;
  /** The first failed attempt since the last delivered one; null while deliveries succeed. */
  failingSince: string | null;
  /** The last failed attempt while failing; null while deliveries succeed. */
  lastFailedAt: string | null;
  /** The signing secret it was created with, sealed ('' before it is created). */
  createdSecret: string;
  /** Whether its secret was rotated since it was created. */
  rotated: boolean;
  /** The last rotation, when it was made with an idempotency key: a retry answers its secret. */
  lastRotation: { idempotencyKey: string; secret: string; overlapMs: number; by: string } | undefined;
  /** The idempotency keys of its rotations (the last 100). */
  rotationKeys: string[];
  /** When the last test message was asked for, if one was. */
  lastTestAt: string | undefined;
  /** The last resends asked for (REDELIVERIES_PER_MINUTE at most), oldest first: which and when (epoch ms). */
  recentRedeliveries: { deliveryId: string; at: number }[];
}

export const initialState = (): WebhookEndpointState => ({
  status: 'NONE',
  workspaceId: null,
  url: '',
  eventTypes: [],
  description: '',
  failingSince: null,
  lastFailedAt: null,
  createdSecret: '',
  rotated: false,
  lastRotation: undefined,
  rotationKeys: [],
  lastTestAt: undefined,
  recentRedeliveries: [],
});

/** Rotation keys remembered per endpoint: rotations are made by people, a few a year. */
const ROTATION_KEYS_KEPT = 100;

export function evolve(state: WebhookEndpointState, event: WebhookEndpointEvent): WebhookEndpointState {
  switch (event.type) {
    case 'WebhookEndpointCreated':
    case 'WebhookEndpointUpdated':
      if (event.type === 'WebhookEndpointCreated') {
        state.status = 'ENABLED';
        state.workspaceId = event.data.workspaceId;
        state.createdSecret = event.data.secret;
      }
      state.url = event.data.url;
      state.eventTypes = event.data.eventTypes;
      state.description = event.data.description;
      return state;
    case 'WebhookEndpointDisabled':
      state.status = 'DISABLED';
      return state;
    case 'WebhookEndpointEnabled':
      state.status = 'ENABLED';
      state.failingSince = null;
      state.lastFailedAt = null;
      return state;
    case 'WebhookEndpointDeleted':
      state.status = 'DELETED';
      return state;
    case 'WebhookDeliveryAttempted': {
      const { succeeded, attemptedAt, failingSince } = event.data;
      state.failingSince =
        failingSince !== undefined ? failingSince : succeeded ? null : (state.failingSince ?? attemptedAt);
      state.lastFailedAt = succeeded ? null : attemptedAt;
      return state;
    }
    case 'WebhookSecretRotated': {
      const { idempotencyKey, secret, previousSecretExpiresAt, rotatedAt, rotatedBy } = event.data;
      state.rotated = true;
      state.lastRotation =
        idempotencyKey === undefined
          ? undefined
          : { idempotencyKey, secret, overlapMs: ms(previousSecretExpiresAt) - ms(rotatedAt), by: rotatedBy };
      if (idempotencyKey !== undefined) {
        state.rotationKeys = [...state.rotationKeys, idempotencyKey].slice(-ROTATION_KEYS_KEPT);
      }
      return state;
    }
    case 'WebhookRedeliveryRequested':
      state.recentRedeliveries = [
        ...state.recentRedeliveries,
        { deliveryId: event.data.deliveryId, at: ms(event.data.requestedAt) },
      ].slice(-REDELIVERIES_PER_MINUTE);
      return state;
    case 'WebhookTestRequested':
      state.lastTestAt = event.data.requestedAt;
      return state;
  }
}

const MAX_OVERLAP_MS = 7 * 24 * 60 * 60 * 1000;
/** The least time between two test messages to one endpoint, and between two resends of one delivery. */
export const TEST_INTERVAL_MS = 10_000;
/** Resends one endpoint may be asked for in a minute: enough to resend a backlog by hand, not to flood. */
export const REDELIVERIES_PER_MINUTE = 60;

export function decide(command: WebhookEndpointCommand, state: WebhookEndpointState): WebhookEndpointEvent[] {
  const { endpointId, by, now } = command.data;
  if (command.type === 'CreateWebhookEndpoint') {
    if (state.status !== 'NONE') throw conflict(`Webhook endpoint "${endpointId}" already exists.`);
    const { workspaceId, url, eventTypes, description, secret } = command.data;
    requireEventTypes(eventTypes);
    return [
      {
        type: 'WebhookEndpointCreated',
        data: { endpointId, workspaceId, url, eventTypes, description, secret, createdBy: by, createdAt: now },
      },
    ];
  }
  if (state.status === 'NONE') throw notFound('Webhook endpoint', endpointId);
  if (command.type === 'RecordWebhookAttempt') return recordAttempt(command.data, state);
  if (state.status === 'DELETED') throw conflict(`Webhook endpoint "${endpointId}" was deleted.`);
  switch (command.type) {
    case 'UpdateWebhookEndpoint': {
      const url = command.data.url ?? state.url;
      const eventTypes = command.data.eventTypes ?? state.eventTypes;
      const description = command.data.description ?? state.description;
      requireEventTypes(eventTypes);
      const unchanged =
        url === state.url && description === state.description && sameTypes(eventTypes, state.eventTypes);
      if (unchanged) return [];
      return [
        {
          type: 'WebhookEndpointUpdated',
          data: { endpointId, url, eventTypes, description, updatedBy: by, updatedAt: now },
        },
      ];
    }
    case 'DisableWebhookEndpoint':
      if (state.status === 'DISABLED') return [];
      return [
        {
          type: 'WebhookEndpointDisabled',
          data: { endpointId, reason: 'MANUAL', failingSince: state.failingSince, disabledBy: by, disabledAt: now },
        },
      ];
    case 'EnableWebhookEndpoint':
      if (state.status === 'ENABLED') return [];
      return [{ type: 'WebhookEndpointEnabled', data: { endpointId, enabledBy: by, enabledAt: now } }];
    case 'DeleteWebhookEndpoint':
      return [{ type: 'WebhookEndpointDeleted', data: { endpointId, deletedBy: by, deletedAt: now } }];
    case 'RotateWebhookSecret': {
      const { secret, overlapMs, idempotencyKey } = command.data;
      if (!Number.isSafeInteger(overlapMs) || overlapMs < 0 || overlapMs > MAX_OVERLAP_MS) {
        throw invalidCommand('The overlap of the old and new secrets must be between 0 and 7 days.');
      }
      if (idempotencyKey !== undefined) {
        const last = state.lastRotation;
        if (last?.idempotencyKey === idempotencyKey) {
          // A retry (its answer was lost): nothing new; the caller is answered the secret it made.
          if (last.by !== by || last.overlapMs !== overlapMs) throw idempotencyKeyReused(idempotencyKey);
          return [];
        }
        if (state.rotationKeys.includes(idempotencyKey)) {
          throw conflict(
            `The signing secret of webhook endpoint "${endpointId}" was rotated again since the rotation made with this idempotency key; rotate with a new key to get a new one.`,
          );
        }
      }
      return [
        {
          type: 'WebhookSecretRotated',
          data: {
            endpointId,
            secret,
            previousSecretExpiresAt: iso(ms(now) + overlapMs),
            rotatedBy: by,
            rotatedAt: now,
            ...(idempotencyKey !== undefined && { idempotencyKey }),
          },
        },
      ];
    }
    case 'RequestWebhookRedelivery': {
      const { deliveryId } = command.data;
      if (state.status !== 'ENABLED') {
        throw conflict(`Webhook endpoint "${endpointId}" is disabled: enable it before sending again.`);
      }
      // Each resend costs a POST to the endpoint's URL: asking in a loop must not flood it.
      const at = ms(now);
      const recent = state.recentRedeliveries;
      if (recent.some((asked) => asked.deliveryId === deliveryId && at - asked.at < TEST_INTERVAL_MS)) {
        throw conflict(
          `Delivery "${deliveryId}" was sent again less than ${TEST_INTERVAL_MS / 1000} seconds ago; wait before sending it again.`,
        );
      }
      const oldest = recent.length >= REDELIVERIES_PER_MINUTE ? recent[0] : undefined;
      if (oldest && at - oldest.at < 60_000) {
        throw conflict(
          `Webhook endpoint "${endpointId}" was asked for ${REDELIVERIES_PER_MINUTE} resends in the last minute; wait before asking for more.`,
        );
      }
      return [
        { type: 'WebhookRedeliveryRequested', data: { endpointId, deliveryId, requestedBy: by, requestedAt: now } },
      ];
    }
    case 'SendWebhookTest': {
      if (state.status !== 'ENABLED') {
        throw conflict(`Webhook endpoint "${endpointId}" is disabled: enable it before sending a test.`);
      }
      // One test per endpoint every TEST_INTERVAL_MS: a test costs a POST to the endpoint's URL, and
      // asking in a loop must not turn the service into a way to flood it.
      if (state.lastTestAt !== undefined && ms(now) - ms(state.lastTestAt) < TEST_INTERVAL_MS) {
        throw conflict(
          `A test was sent to webhook endpoint "${endpointId}" less than ${TEST_INTERVAL_MS / 1000} seconds ago; wait before sending another.`,
        );
      }
      const { deliveryId } = command.data;
      return [{ type: 'WebhookTestRequested', data: { endpointId, deliveryId, requestedBy: by, requestedAt: now } }];
    }
  }
}

function recordAttempt(
  data: Extract<WebhookEndpointCommand, { type: 'RecordWebhookAttempt' }>['data'],
  state: WebhookEndpointState,
): WebhookEndpointEvent[] {
  const { endpointId, deliveryId, eventType, attempt, succeeded, statusCode, error, latencyMs, nextAttemptAt } = data;
  const failingSince = succeeded ? null : stillFailingSince(state, data.now, data.quietAfterMs);
  const attempted: WebhookEndpointEvent = {
    type: 'WebhookDeliveryAttempted',
    data: {
      endpointId,
      deliveryId,
      eventType,
      attempt,
      succeeded,
      statusCode,
      error,
      latencyMs,
      nextAttemptAt,
      attemptedAt: data.now,
      ...(data.redeliveryRequestedAt !== undefined && { redeliveryRequestedAt: data.redeliveryRequestedAt }),
      failingSince,
    },
  };
  const failingTooLong = failingSince !== null && ms(data.now) - ms(failingSince) >= data.disableAfterMs;
  if (state.status !== 'ENABLED' || !failingTooLong) return [attempted];
  return [
    attempted,
    {
      type: 'WebhookEndpointDisabled',
      data: { endpointId, reason: 'FAILING', failingSince, disabledBy: data.by, disabledAt: data.now },
    },
  ];
}

/**
 * When a failure at `now` says the endpoint has been failing since: its failing period's start, or
 * `now` when it was delivering, or when its previous failure is more than `quietAfterMs` ago (a
 * receiver that failed on Monday and fails again on Saturday, with nothing sent in between, was
 * not seen failing all week).
 */
function stillFailingSince(state: WebhookEndpointState, now: string, quietAfterMs = Infinity): string {
  if (state.failingSince === null) return now;
  if (state.lastFailedAt !== null && ms(now) - ms(state.lastFailedAt) > quietAfterMs) return now;
  return state.failingSince;
}

function requireEventTypes(eventTypes: readonly WebhookEventType[]): void {
  if (eventTypes.length === 0) throw invalidCommand('A webhook endpoint needs at least one event type.');
}

const sameTypes = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((type) => b.includes(type));
