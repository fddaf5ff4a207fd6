/**
 * Creating and deleting endpoints against their owner's registry stream: the cap holds across
 * two processes creating at once, a create retried with its key makes no second endpoint (and
 * finishes one whose first try died before writing it), and places left taken by a create that
 * died or a delete whose unregistering failed are freed when the owner reaches the cap.
 */
import { randomBytes } from 'node:crypto';
import { WebhookEndpointCommands } from '../../src/commands/webhook-endpoint-commands';
import { WebhookEndpointHandler } from '../../src/commands/webhook-endpoint-handler';
import { WebhookRegistries } from '../../src/commands/webhook-registry';
import { ABANDONED_AFTER_MS } from '../../src/domain/webhooks/endpoint-registry';
import { webhookRegistryStreamName } from '../../src/events/webhook-registry-stream';
import type { EventStore } from '../../src/eventstore/port';
import { aesGcmSecrets } from '../../src/webhooks/secret-box';
import { webhookUrlPolicy } from '../../src/webhooks/url-policy';
import { eventTypes, instrumentedStore } from './instrumented-store';

const metadata = { actorId: 'test' };
const key = randomBytes(32);
let now = Date.parse('2026-03-01T10:00:00.000Z');
const clock = { now: () => new Date(now) };

/** The endpoint commands of one process over `store`, with at most `maxEndpoints` per owner. */
const commandsOver = (store: EventStore, maxEndpoints = 3) =>
  new WebhookEndpointCommands(
    new WebhookEndpointHandler(store),
    new WebhookRegistries(store),
    aesGcmSecrets(key),
    webhookUrlPolicy({ allowPrivate: true }),
    { disableAfterMs: 60_000, maxEndpoints },
    clock,
  );

const request = (workspaceId: string | null, idempotencyKey?: string, url = 'http://127.0.0.1:9/hook') => ({
  workspaceId,
  url,
  eventTypes: ['credits.low' as const],
  description: 'ours',
  ...(idempotencyKey !== undefined && { idempotencyKey }),
});

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'created',
    (error: Error & { code?: string }) => error.code ?? error.message,
  );

/** A store whose next append to a stream starting with `prefix` fails as a dying process's would. */
function failingOnce(store: EventStore, prefix: string): EventStore {
  let armed = true;
  return Object.assign(Object.create(store) as EventStore, {
    appendToStream: (...args: Parameters<EventStore['appendToStream']>) => {
      if (armed && args[0].startsWith(prefix)) {
        armed = false;
        return Promise.reject(new Error('the process died here'));
      }
      return store.appendToStream(...args);
    },
  });
}

it('holds the cap when two processes create a burst of endpoints for one workspace at once', async () => {
  const { store } = instrumentedStore();
  const first = commandsOver(store);
  const second = commandsOver(store);
  const outcomes = await Promise.all(
    Array.from({ length: 10 }, (_, i) => refusal((i % 2 === 0 ? first : second).create(request('acme'), metadata))),
  );
  expect(outcomes.filter((outcome) => outcome === 'created')).toHaveLength(3);
  expect(outcomes.filter((outcome) => outcome !== 'created').every((code) => code === 'LIMIT_EXCEEDED')).toBe(true);
  // Another workspace and the platform each have places of their own.
  await expect(first.create(request('globex'), metadata)).resolves.toBeDefined();
  await expect(second.create(request(null), metadata)).resolves.toBeDefined();
  await store.close();
});

it('answers a create retried with its key with the same endpoint and secret, and refuses the key for another URL', async () => {
  const { store } = instrumentedStore();
  const commands = commandsOver(store);
  const once = await commands.create(request('acme', 'create-1'), metadata);
  const again = await commands.create(request('acme', 'create-1'), metadata);
  expect(again.result).toEqual(once.result);
  expect(again.events).toEqual([]);
  expect(await eventTypes(store, webhookRegistryStreamName('acme'))).toEqual(['WebhookEndpointRegistered']);
  await expect(
    refusal(commands.create(request('acme', 'create-1', 'http://127.0.0.1:9/other'), metadata)),
  ).resolves.toBe('IDEMPOTENCY_KEY_REUSED');
  // The answer waits for the read models like the first did: it names the endpoint's last position.
  expect((await commands.create(request('acme', 'create-1'), metadata)).position).toBeGreaterThan(0n);
  // The key is the creator's: someone else of the workspace who knows it learns no secret.
  await expect(refusal(commands.create(request('acme', 'create-1'), { actorId: 'mallory' }))).resolves.toBe(
    'IDEMPOTENCY_KEY_REUSED',
  );
  // Once its secret is rotated, or it is deleted, the key answers CONFLICT rather than a secret.
  await commands.rotateSecret({ endpointId: once.result.endpointId, overlapMs: 0 }, metadata);
  await expect(refusal(commands.create(request('acme', 'create-1'), metadata))).resolves.toBe('CONFLICT');
  await commands.delete(once.result.endpointId, metadata);
  await expect(refusal(commands.create(request('acme', 'create-1'), metadata))).resolves.toBe('CONFLICT');
  await store.close();
});

