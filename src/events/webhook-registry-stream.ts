/**
 * Where an owner's webhook endpoint registry lives (`webhook-registry-workspace-<id>`, or
 * `webhook-registry-platform` for the platform's endpoints), and how a stored event becomes one of
 * its events. Every event of these streams is at schema version 1 (docs/webhooks.md).
 */
import { WEBHOOK_REGISTRY_EVENT_TYPES, type WebhookRegistryEvent } from '../domain/webhooks/endpoint-registry';
import type { NewEvent, RecordedEvent } from '../eventstore/port';

export const WEBHOOK_REGISTRY_CATEGORY = 'webhook-registry';

export const webhookRegistryStreamName = (workspaceId: string | null): string =>
  workspaceId === null
    ? `${WEBHOOK_REGISTRY_CATEGORY}-platform`
    : `${WEBHOOK_REGISTRY_CATEGORY}-workspace-${workspaceId}`;

const TYPES: ReadonlySet<string> = new Set(WEBHOOK_REGISTRY_EVENT_TYPES);

export function toWebhookRegistryEvent(recorded: RecordedEvent): WebhookRegistryEvent | undefined {
  if (!recorded.streamName.startsWith(`${WEBHOOK_REGISTRY_CATEGORY}-`) || !TYPES.has(recorded.type)) return undefined;
  return { type: recorded.type, data: recorded.data } as WebhookRegistryEvent;
}

export const toNewWebhookRegistryEvent = (
  event: WebhookRegistryEvent,
  id: string,
  metadata: Record<string, unknown>,
): NewEvent => ({ id, type: event.type, schemaVersion: 1, data: event.data, metadata });
