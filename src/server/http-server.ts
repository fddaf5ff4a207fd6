/**
 * The HTTP surface: POST /graphql (Apollo Server, see graphql-http.ts), subscriptions over graphql-ws on
 * the same path (subscriptions.ts), GET /healthz (the process is up), GET /readyz (the store answers
 * and the projections are not failing), GET /metrics, POST /webhooks/stripe and the Billing page at
 * /billing; outside production also the GraphQL explorer on GET /graphql from a browser, and a page
 * of links at /. Request rates are limited first (rate-limits.ts), and a shutdown answers new
 * requests 503 while those in flight finish (http-drain.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, OperationTypeNode } from 'graphql';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import express from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { callerKey, type Principal } from '../auth/principal';
import {
  BEARER_ONLY,
  bearerToken,
  createExpiringTokenVerifier,
  createTokenVerifier,
  InvalidTokenError,
} from '../auth/tokens';
import type { GraphQLContext } from '../graphql/context';
import { formatError } from '../graphql/errors';
import { operationLimits } from '../graphql/limits/operation-limits';
import type { QueryLimits } from '../graphql/limits/query-limits';
import { buildCreditsSchema } from '../graphql/schema';
import { billingPageRouter } from './billing-page';
import { explorerRouter, wantsExplorer } from './explorer-page';
import { landingPageRouter } from './landing-page';
import { graphqlHttpHandler } from './graphql-http';
import { readiness } from './readiness';
import { graphqlMetricsPlugin } from './graphql-metrics';
import { HttpDrain } from './http-drain';
import { metricsRouter, operatorCheck } from './metrics-endpoint';
import type { CreditsService } from './credits-service';
import { createRateLimits, unlessRateLimited, type RateLimitSettings } from './rate-limits';
import { stripeWebhookRouter } from './stripe-webhook';
import { serveSubscriptions, type SocketLimits } from './subscriptions';
import { newHttpServer, type StartingServer } from './starting-server';

/** The largest request body, and the largest message over a socket. */
const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * A subscription sent over HTTP is refused (400 BAD_REQUEST): it is served over graphql-ws at
 * /graphql, where each one is authorized when it starts. Executed over HTTP it would run only its
 * field resolvers, without a source event and without that check, and answer nonsense.
 */
const subscriptionsOverWebSocketOnly: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation }) {
        if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) return;
        throw new GraphQLError(
          'Subscriptions are served over WebSocket (the graphql-ws protocol) at /graphql, not over HTTP.',
          { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
        );
      },
    };
  },
};
export interface HttpServerOptions {
  production: boolean;
  jwtSecret: string;
  logger: Logger;
  shutdownTimeoutMs: number;
  shutdownLingerMs: number;
  queryLimits: QueryLimits;
  rateLimits: RateLimitSettings;
  /** Open graphql-ws sockets, and operations running over them, one caller may hold at once. */
  socketLimits: SocketLimits;
  /** The bearer token GET /metrics asks for; without one it is off in production, open otherwise. */
  metricsToken: string | undefined;
  /** How long a client may take to send a whole request (starting-server.ts, newHttpServer). */
  requestTimeoutMs: number;
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
  const token = bearerToken(authorization);
  if (!token) return context(undefined, BEARER_ONLY);
  try {
    return context(verifyToken(token), undefined);
  } catch (error) {
    if (error instanceof InvalidTokenError) return context(undefined, error.message);
    throw error;
  }
}

/**
 * Longest document a caller without a valid token may send in production. It can only be answered
 * `{ __typename }` or UNAUTHENTICATED, yet parsing and validating what it sends costs as much as a
 * member's request: a crafted document of a few tens of KB (fragments, repeated fields) takes 60 to
 * 300 ms of the thread that serves everyone, so a few a second from one address slowed every tenant.
 */
export const ANONYMOUS_DOCUMENT_BYTES = 1024;

const anonymousRefusal = (source: string, context: GraphQLContext): GraphQLError | undefined =>
  context.principal || source.length <= ANONYMOUS_DOCUMENT_BYTES
    ? undefined
    : new GraphQLError(context.authError ?? 'Sign in: send Authorization: Bearer <token>.', {
        extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
      });

/** Whether a request is for /graphql itself (not /graphql-something). */
const isGraphQLPath = (url: string | undefined): boolean =>
  url !== undefined && url.startsWith('/graphql') && (url.length === 8 || url[8] === '?' || url[8] === '/');