it('finishes, on a retry with its key, a create that died between registering the endpoint and writing it', async () => {
  const { store } = instrumentedStore();
  const dying = commandsOver(failingOnce(store, 'webhook-endpoint-'));
  await expect(dying.create(request('acme', 'create-2'), metadata)).rejects.toThrow('the process died here');
  const retried = await commandsOver(store).create(request('acme', 'create-2'), metadata);
  expect(retried.events.map((event) => event.type)).toEqual(['WebhookEndpointCreated']);
  // Registered afresh before it was written: one place, held by the endpoint the key made.
  const registered = [];
  for await (const event of store.readStream(webhookRegistryStreamName('acme'))) registered.push(event.data);
  expect(registered).toEqual([
    expect.objectContaining({ endpointId: retried.result.endpointId, idempotencyKey: 'create-2' }),
    expect.objectContaining({ endpointId: retried.result.endpointId, idempotencyKey: 'create-2' }),
  ]);
  await store.close();
});

it('frees the place of a create that died without a key once it is ten minutes old, and of a delete whose unregistering failed', async () => {
  const { store } = instrumentedStore();
  const commands = commandsOver(store, 2);
  await expect(
    commandsOver(failingOnce(store, 'webhook-endpoint-'), 2).create(request('acme'), metadata),
  ).rejects.toThrow();
  const kept = await commands.create(request('acme'), metadata);
  expect(await refusal(commands.create(request('acme'), metadata))).toBe('LIMIT_EXCEEDED'); // the dead create may still be under way

  now += ABANDONED_AFTER_MS + 1;
  const second = await commands.create(request('acme'), metadata);
  expect(await refusal(commands.create(request('acme'), metadata))).toBe('LIMIT_EXCEEDED');

  // A delete answers done even when freeing its place failed (and says so to the log); the place
  // is found free at the cap.
  const problems: string[] = [];
  const flaky = failingOnce(store, 'webhook-registry-');
  const deleting = new WebhookEndpointCommands(
    new WebhookEndpointHandler(flaky),
    new WebhookRegistries(flaky),
    aesGcmSecrets(key),
    webhookUrlPolicy({ allowPrivate: true }),
    { disableAfterMs: 60_000, maxEndpoints: 2, onProblem: (message) => problems.push(message) },
    clock,
  );
  await deleting.delete(second.result.endpointId, metadata);
  expect(problems).toEqual([`endpoint ${second.result.endpointId} deleted, its place not freed yet`]);
  // The look that just found nothing is not repeated for five minutes.
  expect(await refusal(commands.create(request('acme'), metadata))).toBe('LIMIT_EXCEEDED');
  now += 5 * 60_000;
  await expect(commands.create(request('acme'), metadata)).resolves.toBeDefined();
  expect(await eventTypes(store, webhookRegistryStreamName('acme'))).toEqual([
    'WebhookEndpointRegistered', // died
    'WebhookEndpointRegistered', // kept
    'WebhookEndpointUnregistered', // the dead create, ABANDONED
    'WebhookEndpointRegistered', // second
    'WebhookEndpointUnregistered', // second, DELETED
    'WebhookEndpointRegistered',
  ]);
  expect(kept.result.endpointId).toBeDefined();
  await store.close();
});

