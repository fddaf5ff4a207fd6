/**
 * /graphql over plain HTTP: what reaches Apollo, and what is refused before it with a GraphQL-shaped
 * error (a body that is not JSON, one that is too large, a subscription), leaving the server serving.
 */
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { headPosition } from '../support/graphql-client';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken()}`, ...headers },
    body,
  });

/** A body sent as a stream, in chunks and without a content-length. */
const postStream = (body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    duplex: 'half',
  });

let tags = 0;

/**
 * Posts a body the server refuses before it has all arrived. The server answers and closes the
 * connection while the client may still be writing: a client that reads the answer first sees its
 * status; one whose next write meets the closed connection first fails (EPIPE, ECONNRESET, or
 * undici's "other side closed") and never reads it, which a loaded machine makes likely. Both are
 * the server doing its job, so this returns what the client saw, and the status the server's
 * request log gives the request.
 */
async function refusedMidBody(
  send: (headers: Record<string, string>) => Promise<Response>,
): Promise<{ seen: number | string | undefined; code: string | undefined; answered: number }> {
  const tag = `mid-body-${process.pid}-${++tags}`;
  const seen = await send({ 'x-test-request': tag }).then(
    // The body of the answer can be cut off by the same close: then only its status is seen.
    async (response) => ({ seen: response.status, code: await codeOf(response).catch(() => undefined) }),
    (error: Error & { cause?: { code?: string } }) => ({ seen: error.cause?.code, code: undefined }),
  );
  for (;;) {
    const entry = server.logs.find(
      (log) => (log.req as { headers?: Record<string, string> } | undefined)?.headers?.['x-test-request'] === tag,
    );
    if (entry) return { ...seen, answered: (entry.res as { statusCode: number }).statusCode };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The client saw the 413 (and its code, unless the close cut it off) or was cut off writing; the server answered 413. */
function expectRefusedAsTooLarge(outcome: Awaited<ReturnType<typeof refusedMidBody>>): void {
  if (typeof outcome.seen === 'number') {
    expect(outcome.seen).toBe(413);
    if (outcome.code !== undefined) expect(outcome.code).toBe('PAYLOAD_TOO_LARGE');
  } else {
    expect(['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET']).toContain(outcome.seen);
  }
  expect(outcome.answered).toBe(413);
}

const codeOf = async (response: Response) =>
  ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code;

const catalogQuery = JSON.stringify({ query: '{ creditPackages { id credits } }' });

it('answers a query posted as JSON, with the query string ignored', async () => {
  const response = await fetch(`${server.url}/graphql?ignored=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${adminToken()}` },
    body: catalogQuery,
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { data: { creditPackages: unknown[] } };
  expect(body.data.creditPackages.length).toBeGreaterThan(0);
});

it('takes a media type in any case, as media types are', async () => {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'Application/JSON; Charset=UTF-8', authorization: `Bearer ${adminToken()}` },
    body: catalogQuery,
  });
  expect(response.status).toBe(200);
});

it('answers a GET query that carries a token, as urql and Apollo Client send them, and still refuses one that could be CSRF', async () => {
  const url = `${server.url}/graphql?query=${encodeURIComponent('{ creditPackages { id } }')}`;
  const withToken = await fetch(url, { headers: { authorization: `Bearer ${adminToken()}` } });
  expect(withToken.status).toBe(200);
  const body = (await withToken.json()) as { data: { creditPackages: unknown[] } };
  expect(body.data.creditPackages.length).toBeGreaterThan(0);
  // A cross-site <img> or form sends no Authorization and no preflighted header: refused.
  const simple = await fetch(url);
  expect(simple.status).toBe(400);
  expect(await simple.text()).toContain('Cross-Site Request Forgery');
});

it('refuses a body that is not JSON with 400 BAD_REQUEST', async () => {
  const response = await post('{"query": "{ __typename }"');
  expect(response.status).toBe(400);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(await response.json()).toEqual({
    errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }],
  });
});

it('refuses a body over 1 MiB with 413 PAYLOAD_TOO_LARGE, declared or not', async () => {
  const huge = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(1024 * 1024) } });
  expectRefusedAsTooLarge(await refusedMidBody((headers) => post(huge, headers)));
  // Sent in chunks, without a content-length: refused once the limit is passed.
  const chunks = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 9; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(128 * 1024)));
      controller.close();
    },
  });
  expectRefusedAsTooLarge(await refusedMidBody((headers) => postStream(chunks, headers)));
});

it('takes a gzip- or brotli-compressed body, and refuses other encodings with 415', async () => {
  for (const [encoding, compress] of [
    ['gzip', gzipSync],
    ['br', brotliCompressSync],
  ] as const) {
    const response = await post(compress(Buffer.from(catalogQuery)), { 'content-encoding': encoding });
    expect(response.status).toBe(200);
  }
  const corrupt = await post(Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
  expect(corrupt.status).toBe(400);
  const unknown = await post(Buffer.from(catalogQuery), { 'content-encoding': 'compress' });
  expect(unknown.status).toBe(415);
  expect(await codeOf(unknown)).toBe('UNSUPPORTED_MEDIA_TYPE');
  // A small body that expands past the limit is refused like a large one.
  const bomb = gzipSync(Buffer.from(JSON.stringify({ query: '{ __typename }', pad: ' '.repeat(2 * 1024 * 1024) })));
  expect((await post(bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
});

it('answers 413 while a large body is still arriving', async () => {
  // 8 MiB sent slowly: the answer comes before the body has ended.
  let sent = 0;
  const slow = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= 64) return controller.close();
      sent += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      controller.enqueue(new Uint8Array(128 * 1024).fill(32));
    },
  });
  expectRefusedAsTooLarge(await refusedMidBody((headers) => postStream(slow, headers)));
  // However the client saw it, it was cut off before the end of the body.
  expect(sent).toBeLessThan(64);
});

it('leaves bodies of other types to Apollo, which asks for JSON', async () => {
  const response = await post('query=%7B__typename%7D', { 'content-type': 'text/plain' });
  expect(response.status).toBe(400);
});

it('refuses variables holding text that is not well-formed Unicode (a lone surrogate), recording nothing', async () => {
  const spend = JSON.stringify({
    query: 'mutation ($input: ConsumeCreditsInput!) { consumeCredits(input: $input) { id } }',
    variables: {
      input: { workspaceId: 'ws-text', action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: 'k', reference: 'x' },
    },
  }).replace('"reference":"x"', '"reference":"\\ud800"');
  expect(spend).toContain('\\ud800');
  const head = await headPosition(server.url);
  const response = await post(spend);
  expect(response.status).toBe(400);
  const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
  expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
  expect(body.errors[0]?.message).toContain('variables.input.reference is not well-formed Unicode');
  expect(await headPosition(server.url)).toBe(head);
  // Variables nested thousands deep are refused as such, not a 500 (a stack overflow).
  const deep = `{"query":"{ creditPackages { id } }","variables":{"note":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
  const deepAnswer = await post(deep);
  expect(deepAnswer.status).toBe(400);
  expect(((await deepAnswer.json()) as { errors: { message: string }[] }).errors[0]?.message).toContain(
    'is nested more than 64 deep',
  );
  // A pair of surrogates (an emoji) is text like any other.
  const emoji = JSON.stringify({ query: '{ creditPackages { id } }', variables: { note: '\u{1F600}' } });
  expect((await post(emoji)).status).toBe(200);
});

