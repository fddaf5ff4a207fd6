/**
 * GET /readyz's verdict from what the service reports: not ready (503) while the read models cannot
 * be written (a full disk), naming the fault, and ready again once the projection thread has
 * written the batch it kept.
 */
import pino from 'pino';
import type { CreditsService } from '../../src/server/credits-service';
import { readiness } from '../../src/server/readiness';

function serviceWith(stalledBy: Error | undefined, appendFailure?: Error): CreditsService {
  const service = {
    store: { headPosition: () => Promise.resolve(stalledBy ? 12n : 10n) },
    appendFailure: () => appendFailure,
    projections: {
      checkpoint: 10n,
      stalledBy,
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
