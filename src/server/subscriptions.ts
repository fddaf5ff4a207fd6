/**
 * Subscriptions over graphql-ws on /graphql. A socket is authenticated once, at `connection_init`
 * (the token in the connection params, `{ "authorization": "Bearer <token>" }`), and lives no
 * longer than its token: it is closed at the token's `exp`, so that a subscription never streams
 * balances to a token that would be refused over HTTP. Close codes, as graphql-ws defines them:
 *
 * - 4403 Forbidden: a connection_init refused (no token, a token that is not valid or has expired,
 *   the caller already holding the most sockets, the address past its rate limit), and a socket
 *   closed at its token's `exp`. graphql-ws's protocol names 4403 for a refused connection_init, and
 *   its client reconnects after it (with fresh connection params, a fresh token), where it treats
 *   4401 as final;
 * - 4401 Unauthorized: an operation before the socket was acknowledged (graphql-ws closes it so).
 *
 * A caller's subscriptions (and queries or mutations still running) over all its sockets together
 * are bounded too: every live subscription is executed again at each change of its workspace, so
 * thousands of them from one token would slow every tenant. One past the bound is refused with
 * LIMIT_EXCEEDED; the socket and its other subscriptions go on.
 *
 * Which workspace a socket may watch is decided per subscription (FORBIDDEN on that subscription;
 * the socket and its other subscriptions go on). Every operation meets the same rules as over
 * HTTP (subscription-operations.ts).
 */
import type { Server } from 'node:http';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { callerKey, type Principal } from '../auth/principal';
import { BEARER_ONLY, bearerToken, InvalidTokenError, type VerifiedToken } from '../auth/tokens';
import type { Services } from '../graphql/context';
import type { OperationLimits } from '../graphql/limits/operation-limits';
import { rateLimitedError, type RateLimits } from './rate-limits';
import { subscriptionOperations } from './subscription-operations';

export interface SocketLimits {
  /** Open sockets one caller may hold at once. */
  socketsPerCaller: number;
  /** Operations (subscriptions, mostly) one caller may have running at once over all its sockets. */
  operationsPerCaller: number;
}

export interface SubscriptionOptions extends SocketLimits {
  /** The limits /graphql requests meet: operations over a socket count the same. */
  rateLimits: RateLimits;
  windowSeconds: number;
  /** The largest message a socket may send (the HTTP body limit): a larger one closes it. */
  maxMessageBytes: number;
  schema: GraphQLSchema;
  services: Services;
  verifyToken: (token: string) => VerifiedToken;
  limits: OperationLimits;
  production: boolean;
  logger: Logger;
}

interface Session {
  principal: Principal;
  caller: string;
  /** The token's exp, in ms since the epoch. */
  expiresAt: number;
  /** Stops the timer that closes the socket at the token's exp. */
  forget(): void;
  /**
   * The ids of this socket's operations from their subscribe until they end, kept here rather than
   * read from graphql-ws's own table: a `complete` for an operation still being prepared takes it
   * out of that table while the operation goes on to run, and the id could be used again at once.
   */
  operations: Set<string>;
}

type ConnectionParams = { authorization?: unknown; Authorization?: unknown } | undefined;

/** The longest setTimeout delay; a later exp is reached in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `expire` once the clock reaches `at` (ms since the epoch); returns what cancels it. */
function atInstant(at: number, expire: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const wait = at - Date.now();
    if (wait <= 0) return expire();
    timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
  };
  arm();
  return () => clearTimeout(timer);
}

/** The verified token of the connection params, or why there is none. */
function authenticate(params: ConnectionParams, verify: SubscriptionOptions['verifyToken']): VerifiedToken | string {
  const authorization = params?.authorization ?? params?.Authorization;
  if (typeof authorization !== 'string' || authorization === '') {
    return 'Sign in: send { "authorization": "Bearer <token>" } as connection params.';
  }
  const token = bearerToken(authorization);
  if (!token) return BEARER_ONLY;
  try {
    return verify(token);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error.message;
    throw error;
  }
}

/** A WebSocket close reason must fit in 123 bytes. */
const closeReason = (reason: string): string => Buffer.from(reason).subarray(0, 123).toString();