it('refuses a subscription sent over HTTP with 400 BAD_REQUEST, whichever workspace it names: it is served over graphql-ws', async () => {
  const member = tokenFor('ws-http-subscription', 'MEMBER');
  for (const workspaceId of ['ws-http-subscription', 'someone-else']) {
    const query = `subscription { workspaceCreditsChanged(workspaceId: "${workspaceId}") { available } }`;
    const response = await post(JSON.stringify({ query }), { authorization: `Bearer ${member}` });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      data?: unknown;
      errors: { message: string; extensions: { code: string } }[];
    };
    expect(body.data).toBeUndefined();
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0]?.message).toContain('graphql-ws');
  }
});

it('keeps serving after refusing', async () => {
  const response = await post(catalogQuery);
  expect(response.status).toBe(200);
  expect((await fetch(`${server.url}/graphql-other`)).status).toBe(404);
});

it("logs a line for Stripe's webhooks and GraphQL over GET, not for probes and /metrics", async () => {
  const tag = `request-log-${process.pid}`;
  const headers = { 'x-test-request': tag, authorization: `Bearer ${adminToken()}` };
  const stripe = await fetch(`${server.url}/webhooks/stripe`, { method: 'POST', headers, body: '{}' });
  const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
    headers: { ...headers, 'apollo-require-preflight': 'true' },
  });
  expect(get.status).toBe(200);
  for (const path of ['/healthz', '/readyz', '/metrics']) await fetch(`${server.url}${path}`, { headers });
  // Logged after the probes: once its line is in, theirs would be too.
  await post(catalogQuery, { 'x-test-request': tag });
  const logged = () =>
    server.logs
      .filter(
        (log) => (log.req as { headers?: Record<string, string> } | undefined)?.headers?.['x-test-request'] === tag,
      )
      .map((log) => ({
        url: (log.req as { url: string }).url.split('?')[0],
        status: (log.res as { statusCode: number }).statusCode,
      }));
  for (let waited = 0; logged().length < 3 && waited < 5000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(logged()).toEqual([
    { url: '/webhooks/stripe', status: stripe.status },
    { url: '/graphql', status: 200 },
    { url: '/graphql', status: 200 },
  ]);
});
