/**
 * The webhook endpoints' write side as the API and the delivery reaction see it: resolves the
 * clock, new ids and signing secrets (made here, sealed before they enter an event, and handed
 * back in clear only in the answer that created them), checks a URL against the SSRF rules, and
 * hands the command to the endpoint's handler.
 */
import { systemClock, type Clock } from '../clock';
import type { WebhookEventType } from '../domain/webhooks/messages';
import type { WebhookEndpointCommand } from '../domain/webhooks/endpoint-decider';
import { newId as timeOrderedId } from '../ids';
import type { WebhookSecrets, WebhookUrlPolicy } from '../webhooks/port';
import type { CommandMetadata } from './decide-and-append';
import type { EndpointOutcome, WebhookEndpointHandler } from './webhook-endpoint-handler';

export interface WebhookEndpointSettings {
  /** How long every attempt to an endpoint may fail before it is disabled. */
  disableAfterMs: number;
}

/** What an attempt to deliver one message came to, as the delivery reaction reports it. */
export interface DeliveryAttempt {
  endpointId: string;
  deliveryId: string;
  eventType: WebhookEventType;
  attempt: number;
  succeeded: boolean;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  nextAttemptAt: Date | null;
  attemptedAt: Date;
}

type Outcome<R> = EndpointOutcome<R>;

export class WebhookEndpointCommands {
  constructor(
    private readonly handler: WebhookEndpointHandler,
    private readonly secrets: WebhookSecrets,
    private readonly urls: WebhookUrlPolicy,
    private readonly settings: WebhookEndpointSettings,
    private readonly clock: Clock = systemClock,
    private readonly newId: () => string = timeOrderedId,
  ) {}

  /** Creates an endpoint; the answer carries its signing secret, the only time it is shown. */
  async create(
    request: { workspaceId: string | null; url: string; eventTypes: WebhookEventType[]; description: string },
    metadata: CommandMetadata,
  ): Promise<Outcome<{ endpointId: string; secret: string }>> {
    const url = await this.urls.check(request.url);
    const endpointId = `we_${this.newId()}`;
    const secret = this.secrets.generate();
    const outcome = await this.run(
      {
        type: 'CreateWebhookEndpoint',
        data: { ...request, url, endpointId, secret: this.secrets.seal(secret), ...this.by(metadata) },
      },
      metadata,
    );
    return { ...outcome, result: { endpointId, secret } };
  }

  async update(
    request: { endpointId: string; url?: string; eventTypes?: WebhookEventType[]; description?: string },
    metadata: CommandMetadata,
  ): Promise<Outcome<void>> {
    const url = request.url === undefined ? undefined : await this.urls.check(request.url);
    return this.run(
      { type: 'UpdateWebhookEndpoint', data: { ...request, ...(url !== undefined && { url }), ...this.by(metadata) } },
      metadata,
    );
  }

  disable(endpointId: string, metadata: CommandMetadata): Promise<Outcome<void>> {
    return this.run({ type: 'DisableWebhookEndpoint', data: { endpointId, ...this.by(metadata) } }, metadata);
  }

  enable(endpointId: string, metadata: CommandMetadata): Promise<Outcome<void>> {
    return this.run({ type: 'EnableWebhookEndpoint', data: { endpointId, ...this.by(metadata) } }, metadata);
  }

  delete(endpointId: string, metadata: CommandMetadata): Promise<Outcome<void>> {
    return this.run({ type: 'DeleteWebhookEndpoint', data: { endpointId, ...this.by(metadata) } }, metadata);
  }

  /** A new signing secret (answered once, in clear); the old one signs too for `overlapMs` more. */
  async rotateSecret(
    request: { endpointId: string; overlapMs: number },
    metadata: CommandMetadata,
  ): Promise<Outcome<{ secret: string }>> {
    const secret = this.secrets.generate();
    const outcome = await this.run(
      { type: 'RotateWebhookSecret', data: { ...request, secret: this.secrets.seal(secret), ...this.by(metadata) } },
      metadata,
    );
    return { ...outcome, result: { secret } };
  }

  requestRedelivery(
    request: { endpointId: string; deliveryId: string },
    metadata: CommandMetadata,
  ): Promise<Outcome<void>> {
    return this.run({ type: 'RequestWebhookRedelivery', data: { ...request, ...this.by(metadata) } }, metadata);
  }

  recordAttempt(attempt: DeliveryAttempt, metadata: CommandMetadata): Promise<Outcome<void>> {
    return this.run(
      {
        type: 'RecordWebhookAttempt',
        data: {
          ...attempt,
          nextAttemptAt: attempt.nextAttemptAt?.toISOString() ?? null,
          disableAfterMs: this.settings.disableAfterMs,
          by: metadata.actorId,
          now: attempt.attemptedAt.toISOString(),
        },
      },
      metadata,
    );
  }

  private by(metadata: CommandMetadata): { by: string; now: string } {
    return { by: metadata.actorId, now: this.clock.now().toISOString() };
  }

  private async run(command: WebhookEndpointCommand, metadata: CommandMetadata): Promise<Outcome<void>> {
    const { events, position } = await this.handler.handle(command, metadata);
    return { result: undefined, events, position };
  }
}
