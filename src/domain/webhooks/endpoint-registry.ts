/**
 * The webhook endpoints of one owner (a workspace, or the platform) in a stream of their own
 * (`webhook-registry-workspace-<id>`, `webhook-registry-platform`): which endpoints it has, so that
 * the cap on them is decided from a stream, and which idempotency key created each, so that a
 * create retried with its key makes no second endpoint.
 *
 * An endpoint is registered here before its own stream is written, and unregistered after it is
 * deleted. Between the two appends a process can die: a registration whose endpoint stream was
 * never written (ABANDONED, once older than any create could take) and a deleted endpoint still
 * registered (DELETED) are unregistered when the cap is reached and each one is checked.
 */
import { idempotencyKeyReused, limitExceeded } from '../errors';
import { iso, ms } from '../instants';

type Event<Type extends string, Data> = { type: Type; data: Data };

export type WebhookEndpointRegistered = Event<
  'WebhookEndpointRegistered',
  {
    /** The owner: a workspace, or null for the platform. */
    workspaceId: string | null;
    endpointId: string;
    /** The create's idempotency key, when it named one. */
    idempotencyKey: string | null;
    /**
     * A digest of what was asked for and by whom (URL, event types, description, actor): a key
     * reused for another request, or by someone else, is refused.
     */
    request: string;
    registeredAt: string;
  }
>;

export const UNREGISTER_REASONS = ['DELETED', 'ABANDONED'] as const;
export type UnregisterReason = (typeof UNREGISTER_REASONS)[number];

export type WebhookEndpointUnregistered = Event<
  'WebhookEndpointUnregistered',
  { workspaceId: string | null; endpointId: string; reason: UnregisterReason; unregisteredAt: string }
>;

export type WebhookRegistryEvent = WebhookEndpointRegistered | WebhookEndpointUnregistered;

export const WEBHOOK_REGISTRY_EVENT_TYPES: readonly WebhookRegistryEvent['type'][] = [
  'WebhookEndpointRegistered',
  'WebhookEndpointUnregistered',
];

/** How long a create's idempotency key answers its retries with the endpoint it made. */
export const ENDPOINT_KEY_RETENTION_MS = 24 * 60 * 60 * 1000;
/** A registration whose endpoint stream is still unwritten after this was a create that died. */
export const ABANDONED_AFTER_MS = 10 * 60 * 1000;

interface KeyRecord {
  endpointId: string;
  request: string;
  registeredAt: number;
}

export interface WebhookRegistryState {
  /** Registered endpoints not unregistered since, with when each was registered (ms). */
  live: Map<string, number>;
  /** Idempotency key → what it created, oldest first. */
  keys: Map<string, KeyRecord>;
}

export const initialRegistryState = (): WebhookRegistryState => ({ live: new Map(), keys: new Map() });

export const copyRegistryState = (state: WebhookRegistryState): WebhookRegistryState => ({
  live: new Map(state.live),
  keys: new Map(state.keys),
});

export function evolveRegistry(state: WebhookRegistryState, event: WebhookRegistryEvent): WebhookRegistryState {
  if (event.type === 'WebhookEndpointRegistered') {
    const { endpointId, idempotencyKey, request } = event.data;
    const registeredAt = ms(event.data.registeredAt);
    state.live.set(endpointId, registeredAt);
    if (idempotencyKey !== null) {
      state.keys.delete(idempotencyKey);
      state.keys.set(idempotencyKey, { endpointId, request, registeredAt });
    }
    for (const [key, record] of state.keys) {
      if (record.registeredAt >= registeredAt - ENDPOINT_KEY_RETENTION_MS) break;
      state.keys.delete(key);
    }
    return state;
  }
  const { endpointId, reason } = event.data;
  state.live.delete(endpointId);
  if (reason === 'ABANDONED') {
    // Its create never finished: a retry with its key starts over rather than finish an endpoint nobody counts.
    for (const [key, record] of state.keys) if (record.endpointId === endpointId) state.keys.delete(key);
  }
  return state;
}

export interface RegisterRequest {
  workspaceId: string | null;
  /** The id the new endpoint gets if one is made. */
  endpointId: string;
  idempotencyKey: string | null;
  request: string;
  now: number;
  maxEndpoints: number;
}

/**
 * What a create comes to on the owner's registry: the endpoint its key already made, or a new
 * registration. An existing one comes with its registration made afresh: should its stream turn
 * out never written (its first try died), the retry appends that before writing it, so that no
 * one can take it for abandoned meanwhile.
 */
export type Registration =
  | { kind: 'existing'; endpointId: string; again: WebhookEndpointRegistered }
  | { kind: 'new'; event: WebhookEndpointRegistered };

export function decideRegistration(state: WebhookRegistryState, command: RegisterRequest): Registration {
  const { idempotencyKey, now } = command;
  if (idempotencyKey !== null) {
    const seen = state.keys.get(idempotencyKey);
    if (seen && seen.registeredAt >= now - ENDPOINT_KEY_RETENTION_MS) {
      if (seen.request !== command.request) throw idempotencyKeyReused(idempotencyKey);
      return { kind: 'existing', endpointId: seen.endpointId, again: registered(command, seen.endpointId) };
    }
  }
  if (state.live.size >= command.maxEndpoints) {
    throw limitExceeded(
      `${command.workspaceId === null ? 'The platform' : 'A workspace'} may have at most ${command.maxEndpoints} webhook endpoints; delete one first.`,
      command.maxEndpoints,
    );
  }
  return { kind: 'new', event: registered(command, command.endpointId) };
}

const registered = (command: RegisterRequest, endpointId: string): WebhookEndpointRegistered => ({
  type: 'WebhookEndpointRegistered',
  data: {
    workspaceId: command.workspaceId,
    endpointId,
    idempotencyKey: command.idempotencyKey,
    request: command.request,
    registeredAt: iso(command.now),
  },
});

/** What the endpoint's own stream says of a registered endpoint: never written, deleted, or there. */
export type RegisteredEndpointStatus = 'NONE' | 'DELETED' | 'PRESENT';

/**
 * The registrations that no longer hold an endpoint: deleted ones, and those whose create died
 * before writing the endpoint's stream (told from one still being made by its age).
 */
export function staleRegistrations(
  state: WebhookRegistryState,
  workspaceId: string | null,
  statusOf: ReadonlyMap<string, RegisteredEndpointStatus>,
  now: number,
): WebhookEndpointUnregistered[] {
  const stale: WebhookEndpointUnregistered[] = [];
  for (const [endpointId, registeredAt] of state.live) {
    const status = statusOf.get(endpointId);
    const reason =
      status === 'DELETED'
        ? 'DELETED'
        : status === 'NONE' && registeredAt < now - ABANDONED_AFTER_MS
          ? 'ABANDONED'
          : undefined;
    if (reason === undefined) continue;
    stale.push({
      type: 'WebhookEndpointUnregistered',
      data: { workspaceId, endpointId, reason, unregisteredAt: iso(now) },
    });
  }
  return stale;
}
