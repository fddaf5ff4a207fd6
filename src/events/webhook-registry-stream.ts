/**
 * Where an owner's webhook endpoint registry lives (`webhook-registry-workspace-<id>`, or
 * `webhook-registry-platform` for the platform's endpoints), and how a stored event becomes one of
 * its events. Every event of these streams is at schema version 1 (docs/webhooks.md).
 */
import { WEBHOOK_REGISTRY_EVENT_TYPES, type WebhookRegistryEvent } from '../domain/webhooks/endpoint-registry';
import { categoryEvents } from './category-events';

export const WEBHOOK_REGISTRY_CATEGORY = 'webhook-registry';

export const webhookRegistryStreamName = (workspaceId: string | null): string =>
  workspaceId === null
    ? `${WEBHOOK_REGISTRY_CATEGORY}-platform`
    : `${WEBHOOK_REGISTRY_CATEGORY}-workspace-${workspaceId}`;

const events = categoryEvents<WebhookRegistryEvent>(WEBHOOK_REGISTRY_CATEGORY, WEBHOOK_REGISTRY_EVENT_TYPES);

export const toWebhookRegistryEvent = events.from;

export const toNewWebhookRegistryEvent = events.toNew;
