/**
 * The webhook endpoints' write side as the API and the delivery reaction see it: resolves the
 * clock, new ids and signing secrets (made here, sealed before they enter an event, and handed
 * back in clear only in the answer that created them), checks a URL against the SSRF rules, and
 * hands the command to the endpoint's handler.
 */
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../clock';
import { conflict, isCreditsError, keptChanging } from '../domain/errors';
import type { WebhookEventType, WebhookMessageType } from '../domain/webhooks/messages';
import type { WebhookEndpointCommand } from '../domain/webhooks/endpoint-decider';
import {
  ABANDONED_AFTER_MS,
  decideRegistration,
  staleRegistrations,
  type RegisteredEndpointStatus,
  type WebhookRegistryState,
} from '../domain/webhooks/endpoint-registry';
import { isExpectedRevisionConflict, type ExpectedRevision } from '../eventstore/port';
import { newId as timeOrderedId } from '../ids';
import type { WebhookSecrets, WebhookUrlPolicy } from '../webhooks/port';
import type { CommandMetadata } from './decide-and-append';
import type { EndpointOutcome, WebhookEndpointHandler } from './webhook-endpoint-handler';
import type { WebhookRegistries } from './webhook-registry';

export interface WebhookEndpointSettings {
  /** How long every attempt to an endpoint may fail before it is disabled. */
  disableAfterMs: number;
  /**
   * A failure this long after the endpoint's previous failure starts its failing period afresh
   * (quietAfterMs of the retry schedule); unset: never.
   */
  quietAfterMs?: number;
  /** Endpoints one owner (a workspace, or the platform) may have at once. */
  maxEndpoints: number;
  /** Told of what went wrong after a command was answered as done (the server logs it). */
  onProblem?: (message: string, error: unknown) => void;
}

/** What a create asks for. */
interface CreateRequest {
  workspaceId: string | null;
  url: string;
  eventTypes: WebhookEventType[];
  description: string;
  /** Makes a retry answer the endpoint this create made (for 24 hours). */
  idempotencyKey?: string | null;
}

/** Revision races a create may lose on its owner's registry before it gives up with CONFLICT. */
const MAX_REGISTRY_ATTEMPTS = 5;

/** What a create asked for, and who asked, as its idempotency key is tied to. */
const requestDigest = (url: string, eventTypes: readonly string[], description: string, actorId: string): string =>
  createHash('sha256')
    .update(JSON.stringify([url, [...eventTypes].sort(), description, actorId]))
    .digest('base64url');

/**
 * After a look for places held by no endpoint that freed none, how long before another: each look
 * reads every registered endpoint's stream, and a client retrying at the cap must not repeat that.
 */
const REPAIR_QUIET_MS = 5 * 60 * 1000;

/** What an attempt to deliver one message came to, as the delivery reaction reports it. */
export interface DeliveryAttempt {
  endpointId: string;
  deliveryId: string;
  eventType: WebhookMessageType;
  attempt: number;
  succeeded: boolean;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  nextAttemptAt: Date | null;
  attemptedAt: Date;
  /** The redelivery this attempt resends (when it was asked for), when it does. */
  redeliveryRequestedAt?: Date;
}

type Outcome<R> = EndpointOutcome<R>;

export class WebhookEndpointCommands {
  constructor(
    private readonly handler: WebhookEndpointHandler,
    private readonly registries: WebhookRegistries,
    private readonly secrets: WebhookSecrets,
    private readonly urls: WebhookUrlPolicy,
    private readonly settings: WebhookEndpointSettings,
    private readonly clock: Clock = systemClock,
    private readonly newId: () => string = timeOrderedId,
  ) {}

  /** When each owner's last look for stale places freed none (epoch ms), in this process. */
  private readonly fruitlessRepairs = new Map<string | null, number>();

  /**
   * Creates an endpoint; the answer carries its signing secret, the only time it is shown unless
   * its caller retries the create with its idempotency key (within 24 hours), which answers the
   * same endpoint and the secret it was made with instead of making a second one. The endpoint is
   * first registered on its owner's registry stream, where the cap on endpoints per owner is decided.
   */
  async create(
    request: CreateRequest,
    metadata: CommandMetadata,
  ): Promise<Outcome<{ endpointId: string; secret: string }>> {
    const url = await this.urls.check(request.url);
    const digest = requestDigest(url, request.eventTypes, request.description, metadata.actorId);
    const asked = { ...request, url, digest };
    return this.registries.serial(request.workspaceId, async () => {
      let repaired = false;
      for (let attempt = 1; ; attempt++) {
        try {
          const outcome = await this.createOnce(asked, metadata, repaired);
          if (outcome !== 'repaired') return outcome;
          repaired = true;
        } catch (error) {
          if (!isExpectedRevisionConflict(error)) throw error;
          if (attempt >= MAX_REGISTRY_ATTEMPTS) {
            throw keptChanging('The webhook endpoints of this owner kept changing; try again.');
          }
        }
      }
    });
  }

