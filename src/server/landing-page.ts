/**
 * GET / in development: a few links to what a newcomer opens first (the Billing page, the GraphQL
 * explorer, readiness), instead of a 404. Production serves no landing page.
 */
import { Router } from 'express';

const LANDING_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Credits service</title>
  </head>
  <body>
    <h1>Credits service</h1>
    <ul>
      <li><a href="/billing">Billing page</a>: the balance and the buy-credits flow</li>
      <li><a href="/graphql">GraphQL explorer</a>: GraphiQL on the API, signed in to the demo workspace</li>
      <li><a href="/readyz">Readiness</a>: the event store and the projections</li>
    </ul>
  </body>
</html>
`;

export function landingPageRouter(): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res
      .set({ 'Content-Security-Policy': "default-src 'none'", 'Cache-Control': 'no-cache' })
      .type('html')
      .send(LANDING_HTML);
  });
  return router;
}
