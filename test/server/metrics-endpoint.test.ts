/**
 * GET /metrics and the event store's head: the lags are computed from the head the store finds with
 * bounded work, and left out, rather than waited for, when it cannot tell.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import type { CreditsService } from '../../src/server/credits-service';
import { metricsRouter } from '../../src/server/metrics-endpoint';

async function scrape(store: Partial<CreditsService['store']>): Promise<string> {
  const service = {
    store,
    projections: { progress: [{ name: 'workspace-balance', checkpoint: 10n }] },
    reactions: { reader: { counts: () => [] } },
    stateCache: () => ({ bytes: 0, workspaces: 0 }),
  } as unknown as CreditsService;
  const app = express().use(
    metricsRouter(service, { token: undefined, production: false, logger: pino({ level: 'silent' }) }),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    return await response.text();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

it('reports the lag from the head the store finds with bounded work', async () => {
  const text = await scrape({
    headPosition: () => Promise.resolve(99n),
    probeHeadPosition: () => Promise.resolve(12n),
  });
  expect(text).toMatch(/credits_projection_lag\{projection="workspace-balance"\} 2/);
});

it('leaves the lags out at once when the store cannot find its head within the bound', async () => {
  const started = Date.now();
  const text = await scrape({
    headPosition: () => new Promise<never>(() => undefined), // a whole shared log to scan
    probeHeadPosition: () => Promise.resolve('unknown' as const),
  });
  expect(Date.now() - started).toBeLessThan(1_000);
  expect(text).not.toMatch(/credits_projection_lag\{/);
});
