/** An owner's endpoint registry: the cap on endpoints, idempotent creates, and places freed. */
import {
  ABANDONED_AFTER_MS,
  decideRegistration,
  ENDPOINT_KEY_RETENTION_MS,
  evolveRegistry,
  initialRegistryState,
  staleRegistrations,
  type RegisterRequest,
  type WebhookRegistryEvent,
  type WebhookRegistryState,
} from '../../../src/domain/webhooks/endpoint-registry';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const MINUTE = 60_000;

const registered = (endpointId: string, at: number, idempotencyKey: string | null = null, request = 'r1') =>
  ({
    type: 'WebhookEndpointRegistered',
    data: { workspaceId: 'acme', endpointId, idempotencyKey, request, registeredAt: new Date(at).toISOString() },
  }) satisfies WebhookRegistryEvent;

const unregistered = (endpointId: string, reason: 'DELETED' | 'ABANDONED', at = T0) =>
  ({
    type: 'WebhookEndpointUnregistered',
    data: { workspaceId: 'acme', endpointId, reason, unregisteredAt: new Date(at).toISOString() },
  }) satisfies WebhookRegistryEvent;

const fold = (...events: WebhookRegistryEvent[]): WebhookRegistryState =>
  events.reduce(evolveRegistry, initialRegistryState());

const asking = (overrides: Partial<RegisterRequest> = {}): RegisterRequest => ({
  workspaceId: 'acme',
  endpointId: 'we_new',
  idempotencyKey: null,
  request: 'r1',
  now: T0,
  maxEndpoints: 2,
  ...overrides,
});

function refusalOf(decide: () => unknown): unknown {
  try {
    decide();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('registering an endpoint', () => {
  it('registers a new endpoint with its key and the digest of what was asked', () => {
    expect(decideRegistration(fold(), asking({ idempotencyKey: 'k1' }))).toEqual({
      kind: 'new',
      event: registered('we_new', T0, 'k1'),
    });
  });

  it('refuses with LIMIT_EXCEEDED once the owner has as many endpoints as allowed, and counts deleted ones out', () => {
    const full = fold(registered('we_1', T0), registered('we_2', T0));
    expect(refusalOf(() => decideRegistration(full, asking()))).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { limit: 2 },
    });
    expect(() => decideRegistration(full, asking({ workspaceId: null }))).toThrow(/The platform may have at most 2/);
    const freed = evolveRegistry(full, unregistered('we_1', 'DELETED'));
    expect(decideRegistration(freed, asking()).kind).toBe('new');
  });

  it('answers the endpoint a key made, even at the cap, and refuses the key for another request', () => {
    const state = fold(registered('we_1', T0, 'k1'), registered('we_2', T0));
    expect(decideRegistration(state, asking({ idempotencyKey: 'k1', now: T0 + MINUTE }))).toEqual({
      kind: 'existing',
      endpointId: 'we_1',
      again: registered('we_1', T0 + MINUTE, 'k1'),
    });
    // Registered afresh, it holds the same one place, with its new time.
    const again = evolveRegistry(state, registered('we_1', T0 + MINUTE, 'k1'));
    expect([...again.live]).toEqual([
      ['we_1', T0 + MINUTE],
      ['we_2', T0],
    ]);
    expect(refusalOf(() => decideRegistration(state, asking({ idempotencyKey: 'k1', request: 'r2' })))).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
  });

  it('forgets a key after 24 hours: the same key then makes a new endpoint', () => {
    const state = fold(registered('we_1', T0, 'k1'));
    const later = T0 + ENDPOINT_KEY_RETENTION_MS + 1;
    expect(decideRegistration(state, asking({ idempotencyKey: 'k1', now: later })).kind).toBe('new');
    // and a registration a day later drops it from the state altogether
    const pruned = evolveRegistry(state, registered('we_2', later));
    expect([...pruned.keys.keys()]).toEqual([]);
    expect([...pruned.live.keys()]).toEqual(['we_1', 'we_2']);
  });

  it('forgets the key of an abandoned create, so that its retry starts over', () => {
    const state = fold(registered('we_1', T0, 'k1'), unregistered('we_1', 'ABANDONED'));
    expect(state.keys.size).toBe(0);
    expect(decideRegistration(state, asking({ idempotencyKey: 'k1' }))).toEqual({
      kind: 'new',
      event: registered('we_new', T0, 'k1'),
    });
  });
});

describe('places that hold no endpoint', () => {
  it('are the deleted endpoints and the creates that died more than ten minutes ago, not those still being made', () => {
    const state = fold(
      registered('we_deleted', T0),
      registered('we_died', T0),
      registered('we_making', T0 + 5 * MINUTE),
      registered('we_there', T0),
    );
    const statuses = new Map([
      ['we_deleted', 'DELETED'],
      ['we_died', 'NONE'],
      ['we_making', 'NONE'],
      ['we_there', 'PRESENT'],
    ] as const);
    const now = T0 + ABANDONED_AFTER_MS + MINUTE;
    expect(staleRegistrations(state, 'acme', statuses, now)).toEqual([
      unregistered('we_deleted', 'DELETED', now),
      unregistered('we_died', 'ABANDONED', now),
    ]);
    expect(staleRegistrations(state, 'acme', statuses, T0 + MINUTE)).toEqual([
      unregistered('we_deleted', 'DELETED', T0 + MINUTE),
    ]);
  });
});