export async function startHttpServer(
  service: CreditsService,
  options: HttpServerOptions,
  listen: { host: string; port: number; starting?: StartingServer },
): Promise<RunningHttpServer> {
  // Every request's token is verified; a token seen before skips the HMAC but not its expiry check.
  const verifyToken = createTokenVerifier(options.jwtSecret);
  const app = express();
  app.disable('x-powered-by');
  // GraphQL answers POSTs: an ETag would cost a hash of every response body and never be used.
  app.set('etag', false);
  // Requests are taken once Apollo has started (see the 'request' listener below). The server that
  // answered while the service started is taken over, already listening (starting-server.ts).
  const server = listen.starting?.server ?? newHttpServer(options.requestTimeoutMs);
  // From SIGTERM on, new requests are answered 503 while those in flight finish (http-drain.ts).
  const drain = new HttpDrain(server, options.shutdownTimeoutMs, options.shutdownLingerMs);
  const schema = buildCreditsSchema(service.services.pubSub);
  const limits = operationLimits(schema, options.queryLimits);
  const rateLimits = createRateLimits(options.rateLimits);
  // Subscriptions: graphql-ws on the same path. The token comes in the connection's params.
  const subscriptions = serveSubscriptions(server, {
    rateLimits,
    windowSeconds: options.rateLimits.windowSeconds,
    maxMessageBytes: BODY_LIMIT_BYTES,
    schema,
    services: service.services,
    verifyToken: createExpiringTokenVerifier(options.jwtSecret),
    limits,
    ...options.socketLimits,
    production: options.production,
    logger: options.logger,
  });
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: !options.production,
    // A cross-site form or <img> cannot set Authorization (a browser preflights it), so a request
    // that carries one is no CSRF: urql's and Apollo Client's GET queries then need no other header.
    csrfPrevention: { requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
    // main.ts owns SIGTERM/SIGINT: Apollo's own handlers would race it and re-raise the signal.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: !options.production,
    formatError: (formatted, error) => formatError(formatted, error, options),
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    plugins: [
      limits.apolloPlugin,
      subscriptionsOverWebSocketOnly,
      graphqlMetricsPlugin(),
      {
        serverWillStart: async () => ({
          drainServer: async () => void (await Promise.all([drain.drain(), subscriptions.dispose()])),
        }),
      },
      // No type or field sets cache hints (answers are per caller and change with every spend), and
      // the plugin would otherwise wrap the resolution of every field of every response.
      ApolloServerPluginCacheControlDisabled(),
      // Apollo's landing page loads from a CDN and reports telemetry; development has GraphiQL instead.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();

  const { windowSeconds } = options.rateLimits;
  app.post('/webhooks/stripe', (req, res, next) =>
    unlessRateLimited(rateLimits.webhook(req), res, windowSeconds, () => next()),
  );
  app.use(stripeWebhookRouter(service, options.logger));
  app.use('/billing', billingPageRouter(service.services, options));
  if (!options.production) app.use(landingPageRouter(), explorerRouter(options));
  app.use(
    metricsRouter(service, { token: options.metricsToken, production: options.production, logger: options.logger }),
  );
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // In production, what went wrong is for operators (METRICS_TOKEN); anyone may see the status.
  const operator = operatorCheck(options.metricsToken);
  app.get('/readyz', async (req, res) => {
    const detailed =
      !options.production || (options.metricsToken !== undefined && operator(req.header('authorization')));
    const { status, body } = await readiness(service, options.logger, detailed);
    res.status(status).json(body);
  });
  // Request logs are info-level: below that level the middleware would only cost time. Every
  // request gets a line (Stripe's webhooks, GraphQL over GET) but the GETs of probes, /metrics and
  // the pages' files, which would bury the rest.
  const requestLog = options.logger.isLevelEnabled('info')
    ? pinoHttp({
        logger: options.logger,
        autoLogging: { ignore: (req) => req.method === 'GET' && !isGraphQLPath(req.url) },
      })
    : undefined;
  const serveGraphQL = graphqlHttpHandler(apollo, {
    bodyLimitBytes: BODY_LIMIT_BYTES,
    documentRefusal: (source, context) =>
      (options.production && anonymousRefusal(source, context)) || limits.documentRefusal(source),
  });
  // /graphql is served without Express (see graphql-http.ts); every other path goes to Express.
  // From the next request on, the service answers: the starting answers stop in the same tick.
  listen.starting?.stopAnswering();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (drain.refused(res)) return;
    requestLog?.(req, res);
    if (!isGraphQLPath(req.url) || (!options.production && wantsExplorer(req))) return void app(req, res);
    const context = contextFor(req.headers.authorization, service, verifyToken);
    const caller = context.principal && callerKey(context.principal);
    unlessRateLimited(rateLimits.graphql(req, caller), res, windowSeconds, () => serveGraphQL(req, res, context));
  });

  if (!listen.starting) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    close: () => {
      drain.begin();
      // Mutations waiting for Stripe's answer (up to 15 s) answer now, with what is recorded, rather
      // than be cut off by the drain's deadline after their write happened.
      service.stopWaiting();
      return apollo.stop();
    },
  };
}
