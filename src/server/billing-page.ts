/**
 * The Billing page at /billing: static files from web/billing (plain HTML, CSS and ES modules that
 * use only the public GraphQL API), shipped as they are, so `npm start` needs no extra build step.
 * Outside production the router also offers the one-click demo session (./demo-session).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import express, { Router } from 'express';
import type { Logger } from 'pino';
import type { Services } from '../graphql/context';
import { demoSessionRouter } from './demo-session';

/**
 * The page may only load its own scripts and styles and talk to its own origin (GraphQL over
 * fetch and WebSocket); leaving for Stripe Checkout is a navigation, which CSP does not restrict.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** web/billing, found from this file whether it runs from src (ts-jest) or from dist. */
export function findBillingPageRoot(start: string = __dirname): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'web', 'billing');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Mount at /billing. */
export function billingPageRouter(
  services: Services,
  options: { production: boolean; jwtSecret: string; logger: Logger },
): Router {
  const router = Router();
  if (!options.production) router.use(demoSessionRouter(services, options));
  const root = findBillingPageRoot();
  if (!root) {
    options.logger.warn('web/billing is missing: the Billing page is not served');
    return router;
  }
  router.use(
    express.static(root, {
      index: 'index.html',
      setHeaders: (res) => {
        res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Referrer-Policy', 'no-referrer');
        res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
  return router;
}
