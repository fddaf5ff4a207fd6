/** The webhook types of the API: endpoints, the secret shown once, deliveries and their attempts. */
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DISABLE_REASONS, type DisableReason } from '../../domain/webhooks/endpoint-events';
import type { DeliveryStatus, EndpointStatus } from '../../queries/webhooks';
import { enumOf } from './enums';

export const WebhookEndpointStatusEnum = enumOf<EndpointStatus>(['ENABLED', 'DISABLED', 'DELETED']);
registerEnumType(WebhookEndpointStatusEnum, {
  name: 'WebhookEndpointStatus',
  description: 'ENABLED: receives its events. DISABLED: receives nothing until enabled again. DELETED: for good.',
});

export const WebhookDisabledReasonEnum = enumOf<DisableReason>(DISABLE_REASONS);
registerEnumType(WebhookDisabledReasonEnum, {
  name: 'WebhookDisabledReason',
  description:
    'MANUAL: someone disabled it. FAILING: every delivery attempt failed for longer than WEBHOOK_DISABLE_AFTER (5 days by default).',
});

export const WebhookDeliveryStatusEnum = enumOf<DeliveryStatus>(['PENDING', 'SUCCEEDED', 'FAILED', 'CANCELED']);
registerEnumType(WebhookDeliveryStatusEnum, {
  name: 'WebhookDeliveryStatus',
  description:
    'PENDING: not delivered yet, next attempt scheduled. SUCCEEDED: the endpoint answered 2xx. FAILED: every attempt of the retry schedule failed. CANCELED: the endpoint was disabled or deleted first.',
});

@ObjectType({ description: 'Where webhooks are sent, which events, and whether they are.' })
export class WebhookEndpoint {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, {
    nullable: true,
    description: "The workspace whose events it receives; null: every workspace's (platform).",
  })
  workspaceId!: string | null;

  @Field()
  url!: string;

  @Field(() => [String], { description: 'The event types it receives (docs/webhooks.md).' })
  eventTypes!: string[];

  @Field()
  description!: string;

  @Field(() => WebhookEndpointStatusEnum)
  status!: EndpointStatus;

  @Field(() => WebhookDisabledReasonEnum, { nullable: true })
  disabledReason!: DisableReason | null;

  @Field(() => Date, { nullable: true })
  disabledAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'The first failed attempt since the last delivered one.' })
  failingSince!: Date | null;

  @Field(() => Date, { nullable: true })
  secretRotatedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Until when the previous secret signs too, after a rotation.' })
  previousSecretExpiresAt!: Date | null;

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@ObjectType({
  description: 'An endpoint with its signing secret, answered once: when it is created or its secret rotated.',
})
export class WebhookEndpointSecret {
  @Field(() => ID, { description: 'The endpoint id.' })
  id!: string;

  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field({ description: 'whsec_…: verify each delivery with it (Standard Webhooks). It is not shown again.' })
  secret!: string;
}

@ObjectType({ description: 'One attempt to deliver a message.' })
export class WebhookAttempt {
  @Field(() => ID, { description: '<delivery id>/<attempt>.' })
  id!: string;

  @Field(() => Int)
  attempt!: number;

  @Field()
  succeeded!: boolean;

  @Field(() => Int, { nullable: true, description: "The endpoint's HTTP status; null when it did not answer." })
  statusCode!: number | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => Int)
  latencyMs!: number;

  @Field(() => Date, { nullable: true, description: 'When the next attempt is due; null when none follows.' })
  nextAttemptAt!: Date | null;

  @Field()
  attemptedAt!: Date;
}

@ObjectType({ description: 'One message to one endpoint, and what became of it.' })
export class WebhookDelivery {
  @Field(() => ID, { description: 'Its webhook-id, the same on every attempt.' })
  id!: string;

  @Field(() => ID)
  endpointId!: string;

  @Field(() => ID, {
    nullable: true,
    description: 'The workspace it is about; null for a test of a platform endpoint.',
  })
  workspaceId!: string | null;

  @Field({ description: 'The message type, e.g. credits.low, or webhook.test for a test.' })
  eventType!: string;

  @Field({ description: 'The position in the log of the event it announces.' })
  position!: string;

  @Field({ description: 'The exact JSON body sent: { type, timestamp, data }.' })
  payload!: string;

  @Field(() => WebhookDeliveryStatusEnum)
  status!: DeliveryStatus;

  @Field(() => Int)
  attempts!: number;

  @Field(() => Int, { nullable: true })
  lastStatusCode!: number | null;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => Int, { nullable: true })
  lastLatencyMs!: number | null;

  @Field(() => Date, { nullable: true })
  nextAttemptAt!: Date | null;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  deliveredAt!: Date | null;
}
