/**
 * The page's only way to the server: GraphQL over `fetch` (POST /graphql with the bearer token) and
 * subscriptions over a native WebSocket speaking the graphql-ws protocol (`graphql-transport-ws`,
 * see node_modules/graphql-ws/PROTOCOL.md). The subset used here: connection_init with the token
 * in its payload, connection_ack, subscribe, next, error, complete, and ping/pong.
 */

const HTTP_ENDPOINT = '/graphql';

/**
 * A failed GraphQL request; `code` is the first error's extensions.code, or NETWORK_ERROR /
 * HTTP_ERROR; `retryAfterSeconds` the rate limit's Retry-After (header or extensions), if any.
 */
export class GraphQLRequestError extends Error {
  constructor(message, { code, status, errors, retryAfterSeconds } = {}) {
    super(message);
    this.name = 'GraphQLRequestError';
    this.code = code ?? 'UNKNOWN';
    this.status = status;
    this.errors = errors ?? [];
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Seconds to wait before asking again: the Retry-After header, else the error's extensions. */
function retryAfterOf(response, first) {
  const header = Number(response.headers.get('retry-after'));
  if (Number.isFinite(header) && header > 0) return header;
  const extension = first?.extensions?.retryAfterSeconds;
  return typeof extension === 'number' ? extension : undefined;
}

/** Sends one query or mutation; resolves with `data`, or rejects with a GraphQLRequestError. */
export async function request(query, variables, token) {
  let response;
  try {
    response = await fetch(HTTP_ENDPOINT, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token && { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (cause) {
    throw new GraphQLRequestError(`The server could not be reached (${cause.message}).`, { code: 'NETWORK_ERROR' });
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new GraphQLRequestError(`The server answered HTTP ${response.status}.`, {
      code: response.status === 503 ? 'SERVICE_UNAVAILABLE' : 'HTTP_ERROR',
      status: response.status,
    });
  }
  const [first] = body.errors ?? [];
  if (first) {
    throw new GraphQLRequestError(first.message, {
      code: first.extensions?.code,
      status: response.status,
      errors: body.errors,
      retryAfterSeconds: retryAfterOf(response, first),
    });
  }
  if (!body.data) throw new GraphQLRequestError('The server answered without data.', { status: response.status });
  return body.data;
}

/** Close codes after which reconnecting cannot help (a bad message, an unknown subprotocol). */
const FATAL_CLOSE_CODES = new Set([4400, 4406]);
/**
 * Close codes of a refusal that may pass: 4403 for a caller holding the most sockets or past its
 * rate limit (4403 for the token, "Unauthorized: …", is final: the page signs out), 4429 too many
 * connection_init, 4409 the operation id still in use on the server.
 */
const REFUSAL_CLOSE_CODES = new Set([4403, 4409, 4429]);
/** Error codes of a refused subscription that may pass: the caller's operations or request rate. */
const REFUSAL_ERROR_CODES = new Set(['LIMIT_EXCEEDED', 'RATE_LIMITED']);
/** A refusal is tried again after 5 s, doubling up to 5 minutes (limits pass when other tabs close). */
const REFUSAL_FIRST_RETRY_MS = 5_000;
const REFUSAL_LAST_RETRY_MS = 300_000;
/** Subscribed this long without a refusal, the backoff starts again from its first step. */
const REFUSAL_FORGOTTEN_MS = 30_000;
let operationIds = 0;

/** "Retry after 7 s." in a rate limit's message, in ms. */
const retryAfterIn = (message) => {
  const seconds = /Retry after (\d+) s/.exec(message ?? '')?.[1];
  return seconds ? Number(seconds) * 1000 : 0;
};

/**
 * Subscribes to one operation and keeps the subscription alive: a dropped connection is reopened
 * with backoff and the operation subscribed again. Callbacks:
 * - onNext(data) for each result,
 * - onError(GraphQLRequestError) when the server refuses the operation for good (no retry),
 * - onStatus('connecting' | 'live' | 'offline' | 'refused' | 'closed', detail); 'live' comes after
 *   every (re)subscribe, so the caller can refetch whatever changed while it was not listening;
 *   'refused' when a limit refused the socket or the subscription, with detail { error, retryInMs }:
 *   it is tried again then, with a longer backoff than a dropped connection's.
 * Returns { close() }.
 */
export function subscribe({ query, variables, token, onNext, onError, onStatus = () => {} }) {
  const url = new URL(HTTP_ENDPOINT, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const id = `billing-${++operationIds}`;
  let socket;
  let stopped = false;
  let attempts = 0;
  let refusals = 0;
  let retryTimer;
  let forgetRefusals;

  const send = (message) => socket.send(JSON.stringify(message));
  const fail = (error) => {
    stopped = true;
    onStatus('closed');
    onError(error);
    socket.close(1000, 'Normal Closure');
  };

  /** A limit refused us: said, and tried again later (no sooner than a rate limit's Retry after). */
  const refused = (error, atLeastMs = 0) => {
    clearTimeout(forgetRefusals);
    const backoff = Math.min(REFUSAL_LAST_RETRY_MS, REFUSAL_FIRST_RETRY_MS * 2 ** refusals++);
    const retryInMs = Math.max(atLeastMs, Math.round(backoff * (0.5 + Math.random() / 2)));
    onStatus('refused', { error, retryInMs });
    retryTimer = setTimeout(connect, retryInMs);
  };

  function connect() {
    onStatus('connecting');
    /** This socket's end was handled where it was decided (a refused subscription). */
    let ended = false;
    socket = new WebSocket(url, 'graphql-transport-ws');
    socket.addEventListener('open', () => {
      send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    });
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        socket.close(4400, 'Invalid message');
        return;
      }
      switch (message.type) {
        case 'connection_ack':
          attempts = 0;
          send({ id, type: 'subscribe', payload: { query, variables } });
          onStatus('live');
          forgetRefusals = setTimeout(() => (refusals = 0), REFUSAL_FORGOTTEN_MS);
          break;
        case 'ping':
          send({ type: 'pong' });
          break;
        case 'pong':
          break;
        case 'next':
          if (message.id !== id) break;
          if (message.payload?.errors?.length) {
            const [first] = message.payload.errors;
            onError(
              new GraphQLRequestError(first.message, { code: first.extensions?.code, errors: message.payload.errors }),
            );
          } else {
            onNext(message.payload.data);
          }
          break;
        case 'error': {
          if (message.id !== id) break;
          const [first] = Array.isArray(message.payload) ? message.payload : [];
          if (REFUSAL_ERROR_CODES.has(first?.extensions?.code)) {
            ended = true;
            socket.close(1000, 'Normal Closure');
            refused(
              new GraphQLRequestError(first.message, { code: first.extensions.code, errors: message.payload }),
              retryAfterIn(first.message),
            );
            break;
          }
          fail(
            new GraphQLRequestError(first?.message ?? 'The subscription was refused.', {
              code: first?.extensions?.code,
              errors: message.payload,
            }),
          );
          break;
        }
        case 'complete':
          if (message.id !== id) break;
          stopped = true;
          onStatus('closed');
          socket.close(1000, 'Normal Closure');
          break;
        default:
          socket.close(4400, `Unexpected message type ${message.type}`);
      }
    });
    socket.addEventListener('close', (event) => {
      if (stopped || ended) return;
      clearTimeout(forgetRefusals);
      // Closed for the token (4401; 4403 at its exp or when it is refused): the page signs out.
      const signedOut = event.code === 4401 || (event.code === 4403 && /^Unauthorized/.test(event.reason));
      if (signedOut || FATAL_CLOSE_CODES.has(event.code)) {
        stopped = true;
        onStatus('closed');
        onError(
          new GraphQLRequestError(event.reason || `Live updates closed (${event.code}).`, {
            code: signedOut ? 'UNAUTHENTICATED' : 'SUBSCRIPTION_CLOSED',
          }),
        );
        return;
      }
      if (REFUSAL_CLOSE_CODES.has(event.code)) {
        const code = event.code === 4403 && /^Forbidden/.test(event.reason) ? 'SOCKET_LIMIT' : 'LIVE_UPDATES_REFUSED';
        const reason = event.reason || `Live updates refused (${event.code}).`;
        refused(
          new GraphQLRequestError(reason, { code: /^Too many/.test(reason) ? 'RATE_LIMITED' : code }),
          retryAfterIn(reason),
        );
        return;
      }
      onStatus('offline');
      const delay = Math.min(30_000, 500 * 2 ** attempts++) * (0.5 + Math.random() / 2);
      retryTimer = setTimeout(connect, delay);
    });
  }

  connect();
  return {
    close() {
      if (stopped) return;
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(forgetRefusals);
      if (socket.readyState === WebSocket.OPEN) send({ id, type: 'complete' });
      socket.close(1000, 'Normal Closure');
    },
  };
}
