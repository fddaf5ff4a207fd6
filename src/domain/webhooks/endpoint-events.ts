/**
 * The facts of one webhook endpoint, in its own stream (`webhook-endpoint-<id>`): how it was set
 * up and changed, its signing secrets (sealed: encrypted with the service's key, never in clear),
 * and every attempt to deliver a message to it. Its status, and whether it has been failing for so
 * long that it is disabled, are decided from this stream alone.
 */
import type { WebhookEventType, WebhookMessageType } from './messages';

type Event<Type extends string, Data> = { type: Type; data: Data };

/** A workspace's endpoint, or (null) a platform endpoint that receives every workspace's events. */
export type EndpointScope = { workspaceId: string | null };

export type WebhookEndpointCreated = Event<
  'WebhookEndpointCreated',
  EndpointScope & {
    endpointId: string;
    url: string;
    eventTypes: WebhookEventType[];
    description: string;
    /** The signing secret, sealed (AES-256-GCM with the service's key). */
    secret: string;
    createdBy: string;
    createdAt: string;
  }
>;

/** The endpoint's settings as they are from now on (every field, changed or not). */
export type WebhookEndpointUpdated = Event<
  'WebhookEndpointUpdated',
  {
    endpointId: string;
    url: string;
    eventTypes: WebhookEventType[];
    description: string;
    updatedBy: string;
    updatedAt: string;
  }
>;

export const DISABLE_REASONS = ['MANUAL', 'FAILING'] as const;
export type DisableReason = (typeof DISABLE_REASONS)[number];

/**
 * Deliveries stop: someone disabled it (MANUAL), or every attempt failed since `failingSince`, for
 * longer than the service allows (FAILING: an alert for whoever manages it).
 */
export type WebhookEndpointDisabled = Event<
  'WebhookEndpointDisabled',
  {
    endpointId: string;
    reason: DisableReason;
    failingSince: string | null;
    disabledBy: string;
    disabledAt: string;
  }
>;

export type WebhookEndpointEnabled = Event<
  'WebhookEndpointEnabled',
  { endpointId: string; enabledBy: string; enabledAt: string }
>;

export type WebhookEndpointDeleted = Event<
  'WebhookEndpointDeleted',
  { endpointId: string; deletedBy: string; deletedAt: string }
>;

/** A new signing secret; the previous one keeps signing too until `previousSecretExpiresAt`. */
export type WebhookSecretRotated = Event<
  'WebhookSecretRotated',
  {
    endpointId: string;
    secret: string;
    previousSecretExpiresAt: string;
    rotatedBy: string;
    rotatedAt: string;
    /** The caller's key that makes the rotation safe to retry (absent: none given). */
    idempotencyKey?: string;
  }
>;

/**
 * One attempt to deliver one message (`deliveryId` is its webhook-id): the endpoint's answer, how
 * long it took, and when the next attempt is due (null: delivered, or given up).
 */
export type WebhookDeliveryAttempted = Event<
  'WebhookDeliveryAttempted',
  {
    endpointId: string;
    deliveryId: string;
    eventType: WebhookMessageType;
    attempt: number;
    succeeded: boolean;
    statusCode: number | null;
    error: string | null;
    latencyMs: number;
    nextAttemptAt: string | null;
    attemptedAt: string;
    /**
     * When the redelivery this attempt resends was asked for; absent for the attempts of the
     * first run (and in events recorded before 2026-12-02). Tells an attempt that was in flight
     * when a resend was asked for from the resend itself, without comparing clocks.
     */
    redeliveryRequestedAt?: string;
    /**
     * The endpoint's first failed attempt since it last delivered, after this attempt (null once it
     * delivers): a failure long after the endpoint's previous one starts the period afresh. Absent
     * in events recorded before 2026-12-03, where it is the first failure since the last success.
     */
    failingSince?: string | null;
  }
>;

/**
 * Someone asked for a test message to be sent to the endpoint: a `webhook.test` delivery of its own,
 * whose webhook-id (`deliveryId`) was made with the request.
 */
export type WebhookTestRequested = Event<
  'WebhookTestRequested',
  { endpointId: string; deliveryId: string; requestedBy: string; requestedAt: string }
>;

/** Someone asked for a message to be sent again (same webhook-id, a new attempt). */
export type WebhookRedeliveryRequested = Event<
  'WebhookRedeliveryRequested',
  { endpointId: string; deliveryId: string; requestedBy: string; requestedAt: string }
>;

export type WebhookEndpointEvent =
  | WebhookEndpointCreated
  | WebhookEndpointUpdated
  | WebhookEndpointDisabled
  | WebhookEndpointEnabled
  | WebhookEndpointDeleted
  | WebhookSecretRotated
  | WebhookDeliveryAttempted
  | WebhookRedeliveryRequested
  | WebhookTestRequested;

export const WEBHOOK_ENDPOINT_EVENT_TYPES: readonly WebhookEndpointEvent['type'][] = [
  'WebhookEndpointCreated',
  'WebhookEndpointUpdated',
  'WebhookEndpointDisabled',
  'WebhookEndpointEnabled',
  'WebhookEndpointDeleted',
  'WebhookSecretRotated',
  'WebhookDeliveryAttempted',
  'WebhookRedeliveryRequested',
  'WebhookTestRequested',
];
