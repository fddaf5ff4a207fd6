/**
 * The HTTP surface: POST /graphql (Apollo Server on Express 5), subscriptions over graphql-ws on
 * the same path, GET /healthz (the process is up), GET /readyz (the store answers and the
 * projections are not failing) and the Billing page at /billing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
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
  const base = { services: service.services, principal: undefined, authError: undefined };
  if (!authorization) return base;
  const [scheme, token] = authorization.split(' ');
  if (scheme !== 'Bearer' || !token) return { ...base, authError: 'Authorization must be "Bearer <token>".' };
  try {
    return { ...base, principal: verifyToken(token) };
  } catch (error) {
    if (error instanceof InvalidTokenError) return { ...base, authError: error.message };
    throw error;
  }
}

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
  app.use((_req, res, next) => {
    if (!draining) return next();
    res
      .set('Connection', 'close')
      .status(503)
      .json({
        errors: [
          {
            message: 'The server is shutting down; retry on another instance.',
            extensions: { code: 'SERVICE_UNAVAILABLE' },
          },
        ],
      });
  });
  const server = createServer(app);
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
      ...(options.production ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
  });
  await apollo.start();

  app.use(stripeWebhookRouter(service, options.logger));
  app.use('/billing', billingPageRouter(service.services, options));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    // Lags are in log positions: events for the embedded store, bytes of the log for EventStoreDB.
    const lagBehind = (head: bigint | undefined, reached: bigint | undefined) =>
      head === undefined ? 0 : Number(head - (reached ?? 0n));
    const projections = (head: bigint | undefined, reachable: boolean) =>
      service.projections.progress.map(({ name, checkpoint }) => ({
        name,
        projected: checkpoint?.toString() ?? null,
        lag: reachable ? lagBehind(head, checkpoint) : null,
      }));
    const reached = service.projections.checkpoint;
    let head: bigint | undefined;
    try {
      head = await withTimeout(service.store.headPosition(), READINESS_TIMEOUT_MS);
    } catch (error) {
      options.logger.warn({ err: error }, 'readiness check failed');
      res.status(503).json({
        status: 'store-unreachable',
        store: { reachable: false, error: error instanceof Error ? error.message : String(error) },
        head: null,
        projected: reached?.toString() ?? null,
        lag: null,
        projections: projections(undefined, false),
      });
      return;
    }
    const failure = service.projections.error;
    res.status(failure ? 503 : 200).json({
      status: failure ? 'projection-failed' : 'ready',
      store: { reachable: true },
      head: head?.toString() ?? null,
      projected: reached?.toString() ?? null,
      lag: lagBehind(head, reached),
      projections: projections(head, true),
    });
  });
  // Request logs are info-level: below that level the middleware would only cost time.
  const requestLogs = options.logger.isLevelEnabled('info')
    ? [pinoHttp({ logger: options.logger, autoLogging: { ignore: (req) => req.method === 'GET' } })]
    : [];
  app.use(
    '/graphql',
    ...requestLogs,
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => contextFor(req.headers.authorization, service, verifyToken),
    }),
  );

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

/** How long /readyz waits for the event store before calling it unreachable. */
const READINESS_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the event store did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
