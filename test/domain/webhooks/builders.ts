/** Webhook endpoint events and commands as the specs write them: one endpoint, instants as data. */
import type { WebhookEndpointCommand } from '../../../src/domain/webhooks/endpoint-decider';
import type { WebhookEndpointEvent } from '../../../src/domain/webhooks/endpoint-events';

export const ENDPOINT = 'we_1';
export const T0 = '2026-03-01T00:00:00.000Z';
export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;
export const at = (offsetMs: number): string => new Date(Date.parse(T0) + offsetMs).toISOString();

export const created = (
  fields: Partial<Extract<WebhookEndpointEvent, { type: 'WebhookEndpointCreated' }>['data']> = {},
): WebhookEndpointEvent => ({
  type: 'WebhookEndpointCreated',
  data: {
    endpointId: ENDPOINT,
    workspaceId: 'acme',
    url: 'https://hooks.example.com/credits',
    eventTypes: ['credits.low'],
    description: 'our backend',
    secret: 'sealed-1',
    createdBy: 'owner-1',
    createdAt: T0,
    ...fields,
  },
});

export const attempted = (offsetMs: number, succeeded: boolean, deliveryId = 'msg_1'): WebhookEndpointEvent => ({
  type: 'WebhookDeliveryAttempted',
  data: {
    endpointId: ENDPOINT,
    deliveryId,
    eventType: 'credits.low',
    attempt: 1,
    succeeded,
    statusCode: succeeded ? 200 : 500,
    error: succeeded ? null : 'HTTP 500',
    latencyMs: 12,
    nextAttemptAt: succeeded ? null : at(offsetMs + HOUR),
    attemptedAt: at(offsetMs),
  },
});

/** An attempt as the decider records it now: with the endpoint's failing period after it. */
export const decided = (offsetMs: number, succeeded: boolean, failingSince: number | null): WebhookEndpointEvent => {
  const { data } = attempted(offsetMs, succeeded) as Extract<
    WebhookEndpointEvent,
    { type: 'WebhookDeliveryAttempted' }
  >;
  return {
    type: 'WebhookDeliveryAttempted',
    data: { ...data, failingSince: failingSince === null ? null : at(failingSince) },
  };
};

export const recordAttempt = (
  offsetMs: number,
  succeeded: boolean,
  disableAfterMs = 5 * DAY,
  quietAfterMs?: number,
): WebhookEndpointCommand => {
  const { data } = attempted(offsetMs, succeeded) as Extract<
    WebhookEndpointEvent,
    { type: 'WebhookDeliveryAttempted' }
  >;
  const { attemptedAt, ...rest } = data;
  return {
    type: 'RecordWebhookAttempt',
    data: {
      ...rest,
      disableAfterMs,
      ...(quietAfterMs !== undefined && { quietAfterMs }),
      by: 'webhooks-reaction',
      now: attemptedAt,
    },
  };
};

export const command = <T extends WebhookEndpointCommand['type']>(
  type: T,
  data: Omit<Extract<WebhookEndpointCommand, { type: T }>['data'], 'endpointId' | 'by' | 'now'> = {} as never,
  now = at(HOUR),
): WebhookEndpointCommand =>
  ({ type, data: { endpointId: ENDPOINT, by: 'owner-1', now, ...data } }) as WebhookEndpointCommand;