it('keeps the place of a create finished by a late retry with its key while another process looks for abandoned places', async () => {
  const { store, wrapped, interfereOnce } = instrumentedStore();
  await expect(
    commandsOver(failingOnce(store, 'webhook-endpoint-'), 2).create(request('acme', 'k'), metadata),
  ).rejects.toThrow();
  await commandsOver(store, 2).create(request('acme'), metadata); // at the cap of 2
  now += ABANDONED_AFTER_MS + 1;
  // While one process, at the cap, is about to free the dead create's place as abandoned, another
  // finishes that create with its key.
  let finished: { endpointId: string } | undefined;
  interfereOnce(async () => {
    finished = (await commandsOver(store, 2).create(request('acme', 'k'), metadata)).result;
  });
  await expect(refusal(commandsOver(wrapped, 2).create(request('acme'), metadata))).resolves.toBe('LIMIT_EXCEEDED');
  expect(finished).toBeDefined();
  const retried = await commandsOver(store, 2).create(request('acme', 'k'), metadata);
  expect(retried.result.endpointId).toBe(finished?.endpointId);
  expect(await eventTypes(store, webhookRegistryStreamName('acme'))).not.toContain('WebhookEndpointUnregistered');
  await store.close();
});

it('answers both processes finishing one keyed create at once with the same endpoint and secret', async () => {
  const { store, wrapped, interfereOnce } = instrumentedStore();
  let other: { endpointId: string; secret: string } | undefined;
  // The first append lets the registration through; before the endpoint's own append, the client's
  // retry, in another process, finds the key and writes the endpoint itself.
  interfereOnce(async () => {
    interfereOnce(async () => {
      other = (await commandsOver(store).create(request('acme', 'k'), metadata)).result;
    });
  });
  const first = await commandsOver(wrapped).create(request('acme', 'k'), metadata);
  expect(other).toBeDefined();
  expect(first.result).toEqual(other);
  await store.close();
});

it('looks for stale places at the cap once, not on every refused create', async () => {
  const { store } = instrumentedStore();
  const commands = commandsOver(store, 1);
  await commands.create(request('acme'), metadata);
  let endpointReads = 0;
  const counting: EventStore = Object.assign(Object.create(store) as EventStore, {
    readStream: (...args: Parameters<EventStore['readStream']>) => {
      if (args[0].startsWith('webhook-endpoint-')) endpointReads += 1;
      return store.readStream(...args);
    },
  });
  const busy = commandsOver(counting, 1);
  expect(await refusal(busy.create(request('acme'), metadata))).toBe('LIMIT_EXCEEDED');
  const firstLook = endpointReads;
  expect(firstLook).toBeGreaterThan(0);
  for (let i = 0; i < 5; i++) expect(await refusal(busy.create(request('acme'), metadata))).toBe('LIMIT_EXCEEDED');
  expect(endpointReads).toBe(firstLook);
  await store.close();
});

it('frees a place at once when an endpoint is deleted', async () => {
  const { store } = instrumentedStore();
  const commands = commandsOver(store, 1);
  const only = await commands.create(request('acme'), metadata);
  expect(await refusal(commands.create(request('acme'), metadata))).toBe('LIMIT_EXCEEDED');
  await commands.delete(only.result.endpointId, metadata);
  await expect(commands.create(request('acme'), metadata)).resolves.toBeDefined();
  await store.close();
});

it('answers a retried rotation the secret it made, and never a secret nothing stored', async () => {
  const { store } = instrumentedStore();
  const commands = commandsOver(store);
  const endpoint = (await commands.create(request('acme'), metadata)).result.endpointId;
  const rotate = (idempotencyKey?: string) =>
    commands.rotateSecret({ endpointId: endpoint, overlapMs: 0, ...(idempotencyKey && { idempotencyKey }) }, metadata);
  const made = (await rotate('rotate-1')).result.secret;
  expect((await rotate('rotate-1')).result.secret).toBe(made);

  // The retry decided in one append with another rotation after it: it must not be answered the
  // secret it generated (never stored), nor the other's; it is told to try again, and then that
  // the secret was rotated since.
  const inFlight = commands.disable(endpoint, metadata);
  const [retried, other] = await Promise.allSettled([rotate('rotate-1'), rotate()]);
  await inFlight;
  expect(other.status).toBe('fulfilled');
  expect(retried).toMatchObject({ status: 'rejected', reason: { code: 'CONFLICT', details: { retryable: true } } });
  await expect(refusal(rotate('rotate-1'))).resolves.toBe('CONFLICT');
  await store.close();
});