  /** One decision on the owner's registry, at the revision it was read at. */
  private async createOnce(
    request: CreateRequest & { digest: string },
    metadata: CommandMetadata,
    repaired: boolean,
  ): Promise<Outcome<{ endpointId: string; secret: string }> | 'repaired'> {
    const owner = request.workspaceId;
    const now = this.clock.now().getTime();
    const { state, revision } = await this.registries.load(owner);
    const registering = {
      workspaceId: owner,
      endpointId: `we_${this.newId()}`,
      idempotencyKey: request.idempotencyKey ?? null,
      request: request.digest,
      now,
      maxEndpoints: this.settings.maxEndpoints,
    };
    let registration;
    try {
      registration = decideRegistration(state, registering);
    } catch (error) {
      if (repaired || !isCreditsError(error) || error.code !== 'LIMIT_EXCEEDED') throw error;
      if (await this.freeStalePlaces(owner, state, revision, now, metadata)) return 'repaired';
      throw error;
    }
    if (registration.kind === 'existing') {
      const { endpointId, again } = registration;
      if (!(await this.handler.exists(endpointId))) {
        // Its first try died before writing it: registered afresh first, so that no one frees its
        // place as abandoned while this retry writes it (a repair at this revision now conflicts).
        await this.registries.append(owner, [again], revision, metadata);
        return this.writeEndpoint(endpointId, request, metadata);
      }
      return this.createdBefore(endpointId);
    }
    await this.registries.append(owner, [registration.event], revision, metadata);
    return this.writeEndpoint(registering.endpointId, request, metadata);
  }

  /**
   * At the cap, endpoints deleted (their unregistering failed) or creates that died half-way may
   * still hold places: each registered endpoint's own stream tells, and those that hold none are
   * unregistered at the revision the registry was read at. Not again soon after a look that freed
   * nothing. Answers whether it freed a place.
   */
  private async freeStalePlaces(
    owner: string | null,
    state: WebhookRegistryState,
    revision: ExpectedRevision,
    now: number,
    metadata: CommandMetadata,
  ): Promise<boolean> {
    const fruitless = this.fruitlessRepairs.get(owner);
    if (fruitless !== undefined && now - fruitless < REPAIR_QUIET_MS) return false;
    const statuses = new Map<string, RegisteredEndpointStatus>();
    for (const [endpointId, registeredAt] of state.live) {
      // Only an old registration can be abandoned; only a written endpoint can be deleted.
      if (!(await this.handler.exists(endpointId))) {
        if (registeredAt < now - ABANDONED_AFTER_MS) statuses.set(endpointId, 'NONE');
        continue;
      }
      const { status } = (await this.handler.current(endpointId)).state;
      statuses.set(endpointId, status === 'DELETED' ? 'DELETED' : 'PRESENT');
    }
    const stale = staleRegistrations(state, owner, statuses, now);
    if (stale.length === 0) {
      this.fruitlessRepairs.set(owner, now);
      return false;
    }
    this.fruitlessRepairs.delete(owner);
    await this.registries.append(owner, stale, revision, metadata);
    return true;
  }

  /**
   * The endpoint's own stream, with a new signing secret. Should another process write it first
   * (both finishing the same keyed create), the answer is what that one wrote.
   */
  private async writeEndpoint(
    endpointId: string,
    request: CreateRequest,
    metadata: CommandMetadata,
  ): Promise<Outcome<{ endpointId: string; secret: string }>> {
    const { workspaceId, url, eventTypes, description } = request;
    const secret = this.secrets.generate();
    try {
      const outcome = await this.run(
        {
          type: 'CreateWebhookEndpoint',
          data: {
            workspaceId,
            url,
            eventTypes,
            description,
            endpointId,
            secret: this.secrets.seal(secret),
            ...this.by(metadata),
          },
        },
        metadata,
      );
      return { ...outcome, result: { endpointId, secret } };
    } catch (error) {
      if (!isCreditsError(error) || error.code !== 'CONFLICT' || !(await this.handler.exists(endpointId))) throw error;
      return this.createdBefore(endpointId);
    }
  }

