/**
 * GET /metrics in Prometheus's text format. The metrics tell an outsider the traffic, the errors
 * and the shape of the service, so in production the endpoint answers only with METRICS_TOKEN as a
 * bearer token, and does not exist without one; outside production it is open unless a token is
 * set. It stays on the public port (one port to run and probe; a scraper sends the token).
 *
 * Projection and reaction lags are computed here, at scrape time, from the store's head and each
 * checkpoint, not on every event, and so are the reactions' parked work and the command side's
 * state cache.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { bearerToken } from '../auth/tokens';
import type { CreditsService } from './credits-service';
import {
  metricsRegistry,
  parkedReactionWork,
  projectionLag,
  reactionLag,
  stateCacheBytes,
  stateCacheWorkspaces,
} from './metrics';
import { probeHead } from '../eventstore/port';
import { withTimeout } from './with-timeout';

export interface MetricsEndpointOptions {
  /** The bearer token a scraper must send; undefined: none needed outside production, off in it. */
  token: string | undefined;
  production: boolean;
  logger: Logger;
}

/** How long a scrape waits for the event store's head before leaving the lags out. */
const HEAD_TIMEOUT_MS = 2_000;

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Whether an Authorization header carries the operator's token: always true without a token, as
 * outside production. Compared as digests, in constant time: the answer tells nothing about how
 * much of a guess was right.
 */
export function operatorCheck(token: string | undefined): (authorization: string | undefined) => boolean {
  const expected = token === undefined ? undefined : digest(token);
  return (authorization) => {
    if (!expected) return true;
    const sent = authorization === undefined ? undefined : bearerToken(authorization);
    return sent !== undefined && timingSafeEqual(digest(sent), expected);
  };
}

export function metricsRouter(service: CreditsService, options: MetricsEndpointOptions): Router {
  const router = express.Router();
  if (options.production && options.token === undefined) return router;
  const allowed = operatorCheck(options.token);

  router.get('/metrics', async (req, res) => {
    if (!allowed(req.header('authorization'))) {
      res.status(401).set('www-authenticate', 'Bearer').json({ error: 'Send Authorization: Bearer <METRICS_TOKEN>.' });
      return;
    }
    await refreshProjectionLag(service, options.logger);
    refreshParkedWork(service);
    const stateCache = service.stateCache();
    stateCacheBytes.set(stateCache.bytes);
    stateCacheWorkspaces.set(stateCache.workspaces);
    res.set('content-type', metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });
  return router;
}

async function refreshProjectionLag(service: CreditsService, logger: Logger): Promise<void> {
  projectionLag.reset();
  let head: bigint | undefined | 'unknown';
  try {
    head = await withTimeout(probeHead(service.store), HEAD_TIMEOUT_MS);
  } catch (error) {
    // Without the head there is no lag to tell; /readyz says why.
    logger.warn({ err: error }, 'metrics: the event store head could not be read');
    return;
  }
  // None of this store's events among the latest of a shared log: no lag to tell either.
  if (head === 'unknown') return;
  reactionLag.reset();
  for (const { name, checkpoint } of service.projections.progress) {
    const lag = head === undefined ? 0 : Number(head - (checkpoint ?? 0n));
    projectionLag.set({ projection: name }, lag);
    if (name.startsWith(REACTION_PREFIX)) reactionLag.set({ reaction: name.slice(REACTION_PREFIX.length) }, lag);
  }
}

/** A reaction's derivation runs as the projection `reaction:<name>` (reactions/reaction-projection.ts). */
const REACTION_PREFIX = 'reaction:';

function refreshParkedWork(service: CreditsService): void {
  parkedReactionWork.reset();
  for (const { name } of service.projections.progress) {
    if (name.startsWith(REACTION_PREFIX)) parkedReactionWork.set({ reaction: name.slice(REACTION_PREFIX.length) }, 0);
  }
  for (const { reaction, parked } of service.reactions.reader.counts()) parkedReactionWork.set({ reaction }, parked);
}
