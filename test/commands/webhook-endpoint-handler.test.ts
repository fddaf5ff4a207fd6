/**
 * The webhook endpoint's handler batches the commands queued on an endpoint into one append (a
 * busy endpoint's attempts), answers nothing before that append commits, and decides the whole
 * batch again, refusals included, when another writer got there first.
 */
import { WebhookEndpointHandler } from '../../src/commands/webhook-endpoint-handler';
import type { CreditsError } from '../../src/domain/errors';
import { toNewWebhookEndpointEvent, webhookEndpointStreamName } from '../../src/events/webhook-endpoint-stream';
import type { EventStore } from '../../src/eventstore/port';
import { eventTypes, instrumentedStore } from './instrumented-store';
import { command, DAY, ENDPOINT, recordAttempt, T0 } from '../domain/webhooks/builders';

const STREAM = webhookEndpointStreamName(ENDPOINT);
const metadata = { actorId: 'test' };
const createCommand = command('CreateWebhookEndpoint', {
  workspaceId: 'acme',
  url: 'https://hooks.example.com/credits',
  eventTypes: ['credits.low'],
  description: 'our backend',
  secret: 'sealed-1',
});

it('records a burst of attempts in a few appends, answering each once its append committed', async () => {
  const { store, wrapped, appends } = instrumentedStore();
  const handler = new WebhookEndpointHandler(wrapped);
  await handler.handle(createCommand, metadata);
  const outcomes = await Promise.all(
    Array.from({ length: 100 }, (_, i) => handler.handle(recordAttempt(i * 1000, true), metadata)),
  );
  expect(outcomes.every((outcome) => outcome.events.length === 1 && outcome.position !== undefined)).toBe(true);
  expect((await eventTypes(store, STREAM)).filter((type) => type === 'WebhookDeliveryAttempted')).toHaveLength(100);
  expect(appends()).toBeLessThan(10); // one append per batch, not per attempt
  await store.close();
});

it('decides each command on the state the ones before it left: the attempt past the limit disables', async () => {
  const { store, wrapped } = instrumentedStore();
  const handler = new WebhookEndpointHandler(wrapped);
  await handler.handle(createCommand, metadata);
  const outcomes = await Promise.all(
    [0, DAY, 2 * DAY].map((offset) => handler.handle(recordAttempt(offset, false, 2 * DAY), metadata)),
  );
  expect(outcomes.map((outcome) => outcome.events.map((event) => event.type))).toEqual([
    ['WebhookDeliveryAttempted'],
    ['WebhookDeliveryAttempted'],
    ['WebhookDeliveryAttempted', 'WebhookEndpointDisabled'],
  ]);
  await store.close();
});

it('decides the whole batch again, refusals included, when another writer appended first', async () => {
  const { store, wrapped, interfereOnce } = instrumentedStore();
  const handler = new WebhookEndpointHandler(wrapped);
  await handler.handle(createCommand, metadata);
  await handler.handle(command('DisableWebhookEndpoint'), metadata);
  // While the next batch is on its way, another process enables the endpoint: the batch's refusal
  // (a disabled endpoint sends nothing again) was worked out on events that were never the stream's.
  interfereOnce(async () => {
    const enabled = {
      type: 'WebhookEndpointEnabled' as const,
      data: { endpointId: ENDPOINT, enabledBy: 'x', enabledAt: T0 },
    };
    await store.appendToStream(STREAM, [toNewWebhookEndpointEvent(enabled, 'event-elsewhere', metadata)], {
      expectedRevision: 1n,
    });
  });
  const [update, redeliver] = await Promise.all([
    handler.handle(command('UpdateWebhookEndpoint', { description: 'renamed' }), metadata),
    handler.handle(command('RequestWebhookRedelivery', { deliveryId: 'msg_1' }), metadata),
  ]);
  expect([...update.events, ...redeliver.events].map((event) => event.type)).toEqual([
    'WebhookEndpointUpdated',
    'WebhookRedeliveryRequested',
  ]);
  expect(await eventTypes(store, STREAM)).toEqual([
    'WebhookEndpointCreated',
    'WebhookEndpointDisabled',
    'WebhookEndpointEnabled',
    'WebhookEndpointUpdated',
    'WebhookRedeliveryRequested',
  ]);
  await store.close();
});

it('refuses with CONFLICT a command that keeps losing the race', async () => {
  const { store, wrapped } = instrumentedStore();
  await new WebhookEndpointHandler(wrapped).handle(createCommand, metadata);
  // Before each of its appends, another process updates the endpoint.
  let elsewhere = 0;
  const racing: EventStore = Object.assign(Object.create(wrapped) as EventStore, {
    appendToStream: async (...args: Parameters<EventStore['appendToStream']>) => {
      const updated = {
        type: 'WebhookEndpointUpdated' as const,
        data: { endpointId: ENDPOINT, url: 'https://hooks.example.com/x', eventTypes: ['credits.low' as const] },
      };
      const data = { ...updated.data, description: `elsewhere ${++elsewhere}`, updatedBy: 'x', updatedAt: T0 };
      await store.appendToStream(
        STREAM,
        [toNewWebhookEndpointEvent({ ...updated, data }, `e-${elsewhere}`, metadata)],
        {
          expectedRevision: 'any',
        },
      );
      return wrapped.appendToStream(...args);
    },
  });
  const error = await new WebhookEndpointHandler(racing)
    .handle(command('DisableWebhookEndpoint'), metadata)
    .catch((caught: unknown) => caught);
  expect((error as CreditsError).code).toBe('CONFLICT');
  expect(elsewhere).toBe(5);
  await store.close();
});
