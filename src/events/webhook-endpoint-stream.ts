/**
 * Where a webhook endpoint's events live (`webhook-endpoint-<id>`), and how a stored event becomes
 * one of them. Every event of these streams is at schema version 1 (docs/webhooks.md).
 */
import { WEBHOOK_ENDPOINT_EVENT_TYPES, type WebhookEndpointEvent } from '../domain/webhooks/endpoint-events';
import type { NewEvent, RecordedEvent } from '../eventstore/port';

export const WEBHOOK_ENDPOINT_CATEGORY = 'webhook-endpoint';

export const webhookEndpointStreamName = (endpointId: string): string => `${WEBHOOK_ENDPOINT_CATEGORY}-${endpointId}`;

const TYPES: ReadonlySet<string> = new Set(WEBHOOK_ENDPOINT_EVENT_TYPES);

export function toWebhookEndpointEvent(recorded: RecordedEvent): WebhookEndpointEvent | undefined {
  if (!recorded.streamName.startsWith(`${WEBHOOK_ENDPOINT_CATEGORY}-`) || !TYPES.has(recorded.type)) return undefined;
  return { type: recorded.type, data: recorded.data } as WebhookEndpointEvent;
}

export const toNewWebhookEndpointEvent = (
  event: WebhookEndpointEvent,
  id: string,
  metadata: Record<string, unknown>,
): NewEvent => ({ id, type: event.type, schemaVersion: 1, data: event.data, metadata });