export function serveSubscriptions(server: Server, options: SubscriptionOptions): ReturnType<typeof useServer> {
  /** Each caller's open sockets, by their sessions. */
  const openSockets = new Map<string, Set<Session>>();
  const runningFor = (caller: string): number => {
    let running = 0;
    for (const session of openSockets.get(caller) ?? []) running += session.operations.size;
    return running;
  };
  const operations = subscriptionOperations(options);
  return useServer<ConnectionParams, { session: Session }>(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        // A connection counts against its address as a request does; one over the limit is refused.
        const refusal = await options.rateLimits.graphql(request, undefined).catch(() => undefined);
        if (refusal) {
          socket.close(CloseCode.Forbidden, closeReason(rateLimitedError(refusal, options.windowSeconds).message));
          return false;
        }
        // Gone while the limiter answered: nothing to count (onClose has run, or will find no session).
        if (socket.readyState !== socket.OPEN) return false;
        const verified = authenticate(ctx.connectionParams, options.verifyToken);
        if (typeof verified === 'string') {
          socket.close(CloseCode.Forbidden, closeReason(`Unauthorized: ${verified}`));
          return false; // closed already, with the reason
        }
        const caller = callerKey(verified.principal);
        const open = openSockets.get(caller) ?? new Set();
        if (open.size >= options.socketsPerCaller) {
          socket.close(
            CloseCode.Forbidden,
            closeReason(`Forbidden: this caller already has ${open.size} sockets open, the most allowed.`),
          );
          return false;
        }
        const forget = atInstant(verified.expiresAt, () =>
          socket.close(CloseCode.Forbidden, 'Unauthorized: the token has expired.'),
        );
        const session = {
          principal: verified.principal,
          caller,
          expiresAt: verified.expiresAt,
          forget,
          operations: new Set<string>(),
        };
        ctx.extra.session = session;
        openSockets.set(caller, open.add(session));
        return true;
      },
      onClose: (ctx) => {
        const session = ctx.extra.session;
        if (!session) return;
        session.forget();
        const open = openSockets.get(session.caller);
        open?.delete(session);
        if (open?.size === 0) openSockets.delete(session.caller);
      },
      // Every operation that got past onSubscribe ends here: delivered whole, completed by the client, failed, or closed with its socket.
      onComplete: (ctx, id) => {
        ctx.extra.session?.operations.delete(id);
      },
      onSubscribe: async (ctx, id, payload) => {
        const session = ctx.extra.session;
        // graphql-ws takes no subscription before onConnect has accepted the socket; one that comes
        // in the instant before the exp timer fires is refused, and the socket closed, here.
        if (!session || Date.now() >= session.expiresAt) {
          ctx.extra.socket.close(CloseCode.Forbidden, 'Unauthorized: the token has expired.');
          return [new GraphQLError('The token has expired.', { extensions: { code: 'UNAUTHENTICATED' } })];
        }
        // An id in use until its operation ends, as graphql-ws's protocol has it (4409).
        if (session.operations.has(id)) {
          ctx.extra.socket.close(CloseCode.SubscriberAlreadyExists, closeReason(`Subscriber for ${id} already exists`));
          return [new GraphQLError(`Subscriber for ${id} already exists`, { extensions: { code: 'BAD_REQUEST' } })];
        }
        const running = runningFor(session.caller);
        if (running >= options.operationsPerCaller) {
          return [
            new GraphQLError(
              `This caller already has ${running} operations running over its sockets, the most allowed; complete one first.`,
              { extensions: { code: 'LIMIT_EXCEEDED', limit: options.operationsPerCaller } },
            ),
          ];
        }
        session.operations.add(id);
        const refused = (errors: readonly GraphQLError[]): readonly GraphQLError[] => {
          session.operations.delete(id); // refused here: graphql-ws answers with the errors, and no onComplete follows
          return errors;
        };
        // Every operation over the socket (a query or a mutation too) counts as a request over HTTP.
        const refusal = await options.rateLimits.graphql(ctx.extra.request, session.caller).catch(() => undefined);
        if (refusal) {
          const { message, extensions } = rateLimitedError(refusal, options.windowSeconds);
          return refused([new GraphQLError(message, { extensions })]);
        }
        const prepared = operations.prepare(payload, session.principal);
        return Array.isArray(prepared) ? refused(prepared) : prepared;
      },
      onError: (_ctx, _id, _payload, errors) => operations.formatErrors(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: operations.formatErrors(result.errors) } : undefined,
    },
    new WebSocketServer({ server, path: '/graphql', maxPayload: options.maxMessageBytes }),
  );
}
