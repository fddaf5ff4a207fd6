import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { conflict, invalidCommand, notFound } from '../../domain/errors';
import type { WebhookEventType } from '../../domain/webhooks/messages';
import type { WebhookDeliveryView, WebhookEndpointView } from '../../queries/webhooks';
import type { GraphQLContext } from '../context';
import { asActor, requireAdmin, requireBillingManager } from '../guards';
import {
  AttemptHistoryArgs,
  CreateWebhookEndpointInput,
  RedeliverWebhookInput,
  RotateWebhookSecretInput,
  UpdateWebhookEndpointInput,
  WebhookDeliveriesArgs,
  WebhookEndpointIdInput,
  WebhookEndpointsArgs,
} from '../webhook-inputs';
import { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEndpointSecret } from '../types/webhooks';

/**
 * Outbound webhook endpoints and their deliveries. A workspace's endpoints are managed by its
 * OWNER or BILLING_MANAGER or an admin; platform endpoints (every workspace's events) by admins.
 */
@Authorized()
@Resolver(() => WebhookDelivery)
export class WebhooksResolver {
  @FieldResolver(() => [WebhookAttempt], { description: 'Its attempts, the latest first: `first` of them.' })
  attemptHistory(
    @Root() delivery: WebhookDelivery,
    @Args(() => AttemptHistoryArgs) { first }: AttemptHistoryArgs,
    @Ctx() context: GraphQLContext,
  ): WebhookAttempt[] {
    managedEndpoint(context, delivery.endpointId);
    return context.services.webhooks.reader.attempts(delivery.id, first).map((attempt) => ({
      id: `${attempt.deliveryId}/${attempt.attempt}`,
      attempt: attempt.attempt,
      succeeded: attempt.succeeded,
      statusCode: attempt.statusCode ?? null,
      error: attempt.error ?? null,
      latencyMs: attempt.latencyMs,
      // The latest attempt's next one is the delivery's: none once it was canceled (its endpoint
      // disabled or deleted) or given up on, whatever was planned when the attempt failed.
      nextAttemptAt: attempt.attempt === delivery.attempts ? delivery.nextAttemptAt : (attempt.nextAttemptAt ?? null),
      attemptedAt: attempt.attemptedAt,
    }));
  }

  @Query(() => [WebhookEndpoint], { description: "The workspace's webhook endpoints (deleted ones left out)." })
  webhookEndpoints(
    @Args(() => WebhookEndpointsArgs) { workspaceId }: WebhookEndpointsArgs,
    @Ctx() context: GraphQLContext,
  ): WebhookEndpoint[] {
    requireBillingManager(context, workspaceId);
    return context.services.webhooks.reader.endpoints(workspaceId).map(toEndpoint);
  }

  @Query(() => [WebhookEndpoint], {
    description: "The platform's webhook endpoints, told of every workspace's events (admin).",
  })
  platformWebhookEndpoints(@Ctx() context: GraphQLContext): WebhookEndpoint[] {
    requireAdmin(context);
    return context.services.webhooks.reader.endpoints(null).map(toEndpoint);
  }

  @Query(() => [WebhookDelivery], {
    description:
      "An endpoint's deliveries with their attempts, newest first: those made in the last 30 days, and older ones still pending.",
  })
  webhookDeliveries(
    @Args(() => WebhookDeliveriesArgs) args: WebhookDeliveriesArgs,
    @Ctx() context: GraphQLContext,
  ): WebhookDelivery[] {
    managedEndpoint(context, args.endpointId);
    const { reader } = context.services.webhooks;
    if (args.after && reader.delivery(args.after)?.endpointId !== args.endpointId) {
      throw invalidCommand('after must be the id of one of this endpoint’s deliveries (the last of the previous page)');
    }
    return reader.deliveries(args.endpointId, args.first, args.after ?? undefined).map(toDelivery);
  }

