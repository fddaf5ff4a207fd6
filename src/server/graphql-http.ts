/**
 * /graphql over plain node:http: the request handed to Apollo Server's executeHTTPGraphQLRequest
 * and its answer written back, as @as-integrations/express5 does, without Express's router, body
 * parser and response helpers in between. Under load those cost more per request than Apollo's own
 * pipeline (the profile of `{ __typename }` at 50 connections); every other route stays on Express.
 *
 * A body may be gzip, deflate or br encoded, as Express's JSON parser allowed. One that is not JSON,
 * is larger than the limit (before or after expanding) or is encoded otherwise is answered with a
 * GraphQL-shaped error (400 BAD_REQUEST, 413 PAYLOAD_TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE) and
 * never reaches Apollo.
 */
import type { GraphQLError } from 'graphql';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { illFormedTextAt, illFormedTextMessage } from './well-formed-text';

export interface GraphQLHttpOptions<TContext> {
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: number;
  /**
   * Refuses a document before Apollo parses it: one nested too deep to parse and validate cheaply
   * (operation-limits.ts), or more than an anonymous caller may send. Answered with the status in
   * the error's `http` extension, 400 without one.
   */
  documentRefusal?: (source: string, context: TContext) => GraphQLError | undefined;
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function graphqlHttpHandler<TContext extends BaseContext>(
  apollo: ApolloServer<TContext>,
  options: GraphQLHttpOptions<TContext>,
): (req: IncomingMessage, res: ServerResponse, context: TContext) => void {
  apollo.assertStarted('graphqlHttpHandler()');
  // The caller builds the context: it has read the request's token already (to count its rate).
  return (req, res, context) => {
    void handle(apollo, options, req, res, context).catch((error: unknown) => {
      if (error instanceof RequestError) return answerError(res, error);
      // Apollo answers errors inside GraphQL itself; anything here is the connection failing.
      if (!res.headersSent) answerError(res, new RequestError(500, 'INTERNAL_SERVER_ERROR', 'The request failed.'));
      else res.destroy();
    });
  };
}

async function handle<TContext extends BaseContext>(
  apollo: ApolloServer<TContext>,
  options: GraphQLHttpOptions<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
  context: TContext,
): Promise<void> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(', ') : value;
    // Apollo reads the media type as written; it is case-insensitive.
    headers.set(key, key === 'content-type' ? joined.toLowerCase() : joined);
  }
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const search = query < 0 ? '' : url.slice(query);
  const body = await readJsonBody(req, options.bodyLimitBytes);
  const method = (req.method ?? 'GET').toUpperCase();
  const illFormed = illFormedTextAt(variablesOf(method, body, search));
  if (illFormed) throw new RequestError(400, 'BAD_USER_INPUT', illFormedTextMessage(illFormed));
  const source = sourceOf(method, body, search);
  const refused = source === undefined ? undefined : options.documentRefusal?.(source, context);
  if (refused) {
    res.statusCode = (refused.extensions.http as { status?: number } | undefined)?.status ?? 400;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    const extensions = Object.fromEntries(Object.entries(refused.extensions).filter(([key]) => key !== 'http'));
    res.end(JSON.stringify({ errors: [{ message: refused.message, extensions }] }));
    return;
  }
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: {
      method,
      headers,
      search,
      body,
    },
    context: async () => context,
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/**
 * The query text Apollo will run: the URL's for a GET (whatever the body holds, as Apollo reads it),
 * the body's otherwise; undefined when there is none Apollo would take.
 */
function sourceOf(method: string, body: unknown, search: string): string | undefined {
  if (method === 'GET') return new URLSearchParams(search).get('query') ?? undefined;
  if (typeof body === 'object' && body !== null && 'query' in body) {
    const { query } = body;
    return typeof query === 'string' ? query : undefined;
  }
  return undefined;
}

/** The variables Apollo will take: the URL's for a GET, the body's otherwise (undefined when unreadable: Apollo says so). */
function variablesOf(method: string, body: unknown, search: string): unknown {
  if (method !== 'GET')
    return typeof body === 'object' && body !== null && 'variables' in body ? body.variables : undefined;
  const inUrl = new URLSearchParams(search).get('variables');
  if (inUrl === null) return undefined;
  try {
    return JSON.parse(inUrl) as unknown;
  } catch {
    return undefined;
  }
}

/** The parsed body of a JSON request; undefined for any other (Apollo then says what it expects). */
async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  // Media types are case-insensitive: Application/JSON is JSON.
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const json = type.startsWith('application/json') || type.includes('+json');
  if (Number(req.headers['content-length']) > limit) throw tooLarge(limit);
  const raw = await readBody(req, limit);
  if (!json || raw.length === 0) return undefined;
  const bytes = decompress(raw, req.headers['content-encoding'], limit);
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new RequestError(400, 'BAD_REQUEST', 'The request body is not valid JSON.');
  }
}

/**
 * The whole body, up to `limit` bytes. Past the limit it stops listening without destroying the
 * request, so that the 413 can still be written (and the connection closed after it).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) return void chunks.push(chunk);
      stop();
      req.pause();
      reject(tooLarge(limit));
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks, length));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onClose = () => onError(new Error('The client went away before the body ended.'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** A body sent gzip-, deflate- or brotli-compressed, expanded to at most `limit` bytes. */
function decompress(raw: Buffer, encoding: string | undefined, limit: number): Buffer {
  const options = { maxOutputLength: limit };
  try {
    switch ((encoding ?? 'identity').toLowerCase()) {
      case 'identity':
        return raw;
      case 'gzip':
        return gunzipSync(raw, options);
      case 'deflate':
        return inflateSync(raw, options);
      case 'br':
        return brotliDecompressSync(raw, options);
    }
  } catch (error) {
    if (error instanceof RangeError) throw tooLarge(limit);
    throw new RequestError(400, 'BAD_REQUEST', `The request body is not valid ${encoding} data.`);
  }
  throw new RequestError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${encoding} is not supported.`);
}

const tooLarge = (limit: number) =>
  new RequestError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes.`);

function answerError(res: ServerResponse, error: RequestError): void {
  res.statusCode = error.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  // The rest of an oversized body is not worth reading.
  if (error.status === 413) res.setHeader('connection', 'close');
  res.end(JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code } }] }));
}
