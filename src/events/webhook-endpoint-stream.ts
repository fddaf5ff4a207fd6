/**
 * Where a webhook endpoint's events live (`webhook-endpoint-<id>`), and how a stored event becomes
 * one of them. Every event of these streams is at schema version 1 (docs/webhooks.md).
 */
import { WEBHOOK_ENDPOINT_EVENT_TYPES, type WebhookEndpointEvent } from '../domain/webhooks/endpoint-events';
import { categoryEvents } from './category-events';

export const WEBHOOK_ENDPOINT_CATEGORY = 'webhook-endpoint';

export const webhookEndpointStreamName = (endpointId: string): string => `${WEBHOOK_ENDPOINT_CATEGORY}-${endpointId}`;

const events = categoryEvents<WebhookEndpointEvent>(WEBHOOK_ENDPOINT_CATEGORY, WEBHOOK_ENDPOINT_EVENT_TYPES);

export const toWebhookEndpointEvent = events.from;

export const toNewWebhookEndpointEvent = events.toNew;
