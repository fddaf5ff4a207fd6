/** The inputs of the webhook operations (webhooks-resolver.ts). */
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsIn,
  IsOptional,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { ArgsType, Field, ID, InputType, Int } from 'type-graphql';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhooks/messages';
import { MAX_URL_LENGTH } from '../webhooks/port';
import { IsWorkspaceId, NoControlCharacters, NotBlank } from './validators';

export const MAX_DELIVERIES_PAGE = 100;
const TYPES_RULE = `each event type must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`;
const EVENT_TYPES_DESCRIPTION = `The event types to receive, at least one of: ${WEBHOOK_EVENT_TYPES.join(', ')} (docs/webhooks.md).`;

/** An endpoint's or a delivery's id: what the server hands out, never longer than 100 characters. */
function IsWebhookId(): PropertyDecorator {
  return (prototype, property) => {
    const name = String(property);
    Length(1, 100)(prototype, name);
    Matches(/^\S+$/, { message: `${name} must not contain spaces` })(prototype, name);
  };
}

/** A description: free text on one or more lines, without other control characters. */
function IsDescription(): PropertyDecorator {
  return (prototype, property) => {
    const name = String(property);
    MaxLength(500)(prototype, name);
    NoControlCharacters()(prototype, property);
  };
}

/** An event-type list, held to the known types. */
function IsEventTypes(): PropertyDecorator {
  return (prototype, property) => {
    const name = String(property);
    ArrayNotEmpty({ message: `${name} must name at least one event type` })(prototype, name);
    ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)(prototype, name);
    ArrayUnique({ message: `${name} must not repeat an event type` })(prototype, name);
    IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: TYPES_RULE })(prototype, name);
  };
}

@InputType({
  description:
    "A new webhook endpoint: a workspace's (OWNER, BILLING_MANAGER or admin), or without workspaceId a platform endpoint that receives every workspace's events (admin).",
})
export class CreateWebhookEndpointInput {
  @Field(() => ID, { nullable: true, description: 'The workspace whose events it receives; null for the platform.' })
  @IsOptional()
  @IsWorkspaceId()
  workspaceId?: string | null;

  @Field({
    description: 'Where the events are POSTed: https, reaching a public address (see WEBHOOK_ALLOW_PRIVATE_URLS).',
  })
  @Length(1, MAX_URL_LENGTH)
  url!: string;

  @Field(() => [String], { description: EVENT_TYPES_DESCRIPTION })
  @IsEventTypes()
  eventTypes!: string[];

  @Field({ defaultValue: '', description: 'What the endpoint is for, up to 500 characters.' })
  @IsDescription()
  description!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'Makes the create safe to retry: within 24 hours, the same key from the same caller answers the endpoint it made, with the secret it was made with, instead of making another (CONFLICT once the endpoint is deleted or its secret rotated); the same key with another URL, event types or description, or from another caller, is refused with IDEMPOTENCY_KEY_REUSED.',
  })
  @IsOptional()
  @NotBlank(200)
  idempotencyKey?: string | null;
}

@InputType({ description: 'New settings of an endpoint; a field left out, or null, stays as it is.' })
export class UpdateWebhookEndpointInput {
  @Field(() => ID)
  @IsWebhookId()
  endpointId!: string;

  @Field({ nullable: true, description: 'A new URL, checked as when created.' })
  @IsOptional()
  @Length(1, MAX_URL_LENGTH)
  url?: string;

  @Field(() => [String], { nullable: true, description: EVENT_TYPES_DESCRIPTION })
  @IsOptional()
  @IsEventTypes()
  eventTypes?: string[];

  @Field({ nullable: true, description: 'A new description, up to 500 characters; "" clears it.' })
  @IsOptional()
  @IsDescription()
  description?: string;
}

@InputType({ description: 'Names one webhook endpoint.' })
export class WebhookEndpointIdInput {
  @Field(() => ID)
  @IsWebhookId()
  endpointId!: string;
}

@InputType({ description: 'A new signing secret for an endpoint, and how long the old one keeps signing beside it.' })
export class RotateWebhookSecretInput extends WebhookEndpointIdInput {
  @Field(() => Int, {
    defaultValue: 24,
    description: 'Hours (0 to 168) during which every delivery is signed with both the old and the new secret.',
  })
  @Min(0)
  @Max(168)
  overlapHours!: number;

  @Field(() => String, {
    nullable: true,
    description:
      'Makes the rotation safe to retry: while it is the endpoint’s last rotation, the same key from the same caller with the same overlapHours answers the secret it made instead of rotating again (which would stop the secret your receiver still has from signing); with another overlapHours or from another caller, IDEMPOTENCY_KEY_REUSED; once the secret was rotated again since, CONFLICT.',
  })
  @IsOptional()
  @NotBlank(200)
  idempotencyKey?: string | null;
}

@InputType({ description: 'A delivery to send again: same webhook-id and body, a new attempt.' })
export class RedeliverWebhookInput {
  @Field(() => ID, { description: 'The delivery id, which is its webhook-id.' })
  @IsWebhookId()
  deliveryId!: string;
}

@ArgsType()
export class WebhookDeliveriesArgs {
  @Field(() => ID)
  @IsWebhookId()
  endpointId!: string;

  @Field(() => Int, { defaultValue: 20, description: `At most ${MAX_DELIVERIES_PAGE}.` })
  @Min(1)
  @Max(MAX_DELIVERIES_PAGE)
  first!: number;

  @Field(() => ID, { nullable: true, description: 'The id of the last delivery of the previous page.' })
  @IsOptional()
  @IsWebhookId()
  after?: string | null;
}

@ArgsType()
export class AttemptHistoryArgs {
  @Field(() => Int, { defaultValue: 20, description: `At most ${MAX_DELIVERIES_PAGE}.` })
  @Min(1)
  @Max(MAX_DELIVERIES_PAGE)
  first!: number;
}

@ArgsType()
export class WebhookEndpointsArgs {
  @Field(() => ID)
  @IsWorkspaceId()
  workspaceId!: string;
}
