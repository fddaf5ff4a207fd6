/**
 * GET /readyz's verdict from what the service reports: not ready (503) while the read models cannot
 * be written (a full disk), naming the fault, and ready again once the projection thread has
 * written the batch it kept.
 */
import pino from 'pino';
import type { CreditsService } from '../../src/server/credits-service';
import { StoreUnavailable } from '../../src/eventstore/port';
import { readiness } from '../../src/server/readiness';

function serviceWith(stalledBy: Error | undefined, appendFailure?: Error): CreditsService {
  const service = {
    store: { headPosition: () => Promise.resolve(stalledBy ? 12n : 10n) },
    appendFailure: () => appendFailure,
    projections: {
      checkpoint: 10n,
      stalledBy,
      caughtUpOnce: true,
      error: undefined,
      progress: [{ name: 'workspace-balance', checkpoint: 10n, failure: undefined }],
    },
    reactions: { reader: { counts: () => [] } },
  };
  return service as unknown as CreditsService;
}

it('says read-models-unwritable with 503 while the read models cannot be written, and ready once they can', async () => {
  const logger = pino({ level: 'silent' });
  const full = await readiness(serviceWith(new Error('database or disk is full')), logger);
  expect(full).toMatchObject({
    status: 503,
    body: {
      status: 'read-models-unwritable',
      readModels: { writable: false, error: 'database or disk is full' },
      lag: 2,
    },
  });
  const cleared = await readiness(serviceWith(undefined), logger);
  expect(cleared).toMatchObject({ status: 200, body: { status: 'ready', lag: 0 } });
});

it('says store-unwritable with 503 while the event store refuses appends (a full disk), naming the fault', async () => {
  const logger = pino({ level: 'silent' });
  const full = await readiness(serviceWith(undefined, new Error('database or disk is full')), logger);
  expect(full).toMatchObject({
    status: 503,
    body: {
      status: 'store-unwritable',
      store: { reachable: true, writable: false, error: 'database or disk is full' },
    },
  });
});

it('tells what went wrong only to operators: without details, the status and names stay', async () => {
  const logger = pino({ level: 'silent' });
  const service = {
    store: { headPosition: () => Promise.resolve(12n) },
    appendFailure: () => new Error('SQLITE_FULL: database or disk is full at /data/events.sqlite'),
    projections: {
      checkpoint: 10n,
      stalledBy: undefined,
      caughtUpOnce: true,
      error: undefined,
      progress: [
        {
          name: 'credit-ledger',
          checkpoint: 9n,
          failure: { eventId: 'event-10', streamName: 'workspace-credits-acme', error: 'no such column: x' },
        },
      ],
    },
    reactions: {
      reader: {
        counts: () => [
          { reaction: 'stripe-refunds', pending: 4, parked: 1, oldestRequestedAt: 1_700_000_000_000 },
          { reaction: 'webhooks', pending: 7, parked: 0, oldestRequestedAt: 1_700_000_000_000 },
        ],
      },
    },
  } as unknown as CreditsService;
  const detailed = await readiness(service, logger, true);
  expect(JSON.stringify(detailed.body)).toContain('workspace-credits-acme');
  expect(JSON.stringify(detailed.body)).toContain('/data/events.sqlite');
  const anyone = await readiness(service, logger, false);
  expect(anyone.status).toBe(503);
  expect(anyone.body).toEqual({
    status: 'store-unwritable',
    store: { reachable: true, writable: false },
    failedProjections: ['credit-ledger'],
    projections: [{ name: 'credit-ledger', failed: true }],
    parkedReactions: ['stripe-refunds'],
  });
  const text = JSON.stringify(anyone.body);
  for (const secret of ['workspace-credits-acme', 'event-10', 'no such column', '/data/events.sqlite']) {
    expect(text).not.toContain(secret);
  }
  // The operator's answer has what the anonymous one leaves out.
  expect(detailed.body).toMatchObject({
    head: '12',
    projected: '10',
    lag: 2,
    projections: [{ name: 'credit-ledger', projected: '9', lag: 3 }],
    reactions: [
      { name: 'stripe-refunds', pending: 4, parked: 1 },
      { name: 'webhooks', pending: 7, parked: 0 },
    ],
  });
});

