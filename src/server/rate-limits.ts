/**
 * Request rates per caller and per client address, so that one token or one host cannot take the
 * server from everyone else: counted with rate-limiter-flexible's in-memory limiter, in fixed
 * windows, in this process only. Each replica counts on its own, so behind a load balancer a caller
 * gets up to the limit from every replica.
 *
 * /graphql counts each request against its client address and, with a valid token, against its
 * caller (the token's workspace and subject, so a caller's fresh token does not start a new count);
 * a request without a valid token only counts against its address. Over graphql-ws, each
 * connection_init counts against its address and each operation as a request does, so a socket is
 * no way around the limits. POST /webhooks/stripe counts
 * against the address Stripe sends from.
 */
import ipaddr from 'ipaddr.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { rateLimitRefusals } from './metrics';

export interface RateLimitSettings {
  /** Length of the counting window, in seconds. */
  windowSeconds: number;
  /** Requests to /graphql per caller per window; 0 turns the limit off. */
  graphqlPerToken: number;
  /** Requests to /graphql per client address per window; 0 turns the limit off. */
  graphqlPerAddress: number;
  /** Requests to POST /webhooks/stripe per client address per window; 0 turns the limit off. */
  webhookPerAddress: number;
}

export type RateLimitScope = 'token' | 'address';

/** A request over a limit: which limit, and how long until the window lets it through. */
export interface RateLimited {
  scope: RateLimitScope;
  limit: number;
  retryAfterSeconds: number;
}

export interface RateLimits {
  /**
   * Counts a /graphql request, or an operation or a connection over a graphql-ws socket (`req`: its
   * upgrade request); resolves to the refusal, or undefined when it may go on.
   */
  graphql(req: IncomingMessage, caller: string | undefined): Promise<RateLimited | undefined>;
  /** Counts a webhook delivery the same way. */
  webhook(req: IncomingMessage): Promise<RateLimited | undefined>;
}

type Counter = (key: string) => Promise<RateLimited | undefined>;

function counter(
  endpoint: 'graphql' | 'webhook',
  scope: RateLimitScope,
  limit: number,
  windowSeconds: number,
): Counter | undefined {
  if (limit <= 0) return undefined;
  const limiter = new RateLimiterMemory({ points: limit, duration: windowSeconds });
  const refused = rateLimitRefusals.labels(endpoint, scope);
  return (key) =>
    limiter.consume(key).then(
      () => undefined,
      (refusal: unknown) => {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        refused.inc();
        return { scope, limit, retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)) };
      },
    );
}

/**
 * The peer's address as its rate limits count it; a socket already gone has none, and those share
 * one count. An IPv6 peer counts by its /64: one subscriber is handed a whole /64 and may use any
 * of its 2^64 addresses, so counting each address alone would limit nothing.
 */
export function addressOf(req: Pick<IncomingMessage, 'socket'>): string {
  const address = req.socket.remoteAddress;
  if (address === undefined) return 'unknown';
  if (!ipaddr.IPv6.isValid(address)) return address;
  const ipv6 = ipaddr.IPv6.parse(address);
  if (ipv6.isIPv4MappedAddress()) return ipv6.toIPv4Address().toString();
  return `${ipv6.parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(':')}::/64`;
}

export function createRateLimits(settings: RateLimitSettings): RateLimits {
  const { windowSeconds } = settings;
  const graphqlAddress = counter('graphql', 'address', settings.graphqlPerAddress, windowSeconds);
  const graphqlToken = counter('graphql', 'token', settings.graphqlPerToken, windowSeconds);
  const webhookAddress = counter('webhook', 'address', settings.webhookPerAddress, windowSeconds);
  return {
    async graphql(req, caller) {
      const byAddress = await graphqlAddress?.(addressOf(req));
      if (byAddress || caller === undefined) return byAddress;
      return graphqlToken?.(caller);
    },
    async webhook(req) {
      return webhookAddress?.(addressOf(req));
    },
  };
}

/**
 * Runs `next` unless `check` finds the request over a limit, which is answered 429 instead. A
 * limiter that fails lets the request through: it protects the server, it decides nothing.
 */
export function unlessRateLimited(
  check: Promise<RateLimited | undefined>,
  res: ServerResponse,
  windowSeconds: number,
  next: () => void,
): void {
  check.then(
    (refusal) => (refusal ? answerRateLimited(res, refusal, windowSeconds) : next()),
    () => next(),
  );
}

/** The GraphQL error of a refusal, over HTTP (in a 429) and over a socket alike. */
export function rateLimitedError(refusal: RateLimited, windowSeconds: number) {
  const by = refusal.scope === 'token' ? 'this caller' : 'this client address';
  return {
    message: `Too many requests from ${by}: at most ${refusal.limit} every ${windowSeconds} s. Retry after ${refusal.retryAfterSeconds} s.`,
    extensions: { code: 'RATE_LIMITED', ...refusal, windowSeconds },
  };
}

/** The 429 answer: Retry-After in seconds, and a GraphQL-shaped body a client already knows how to read. */
function answerRateLimited(res: ServerResponse, refusal: RateLimited, windowSeconds: number): void {
  res.statusCode = 429;
  res.setHeader('retry-after', String(refusal.retryAfterSeconds));
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ errors: [rateLimitedError(refusal, windowSeconds)] }));
}