  /**
   * A create retried with its key, by whoever made it: the endpoint it made and the secret it was
   * made with, with the position of its last event so that the answer waits, as the first one did,
   * until the read models show it. Refused once the endpoint is deleted or its secret rotated: the
   * key then no longer stands for a secret that signs.
   */
  private async createdBefore(endpointId: string): Promise<Outcome<{ endpointId: string; secret: string }>> {
    const { state, position } = await this.handler.current(endpointId);
    if (state.status === 'DELETED') {
      throw conflict(`Webhook endpoint "${endpointId}", made with this idempotency key, was deleted since.`);
    }
    if (state.rotated) {
      throw conflict(
        `The signing secret of webhook endpoint "${endpointId}", made with this idempotency key, was rotated since; rotate it again to get a new one.`,
      );
    }
    return { result: { endpointId, secret: this.secrets.open(state.createdSecret) }, events: [], position };
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

  /** Deletes the endpoint, then frees its place on its owner's registry. */
  async delete(endpointId: string, metadata: CommandMetadata): Promise<Outcome<void>> {
    const by = this.by(metadata);
    const {
      result: endpoint,
      events,
      position,
    } = await this.handler.handle({ type: 'DeleteWebhookEndpoint', data: { endpointId, ...by } }, metadata);
    const owner = endpoint.workspaceId;
    const unregistered = {
      type: 'WebhookEndpointUnregistered' as const,
      data: { workspaceId: owner, endpointId, reason: 'DELETED' as const, unregisteredAt: by.now },
    };
    // The delete has committed and is answered as done whatever happens here: a place left taken
    // is found and freed when the owner next reaches the cap (createOnce).
    await this.registries
      .serial(owner, () => this.registries.append(owner, [unregistered], 'any', metadata))
      .catch((error: unknown) =>
        this.settings.onProblem?.(`endpoint ${endpointId} deleted, its place not freed yet`, error),
      );
    return { result: undefined, events, position };
  }

  /**
   * A new signing secret (answered in clear); the old one signs too for `overlapMs` more. With an
   * idempotency key, a retry of the last rotation (its answer lost) answers the secret it made
   * rather than rotating again, which would stop the secret the receiver still has from signing.
   */
  async rotateSecret(
    request: { endpointId: string; overlapMs: number; idempotencyKey?: string },
    metadata: CommandMetadata,
  ): Promise<Outcome<{ secret: string }>> {
    const secret = this.secrets.generate();
    const {
      result: state,
      events,
      position,
    } = await this.handler.handle(
      { type: 'RotateWebhookSecret', data: { ...request, secret: this.secrets.seal(secret), ...this.by(metadata) } },
      metadata,
    );
    if (events.length > 0) return { result: { secret }, events, position };
    // A retry: answered the secret its rotation made. The state is the one after every command
    // decided with it; when another rotation came after it there, the caller is told to try again
    // (and will be told that the secret was rotated since), never handed a secret that signs nothing.
    const made = state.lastRotation;
    if (made === undefined || made.idempotencyKey !== request.idempotencyKey || made.by !== metadata.actorId) {
      throw keptChanging(
        `The signing secret of webhook endpoint "${request.endpointId}" changed meanwhile; try again.`,
      );
    }
    return { result: { secret: this.secrets.open(made.secret) }, events, position };
  }

  requestRedelivery(
    request: { endpointId: string; deliveryId: string },
    metadata: CommandMetadata,
  ): Promise<Outcome<void>> {
    return this.run({ type: 'RequestWebhookRedelivery', data: { ...request, ...this.by(metadata) } }, metadata);
  }

  /**
   * Sends the endpoint a test message (`webhook.test`), signed and retried like any other, to that
   * endpoint only; answers its webhook-id. Refused while the endpoint is disabled.
   */
  async sendTest(endpointId: string, metadata: CommandMetadata): Promise<Outcome<{ deliveryId: string }>> {
    // Shaped like every other webhook-id (`msg_` and 27 characters), made once, with the request.
    const digest = createHash('sha256').update(`test\n${endpointId}\n${this.newId()}`).digest('base64url');
    const deliveryId = `msg_${digest.slice(0, 27)}`;
    const { events, position } = await this.run(
      { type: 'SendWebhookTest', data: { endpointId, deliveryId, ...this.by(metadata) } },
      metadata,
    );
    return { result: { deliveryId }, events, position };
  }

  recordAttempt(attempt: DeliveryAttempt, metadata: CommandMetadata): Promise<Outcome<void>> {
    return this.run(
      {
        type: 'RecordWebhookAttempt',
        data: {
          ...attempt,
          nextAttemptAt: attempt.nextAttemptAt?.toISOString() ?? null,
          redeliveryRequestedAt: attempt.redeliveryRequestedAt?.toISOString(),
          disableAfterMs: this.settings.disableAfterMs,
          ...(this.settings.quietAfterMs !== undefined && { quietAfterMs: this.settings.quietAfterMs }),
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