it('does not tell anyone the log head, positions, lags or pending work: they move with every tenant', async () => {
  const logger = pino({ level: 'silent' });
  const service = {
    ...serviceWith(undefined),
    reactions: {
      reader: { counts: () => [{ reaction: 'webhooks', pending: 3, parked: 0, oldestRequestedAt: 1_700_000_000_000 }] },
    },
  } as unknown as CreditsService;
  const anyone = await readiness(service, logger, false);
  expect(anyone).toEqual({
    status: 200,
    body: { status: 'ready', store: { reachable: true }, projections: [{ name: 'workspace-balance' }] },
  });
});

it('answers ready, with the head and lags unknown, when the store cannot find its head with bounded work', async () => {
  const logger = pino({ level: 'silent' });
  const service = {
    store: {
      // The exact head would scan a shared log for longer than /readyz waits.
      headPosition: () => new Promise<never>(() => undefined),
      probeHeadPosition: () => Promise.resolve('unknown' as const),
    },
    appendFailure: () => undefined,
    projections: {
      checkpoint: 10n,
      stalledBy: undefined,
      caughtUpOnce: true,
      error: undefined,
      progress: [{ name: 'workspace-balance', checkpoint: 10n, failure: undefined }],
    },
    reactions: { reader: { counts: () => [] } },
  } as unknown as CreditsService;
  expect(await readiness(service, logger)).toMatchObject({
    status: 200,
    body: {
      status: 'ready',
      store: { reachable: true },
      head: null,
      headUnknown: true,
      projected: '10',
      lag: null,
      projections: [{ name: 'workspace-balance', projected: '10', lag: null }],
    },
  });
});

it('says catching-up with 503 until the read models have caught up once (started while the store was down)', async () => {
  const logger = pino({ level: 'silent' });
  const service = (caughtUpOnce: boolean) =>
    ({
      store: { headPosition: () => Promise.resolve(12n) },
      appendFailure: () => undefined,
      projections: {
        checkpoint: undefined,
        stalledBy: undefined,
        caughtUpOnce,
        error: undefined,
        progress: [{ name: 'workspace-balance', checkpoint: undefined, failure: undefined }],
      },
      reactions: { reader: { counts: () => [] } },
    }) as unknown as CreditsService;
  expect(await readiness(service(false), logger)).toMatchObject({
    status: 503,
    body: { status: 'catching-up', head: '12', projected: null, lag: 12 },
  });
  expect(await readiness(service(true), logger)).toMatchObject({ status: 200, body: { status: 'ready' } });
});

it('calls the store unreachable only when it did not answer, not when it answered an event it cannot decode', async () => {
  const logger = pino({ level: 'silent' });
  const failingWith = (error: Error) => {
    const service = serviceWith(undefined);
    (service as unknown as { store: unknown }).store = { headPosition: () => Promise.reject(error) };
    return service;
  };
  const down = await readiness(failingWith(new StoreUnavailable(new Error('14 UNAVAILABLE'), true)), logger);
  expect(down).toMatchObject({ status: 503, body: { status: 'store-unreachable', store: { reachable: false } } });
  const undecodable = await readiness(
    failingWith(new Error('event e (odd-1@0) has an invalid $schemaVersion: "two"')),
    logger,
  );
  expect(undecodable).toMatchObject({
    status: 503,
    body: { status: 'store-unreadable', store: { reachable: true, readable: false } },
  });
  expect(JSON.stringify(undecodable.body.store)).toContain('$schemaVersion');
  expect((await readiness(failingWith(new Error('x')), logger, false)).body).toMatchObject({
    status: 'store-unreadable',
    store: { reachable: true, readable: false },
  });
});

it('is not ready when a read model is past the log’s head (the log went back), and says to restart', async () => {
  const logger = pino({ level: 'silent' });
  const service = serviceWith(undefined);
  (service as unknown as { store: unknown }).store = { headPosition: () => Promise.resolve(8n) };
  const answer = await readiness(service, logger);
  expect(answer).toMatchObject({ status: 503, body: { status: 'projection-failed', lag: -2 } });
  expect(answer.body.error).toMatch(/past the log's head \(8\).*went back.*Restart the server/);
  expect((await readiness(service, logger, false)).body).toEqual({
    status: 'projection-failed',
    store: { reachable: true },
    projections: [{ name: 'workspace-balance' }],
  });
});
