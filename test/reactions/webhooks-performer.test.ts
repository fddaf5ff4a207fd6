/**
 * The webhooks performer: one attempt at a due message, recorded on its endpoint's stream whatever
 * came of it, dated when it was sent (its signature's timestamp), with the next attempt counted
 * from when its answer (or its deadline) came.
 */
import pino from 'pino';
import type { WebhookEndpointCommands } from '../../src/commands/webhook-endpoint-commands';
import { WebhooksPerformer } from '../../reactions/webhooks/performer';
import type { SendOrder, SendOutcome, WebhookSender } from '../../reactions/webhooks/sender';
import type { WebhookWork } from '../../reactions/webhooks/work';
import type { WorkItem } from '../../reactions/reaction';

const T0 = Date.parse('2026-12-02T10:00:00.000Z');
const TIMEOUT_MS = 10_000;

function performerWith(first: SendOutcome, observed: { succeeded: boolean; test: boolean }[] = []) {
  let outcome = first;
  let now = T0;
  const clock = { now: () => new Date(now) };
  const orders: SendOrder[] = [];
  const sender: WebhookSender = {
    send: async (order) => {
      orders.push(order);
      now += TIMEOUT_MS; // the answer (here the deadline) comes ten seconds later
      return outcome;
    },
    close: async () => undefined,
  };
  const recorded: Parameters<WebhookEndpointCommands['recordAttempt']>[0][] = [];
  const commands = {
    recordAttempt: async (attempt: (typeof recorded)[number]) => {
      recorded.push(attempt);
      return { result: undefined, events: [], position: 7n };
    },
  } as unknown as WebhookEndpointCommands;
  const performer = new WebhooksPerformer(
    commands,
    sender,
    clock,
    {
      retryScheduleMs: [5_000],
      concurrency: 8,
      concurrencyPerEndpoint: 3,
      concurrencyWhileStruggling: 1,
      slowAnswerMs: 2_000,
      observe: ({ succeeded, test }) => observed.push({ succeeded, test }),
    },
    pino({ level: 'silent' }),
    () => 0, // no jitter
  );
  /** What the next attempts answer. */
  const answering = (next: SendOutcome): void => {
    outcome = next;
  };
  return { performer, orders, recorded, answering };
}

const answered = (statusCode: number | null, latencyMs: number, attemptsBefore = 0): SendOutcome => ({
  sent: true,
  url: 'https://hooks.example.com/',
  statusCode,
  error: statusCode === 204 ? null : 'failed',
  latencyMs,
  attemptsBefore,
});

const item: WorkItem<WebhookWork> = {
  reaction: 'webhooks',
  key: 'we_1/msg_1',
  payload: { endpointId: 'we_1', deliveryId: 'msg_1', eventType: 'credits.low', firstAttempt: 1 },
  attempts: 0,
  dueAt: T0,
  requestedAt: T0,
};

it('dates a timed-out attempt when it was sent, and counts the next one from the deadline', async () => {
  const { performer, orders, recorded } = performerWith({
    sent: true,
    url: 'https://hooks.example.com/',
    statusCode: null,
    error: 'timeout',
    latencyMs: TIMEOUT_MS,
    attemptsBefore: 0,
  });
  await expect(performer.perform(item)).resolves.toEqual({ outcomeAt: 7n });
  expect(orders).toEqual([{ deliveryId: 'msg_1', at: T0 }]);
  expect(recorded).toEqual([
    expect.objectContaining({
      deliveryId: 'msg_1',
      attempt: 1,
      succeeded: false,
      attemptedAt: new Date(T0),
      nextAttemptAt: new Date(T0 + TIMEOUT_MS + 5_000),
    }),
  ]);
});

it('tries a test message once: a failed one is given up at once, not retried on the schedule', async () => {
  const observed: { succeeded: boolean; test: boolean }[] = [];
  const { performer, recorded } = performerWith(answered(503, 40), observed);
  const test: WorkItem<WebhookWork> = {
    ...item,
    key: 'we_1/msg_test',
    payload: { endpointId: 'we_1', deliveryId: 'msg_test', eventType: 'webhook.test', firstAttempt: 1 },
  };
  await performer.perform(test);
  expect(recorded).toEqual([
    expect.objectContaining({ deliveryId: 'msg_test', attempt: 1, succeeded: false, nextAttemptAt: null }),
  ]);
  // Counted apart from deliveries, so that a receiver still being set up raises no delivery alarm.
  await performer.perform(item);
  expect(observed).toEqual([
    { succeeded: false, test: true },
    { succeeded: false, test: false },
  ]);
});

