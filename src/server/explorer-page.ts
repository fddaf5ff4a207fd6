/**
 * The GraphQL explorer, in development only: GET /graphql from a browser answers GraphiQL (bundled
 * from node_modules into dist/explorer by web/explorer/build.mjs, served from /explorer/), so
 * exploring the API needs no internet and reports to no one. The page carries a one-hour token of
 * the demo workspace's OWNER, signed with the server's secret like the Billing page's demo
 * session, so the first query runs as it opens. The HTTP server never mounts this in production,
 * and the router refuses to be built for production as a second guard.
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import express, { Router } from 'express';
import type { Logger } from 'pino';
import { projectRoot } from '../project-root';
import { DEMO_WORKSPACE_ID, demoSession } from './demo-session';

const EXPLORER_ASSETS = join(projectRoot(), 'dist', 'explorer');

/**
 * Everything from this origin; Monaco and GraphiQL set styles inline, and subscriptions use a
 * WebSocket to this host. Nothing else may load or be contacted.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A browser opening /graphql (not a GET query, which carries ?query=). */
export function wantsExplorer(req: IncomingMessage): boolean {
  if (req.method !== 'GET' || !(req.headers.accept ?? '').includes('text/html')) return false;
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
  return !query.has('query');
}

/** JSON inside <script type="application/json">: `<` escaped so no text can close the element. */
const inlineJson = (value: unknown): string => JSON.stringify(value).replaceAll('<', '\\u003c');

function explorerHtml(config: Record<string, string>): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Credits API explorer</title>
    <link rel="stylesheet" href="/explorer/explorer.css" />
    <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
    <script type="application/json" id="explorer-config">${inlineJson(config)}</script>
    <script type="module" src="/explorer/explorer.js"></script>
  </head>
  <body>
    <div id="graphiql">Loading the explorer…</div>
  </body>
</html>
`;
}

/** Mount at the root: GET /graphql (the page) and /explorer/* (its bundle). */
export function explorerRouter(options: { production: boolean; jwtSecret: string; logger: Logger }): Router {
  if (options.production) throw new Error('The GraphQL explorer is not available in production.');
  const router = Router();
  const built = existsSync(join(EXPLORER_ASSETS, 'explorer.js'));
  if (!built) options.logger.warn('dist/explorer is missing (npm run explorer:build): /graphql has no explorer');
  router.get('/graphql', (_req, res) => {
    if (!built) {
      res.status(503).type('text').send('The explorer is not built: run npm run explorer:build, or npm start.');
      return;
    }
    const session = demoSession(options.jwtSecret);
    res
      .set({
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
      })
      .type('html')
      .send(
        explorerHtml({
          token: session.tokens.OWNER,
          workspaceId: DEMO_WORKSPACE_ID,
          role: 'OWNER',
          expiresAt: session.expiresAt,
        }),
      );
  });
  router.use(
    '/explorer',
    express.static(EXPLORER_ASSETS, {
      index: false,
      setHeaders: (res) => {
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
  return router;
}