  @Mutation(() => WebhookEndpointSecret, {
    description:
      'Creates a webhook endpoint and answers its signing secret, the only time it is shown (a retry with the same idempotencyKey answers it again). The URL must be https and reach a public address. An owner has at most WEBHOOK_MAX_ENDPOINTS endpoints (LIMIT_EXCEEDED).',
  })
  async createWebhookEndpoint(
    @Arg('input', () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookEndpointSecret> {
    const workspaceId = input.workspaceId ?? null;
    const principal = workspaceId === null ? requireAdmin(context) : requireBillingManager(context, workspaceId);
    const { result } = await context.services.webhooks.commands.create(
      {
        workspaceId,
        url: input.url,
        eventTypes: input.eventTypes as WebhookEventType[],
        description: input.description,
        idempotencyKey: input.idempotencyKey ?? null,
      },
      asActor(principal),
    );
    return { id: result.endpointId, endpoint: endpointOf(context, result.endpointId), secret: result.secret };
  }

  @Mutation(() => WebhookEndpoint, { description: "Changes an endpoint's URL, event types or description." })
  async updateWebhookEndpoint(
    @Arg('input', () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookEndpoint> {
    const principal = managedEndpoint(context, input.endpointId);
    await context.services.webhooks.commands.update(
      {
        endpointId: input.endpointId,
        ...(input.url != null && { url: input.url }),
        ...(input.eventTypes != null && { eventTypes: input.eventTypes as WebhookEventType[] }),
        ...(input.description != null && { description: input.description }),
      },
      asActor(principal),
    );
    return endpointOf(context, input.endpointId);
  }

  @Mutation(() => WebhookEndpoint, {
    description: 'Stops deliveries to an endpoint; what it was still owed is canceled.',
  })
  async disableWebhookEndpoint(
    @Arg('input', () => WebhookEndpointIdInput) { endpointId }: WebhookEndpointIdInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookEndpoint> {
    await context.services.webhooks.commands.disable(endpointId, asActor(managedEndpoint(context, endpointId)));
    return endpointOf(context, endpointId);
  }

  @Mutation(() => WebhookEndpoint, { description: 'Delivers to an endpoint again, from the next event on.' })
  async enableWebhookEndpoint(
    @Arg('input', () => WebhookEndpointIdInput) { endpointId }: WebhookEndpointIdInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookEndpoint> {
    await context.services.webhooks.commands.enable(endpointId, asActor(managedEndpoint(context, endpointId)));
    return endpointOf(context, endpointId);
  }

  @Mutation(() => WebhookEndpoint, { description: 'Deletes an endpoint for good; what it was still owed is canceled.' })
  async deleteWebhookEndpoint(
    @Arg('input', () => WebhookEndpointIdInput) { endpointId }: WebhookEndpointIdInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookEndpoint> {
    await context.services.webhooks.commands.delete(endpointId, asActor(managedEndpoint(context, endpointId)));
    return endpointOf(context, endpointId);
  }

  @Mutation(() => WebhookEndpointSecret, {
    description:
      'Gives an endpoint a new signing secret, answered once. Deliveries carry a signature with each of the old and new secrets until the overlap ends.',
  })
  async rotateWebhookSecret(
    @Arg('input', () => RotateWebhookSecretInput) input: RotateWebhookSecretInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookEndpointSecret> {
    const principal = managedEndpoint(context, input.endpointId);
    const { result } = await context.services.webhooks.commands.rotateSecret(
      {
        endpointId: input.endpointId,
        overlapMs: input.overlapHours * 60 * 60 * 1000,
        ...(input.idempotencyKey != null && { idempotencyKey: input.idempotencyKey }),
      },
      asActor(principal),
    );
    return { id: input.endpointId, endpoint: endpointOf(context, input.endpointId), secret: result.secret };
  }

  @Mutation(() => WebhookDelivery, {
    description:
      'Sends a delivery again: the same webhook-id and body, a new attempt. One delivery at most once every 10 seconds, one endpoint at most 60 times a minute (CONFLICT). A finished delivery is kept 30 days (NOT_FOUND after).',
  })
  async redeliverWebhook(
    @Arg('input', () => RedeliverWebhookInput) { deliveryId }: RedeliverWebhookInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookDelivery> {
    const { reader, commands } = context.services.webhooks;
    const delivery = reader.delivery(deliveryId);
    if (!delivery) throw notFound('Webhook delivery', deliveryId);
    const principal = managedEndpoint(context, delivery.endpointId);
    await commands.requestRedelivery({ endpointId: delivery.endpointId, deliveryId }, asActor(principal));
    // Forgotten (30 days after it was made) between the read above and the request: nothing is sent.
    const resent = reader.delivery(deliveryId);
    if (!resent) throw notFound('Webhook delivery', deliveryId);
    return toDelivery(resent);
  }

  @Mutation(() => WebhookDelivery, {
    description:
      'Sends the endpoint a signed test message (type webhook.test), to that endpoint only, whatever it subscribes to: signed like any delivery and listed in webhookDeliveries, but tried once, not retried on the schedule (send it again with redeliverWebhook). One test per endpoint every 10 seconds; refused while the endpoint is disabled.',
  })
  async sendTestWebhook(
    @Arg('input', () => WebhookEndpointIdInput) { endpointId }: WebhookEndpointIdInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookDelivery> {
    const principal = managedEndpoint(context, endpointId);
    const { reader, commands } = context.services.webhooks;
    const { result } = await commands.sendTest(endpointId, asActor(principal));
    const delivery = reader.delivery(result.deliveryId);
    // Read your writes: the delivery is derived in the same projection batch as the request, unless
    // the endpoint was disabled or deleted in between.
    if (!delivery) throw conflict(`Webhook endpoint "${endpointId}" was disabled meanwhile: no test was sent.`);
    return toDelivery(delivery);
  }
}

/** The caller, once it may manage the endpoint (its workspace's billing managers, or admins for the platform's). */
function managedEndpoint(context: GraphQLContext, endpointId: string) {
  const endpoint = context.services.webhooks.reader.endpoint(endpointId);
  if (!endpoint) throw notFound('Webhook endpoint', endpointId);
  return endpoint.workspaceId === null ? requireAdmin(context) : requireBillingManager(context, endpoint.workspaceId);
}

function endpointOf(context: GraphQLContext, endpointId: string): WebhookEndpoint {
  const endpoint = context.services.webhooks.reader.endpoint(endpointId);
  if (!endpoint) throw notFound('Webhook endpoint', endpointId);
  return toEndpoint(endpoint);
}

const toEndpoint = (view: WebhookEndpointView): WebhookEndpoint => ({
  id: view.endpointId,
  workspaceId: view.workspaceId,
  url: view.url,
  eventTypes: view.eventTypes,
  description: view.description,
  status: view.status,
  disabledReason: view.disabledReason ?? null,
  disabledAt: view.disabledAt ?? null,
  failingSince: view.failingSince ?? null,
  secretRotatedAt: view.secretRotatedAt ?? null,
  previousSecretExpiresAt: view.previousSecretExpiresAt ?? null,
  createdBy: view.createdBy,
  createdAt: view.createdAt,
  updatedAt: view.updatedAt,
});

const toDelivery = (view: WebhookDeliveryView): WebhookDelivery => ({
  id: view.deliveryId,
  endpointId: view.endpointId,
  workspaceId: view.workspaceId,
  eventType: view.eventType,
  position: view.position.toString(),
  payload: view.body,
  status: view.status,
  attempts: view.attempts,
  lastStatusCode: view.lastStatusCode ?? null,
  lastError: view.lastError ?? null,
  lastLatencyMs: view.lastLatencyMs ?? null,
  nextAttemptAt: view.nextAttemptAt ?? null,
  createdAt: view.createdAt,
  deliveredAt: view.deliveredAt ?? null,
});