it('records a delivered attempt with no next one, and nothing for a message it did not send', async () => {
  const delivered = performerWith({
    sent: true,
    url: 'https://hooks.example.com/',
    statusCode: 204,
    error: null,
    latencyMs: 12,
    attemptsBefore: 0,
  });
  await delivered.performer.perform(item);
  expect(delivered.recorded).toEqual([
    expect.objectContaining({ succeeded: true, statusCode: 204, nextAttemptAt: null, attemptedAt: new Date(T0) }),
  ]);
  const unsent = performerWith({ sent: false });
  await expect(unsent.performer.perform(item)).resolves.toBeUndefined();
  expect(unsent.recorded).toEqual([]);
});

it('keeps an endpoint to fewer places while its attempts fail or answer slowly, and gives them back one per prompt 2xx', async () => {
  const { performer, answering } = performerWith(answered(204, 15));
  expect(performer.concurrencyIn('we_1')).toBe(3);
  await performer.perform(item);
  expect(performer.concurrencyIn('we_1')).toBe(3);

  expect(performer.inReducedPool('we_1')).toBe(false);
  answering(answered(null, TIMEOUT_MS)); // hangs until the deadline
  await performer.perform(item);
  expect(performer.concurrencyIn('we_1')).toBe(1);
  expect(performer.concurrencyIn('we_2')).toBe(3); // the others keep their share
  // Struggling endpoints, whoever owns them, share half of all the places between them.
  expect(performer.inReducedPool('we_1')).toBe(true);
  expect(performer.inReducedPool('we_2')).toBe(false);
  expect(performer.reducedPoolConcurrency).toBe(Math.floor(performer.concurrency / 2));

  answering(answered(204, 2_500)); // delivered, but slower than slowAnswerMs
  await performer.perform(item);
  expect(performer.concurrencyIn('we_1')).toBe(1);

  answering(answered(500, 20));
  await performer.perform(item);
  expect(performer.concurrencyIn('we_1')).toBe(1);

  answering(answered(204, 40));
  await performer.perform(item);
  expect(performer.concurrencyIn('we_1')).toBe(2);
  await performer.perform(item);
  expect(performer.concurrencyIn('we_1')).toBe(3);
  expect(performer.inReducedPool('we_1')).toBe(false);
  await performer.perform(item);
  expect(performer.concurrencyIn('we_1')).toBe(3);
});

it('keeps an endpoint that answers one message and hangs on the next at its struggling share', async () => {
  const { performer, answering } = performerWith(answered(null, TIMEOUT_MS));
  await performer.perform(item);
  for (let round = 0; round < 10; round++) {
    answering(answered(204, 5));
    await performer.perform(item);
    expect(performer.concurrencyIn('we_1')).toBe(2);
    answering(answered(null, TIMEOUT_MS));
    await performer.perform(item);
    expect(performer.concurrencyIn('we_1')).toBe(1);
  }
});

it("groups a workspace's endpoints under one bound, asking each endpoint's workspace once, and leaves platform endpoints out", () => {
  const asked: string[] = [];
  const owners: Record<string, string | null> = { we_1: 'ws-1', we_2: 'ws-1', we_p: null };
  const performer = new WebhooksPerformer(
    {} as WebhookEndpointCommands,
    { send: async () => ({ sent: false }), close: async () => undefined },
    { now: () => new Date(T0) },
    {
      retryScheduleMs: [],
      concurrency: 8,
      concurrencyPerEndpoint: 3,
      concurrencyWhileStruggling: 1,
      slowAnswerMs: 1,
      concurrencyPerWorkspace: 5,
      workspaceOf: (endpointId) => {
        asked.push(endpointId);
        return owners[endpointId];
      },
    },
    pino({ level: 'silent' }),
  );
  expect(performer.groupConcurrency).toBe(5);
  expect([performer.groupOf('we_1'), performer.groupOf('we_2'), performer.groupOf('we_1')]).toEqual([
    'ws-1',
    'ws-1',
    'ws-1',
  ]);
  expect(performer.groupOf('we_p')).toBeUndefined();
  expect(performer.groupOf('we_p')).toBeUndefined();
  expect(performer.groupOf('we_unknown')).toBeUndefined();
  expect(asked).toEqual(['we_1', 'we_2', 'we_p', 'we_unknown']);
});

