/**
 * The HTTP surface: POST /graphql (Apollo Server, see graphql-http.ts), subscriptions over graphql-ws on
 * the same path, GET /healthz (the process is up), GET /readyz (the store answers and the
 * projections are not failing) and the Billing page at /billing; outside production also the
 * GraphQL explorer on GET /graphql from a browser, and a page of links at /.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import express from 'express';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Principal } from '../auth/principal';
import { createTokenVerifier, InvalidTokenError } from '../auth/tokens';
import type { GraphQLContext } from '../graphql/context';
import { formatError } from '../graphql/errors';
import { buildCreditsSchema } from '../graphql/schema';
import { billingPageRouter } from './billing-page';
import { explorerRouter, wantsExplorer } from './explorer-page';
import { landingPageRouter } from './landing-page';
import { graphqlHttpHandler } from './graphql-http';
import { readiness } from './readiness';
import type { CreditsService } from './credits-service';
import { stripeWebhookRouter } from './stripe-webhook';

export interface HttpServerOptions {
  production: boolean;
  jwtSecret: string;
  logger: Logger;
  shutdownTimeoutMs: number;
}

export interface RunningHttpServer {
  server: Server;
  url: string;
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>;
}

function contextFor(
  authorization: string | undefined,
  service: CreditsService,
  verifyToken: (token: string) => Principal,
): GraphQLContext {
  const context = (principal: Principal | undefined, authError: string | undefined): GraphQLContext => ({
    services: service.services,
    principal,
    authError,
  });
  if (!authorization) return context(undefined, undefined);
  const [scheme, token] = authorization.split(' ');
  if (scheme !== 'Bearer' || !token) return context(undefined, 'Authorization must be "Bearer <token>".');
  try {
    return context(verifyToken(token), undefined);
  } catch (error) {
    if (error instanceof InvalidTokenError) return context(undefined, error.message);
    throw error;
  }
}

/** Whether a request is for /graphql itself (not /graphql-something). */
const isGraphQLPath = (url: string | undefined): boolean =>
  url !== undefined && url.startsWith('/graphql') && (url.length === 8 || url[8] === '?' || url[8] === '/');

export async function startHttpServer(
  service: CreditsService,
  options: HttpServerOptions,
  listen: { host: string; port: number },
): Promise<RunningHttpServer> {
  // Every request's token is verified; a token seen before skips the HMAC but not its expiry check.
  const verifyToken = createTokenVerifier(options.jwtSecret);
  const app = express();
  app.disable('x-powered-by');
  // GraphQL answers POSTs: an ETag would cost a hash of every response body and never be used.
  app.set('etag', false);
  // Once shutdown begins, a request that was not already being handled is refused before it can
  // run anything: an operation either runs and is answered, or never runs.
  let draining = false;
  const refuseWhileDraining = (res: ServerResponse): void => {
    res.statusCode = 503;
    res.setHeader('connection', 'close');
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(
      JSON.stringify({
        errors: [
          {
            message: 'The server is shutting down; retry on another instance.',
            extensions: { code: 'SERVICE_UNAVAILABLE' },
          },
        ],
      }),
    );
  };
  app.use((_req, res, next) => (draining ? refuseWhileDraining(res) : next()));
  // Requests are taken once Apollo has started (see the 'request' listener below).
  const server = createServer();
  const schema = buildCreditsSchema(service.services.pubSub);
  // Subscriptions: graphql-ws on the same path. The token comes in the connection's params.
  const subscriptions = useServer<{ authorization?: string; Authorization?: string }>(
    {
      schema,
      context: ({ connectionParams }) =>
        contextFor(connectionParams?.authorization ?? connectionParams?.Authorization, service, verifyToken),
    },
    new WebSocketServer({ server, path: '/graphql' }),
  );
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: !options.production,
    // main.ts owns SIGTERM/SIGINT: Apollo's own handlers would race it and re-raise the signal.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: !options.production,
    formatError: (formatted, error) => formatError(formatted, error, options),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: options.shutdownTimeoutMs }),
      { serverWillStart: async () => ({ drainServer: async () => subscriptions.dispose() }) },
      // No type or field sets cache hints (answers are per caller and change with every spend), and
      // the plugin would otherwise wrap the resolution of every field of every response.
      ApolloServerPluginCacheControlDisabled(),
      // Apollo's landing page loads from a CDN and reports telemetry; development has GraphiQL instead.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();

  app.use(stripeWebhookRouter(service, options.logger));
  app.use('/billing', billingPageRouter(service.services, options));
  if (!options.production) app.use(landingPageRouter(), explorerRouter(options));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const { status, body } = await readiness(service, options.logger);
    res.status(status).json(body);
  });
  // Request logs are info-level: below that level the middleware would only cost time.
  const requestLog = options.logger.isLevelEnabled('info')
    ? pinoHttp({ logger: options.logger, autoLogging: { ignore: (req) => req.method === 'GET' } })
    : undefined;
  const serveGraphQL = graphqlHttpHandler(apollo, {
    context: async (req) => contextFor(req.headers.authorization, service, verifyToken),
    bodyLimitBytes: 1024 * 1024,
  });
  // /graphql is served without Express (see graphql-http.ts); every other path goes to Express.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!isGraphQLPath(req.url) || (!options.production && wantsExplorer(req))) return void app(req, res);
    if (draining) return refuseWhileDraining(res);
    requestLog?.(req, res);
    serveGraphQL(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    close: () => {
      draining = true;
      return apollo.stop();
    },
  };
}