it('logs a disabled endpoint by its origin: its path and query may carry the receiver’s token', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  const commands = {
    recordAttempt: async () => ({
      result: undefined,
      events: [
        { type: 'WebhookEndpointDisabled', data: { endpointId: 'we_1', failingSince: new Date(T0).toISOString() } },
      ],
      position: 9n,
    }),
  } as unknown as WebhookEndpointCommands;
  const sender: WebhookSender = {
    send: async () => ({
      sent: true,
      url: 'https://hooks.example.com/in?token=s3cret',
      statusCode: 500,
      error: 'HTTP 500',
      latencyMs: 3,
      attemptsBefore: 0,
    }),
    close: async () => undefined,
  };
  const performer = new WebhooksPerformer(
    commands,
    sender,
    { now: () => new Date(T0) },
    { retryScheduleMs: [], concurrency: 1, concurrencyPerEndpoint: 1, concurrencyWhileStruggling: 1, slowAnswerMs: 1 },
    logger,
  );
  await performer.perform(item);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain('https://hooks.example.com');
  expect(lines[0]).not.toContain('/in');
  expect(lines[0]).not.toContain('s3cret');
});

it('numbers an attempt after the last one recorded, however often this service failed in between', async () => {
  // Two attempts recorded, then three failures of the service's own (the work's attempts count
  // them): the receiver's third attempt is number 3, and waits the schedule's third step.
  const { performer, recorded } = performerWith(answered(503, 15, 2));
  await performer.perform({ ...item, attempts: 5 });
  expect(recorded).toEqual([expect.objectContaining({ attempt: 3, succeeded: false, nextAttemptAt: null })]);
  const scheduled = performerWith(answered(503, 15, 0));
  await scheduled.performer.perform({ ...item, attempts: 3 });
  expect(scheduled.recorded).toEqual([
    expect.objectContaining({ attempt: 1, nextAttemptAt: new Date(T0 + TIMEOUT_MS + 5_000) }),
  ]);
});

it('names the redelivery an attempt resends, so that its answer is told from one in flight before it', async () => {
  const { performer, recorded, answering } = performerWith(answered(204, 15, 2));
  const asked = T0 - 60_000;
  await performer.perform({ ...item, payload: { ...item.payload, firstAttempt: 3, redeliveryRequestedAt: asked } });
  answering(answered(204, 15, 0));
  await performer.perform(item);
  expect(recorded.map(({ attempt, redeliveryRequestedAt }) => ({ attempt, redeliveryRequestedAt }))).toEqual([
    { attempt: 3, redeliveryRequestedAt: new Date(asked) },
    { attempt: 1, redeliveryRequestedAt: undefined },
  ]);
});

it('records an attempt the store refused on the next try, rather than sending the message again', async () => {
  const { performer, orders, recorded } = performerWith(answered(204, 30));
  const calls: unknown[] = [];
  const commands = (performer as unknown as { commands: WebhookEndpointCommands }).commands;
  const recordAttempt = commands.recordAttempt.bind(commands);
  let outage = 2;
  commands.recordAttempt = async (attempt, metadata) => {
    calls.push(attempt);
    if (outage-- > 0) throw new Error('STORE_UNAVAILABLE: the event store cannot write now');
    return recordAttempt(attempt, metadata);
  };
  await expect(performer.perform(item)).rejects.toThrow(/cannot write/);
  await expect(performer.perform(item)).rejects.toThrow(/cannot write/);
  await expect(performer.perform(item)).resolves.toEqual({ outcomeAt: 7n });
  // Sent once; the same attempt offered to the store three times, recorded once.
  expect(orders).toHaveLength(1);
  expect(calls).toHaveLength(3);
  expect(new Set(calls.map((call) => JSON.stringify(call))).size).toBe(1);
  expect(recorded).toEqual([expect.objectContaining({ deliveryId: 'msg_1', attempt: 1, succeeded: true })]);
  // Recorded, it is forgotten: the next due work of the delivery is sent.
  await performer.perform(item);
  expect(orders).toHaveLength(2);
});
