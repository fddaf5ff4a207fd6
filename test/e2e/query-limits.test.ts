/**
 * Queries that ask for too much are refused over HTTP before anything runs: the 140 KB query of
 * 1,000 aliased ledger pages that once built a 55 MB answer, too many aliases, queries nested too
 * deep, and queries whose pages add up past the cost limit, also when the page size comes in a
 * variable.
 */
import { request as httpRequest } from 'node:http';
import { startServer, tokenFor, type ServerProcess } from '../support/server-process';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

interface Answer {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions: Record<string, unknown> }[] };
}

const post = async (query: string, variables: Record<string, unknown> = {}): Promise<Answer> => {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenFor('ws-limits', 'MEMBER')}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
};

/** A GET with a JSON body (fetch sends none with a GET): what a client trying to smuggle a query would send. */
const getWithBody = (path: string, body: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const request = httpRequest(`${server.url}${path}`, {
      method: 'GET',
      headers: {
        authorization: `Bearer ${tokenFor('ws-limits', 'MEMBER')}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    request.on('error', reject);
    request.end(body);
  });

const page = (alias: string, first: string) =>
  `${alias}: creditLedger(workspaceId: "ws-limits", first: ${first}) { edges { cursor node { id type occurredAt credits balanceAfter source action units actorId reference refundedCredits grants { grantId source credits } } } }`;

it('refuses the 140 KB query of 1,000 aliased ledger pages while parsing it, with QUERY_TOO_LARGE', async () => {
  const attack = `{ ${Array.from({ length: 1000 }, (_, i) => page(`a${i}`, '200')).join(' ')} }`;
  expect(attack.length).toBeGreaterThan(140_000);
  const { status, body } = await post(attack);
  expect(status).toBe(400);
  expect(body).toEqual({
    errors: [
      {
        message: 'The query has more than 10000 tokens; at most 10000 are allowed.',
        extensions: { code: 'QUERY_TOO_LARGE', limit: 10_000 },
      },
    ],
  });
});

it('refuses 1,000 aliases of a small field with TOO_MANY_ALIASES, the limit and the count', async () => {
  const { status, body } = await post(`{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: plans { id }`).join(' ')} }`);
  expect(status).toBe(400);
  expect(body.data).toBeUndefined();
  expect(body.errors).toEqual([
    {
      message: 'The query uses 1000 aliases; at most 20 are allowed.',
      extensions: expect.objectContaining({ code: 'TOO_MANY_ALIASES', limit: 20, actual: 1000 }) as unknown,
    },
  ]);
});

it('refuses a query nested deeper than 8 with QUERY_TOO_DEEP', async () => {
  const deep =
    '{ __type(name: "Query") { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } }';
  const { status, body } = await post(deep);
  expect(status).toBe(400);
  expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', limit: 8, actual: 10 });
});

it('refuses inline fragments nested a thousand deep before parsing them, over POST and GET, with QUERY_TOO_DEEP', async () => {
  // Inline fragments add no field depth; nested a thousand deep they once cost 35 ms each, and at
  // 2,000 a stack overflow answered 500.
  const nested = (levels: number) => `{ ${'...on Query { '.repeat(levels)}__typename${' }'.repeat(levels)} }`;
  for (const levels of [1_000, 1_990]) {
    const { status, body } = await post(nested(levels));
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', limit: 24, actual: levels + 1 });
  }
  const viaGet = await fetch(`${server.url}/graphql?query=${encodeURIComponent(nested(200))}`, {
    headers: { authorization: `Bearer ${tokenFor('ws-limits', 'MEMBER')}`, 'apollo-require-preflight': 'true' },
  });
  expect(viaGet.status).toBe(400);
  // A GET runs the query in its URL, whatever its body says: the body cannot vouch for it.
  const smuggled = await getWithBody(
    `/graphql?query=${encodeURIComponent(nested(200))}`,
    JSON.stringify({ query: '{ __typename }' }),
  );
  expect(smuggled.status).toBe(400);
  expect(smuggled.body).toContain('QUERY_TOO_DEEP');
  expect(((await viaGet.json()) as Answer['body']).errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP' });
  // A few levels are a query like any other.
  const { status, body } = await post(nested(3));
  expect(status).toBe(200);
  expect(body.data).toEqual({ __typename: 'Query' });
});

it('refuses pages that add up past the cost limit with QUERY_TOO_COMPLEX, as literals or variables', async () => {
  const literal = await post(`{ ${page('a', '200')} ${page('b', '200')} ${page('c', '200')} }`);
  expect(literal.status).toBe(400);
  expect(literal.body.data).toBeUndefined();
  expect(literal.body.errors?.[0]?.extensions).toMatchObject({
    code: 'QUERY_TOO_COMPLEX',
    limit: 10_000,
    actual: 14_403,
  });

  // One document: small pages are answered, large ones refused, however often it is sent.
  const sized = `query ($n: Int!) { ${page('a', '$n')} ${page('b', '$n')} ${page('c', '$n')} }`;
  for (const [n, code] of [
    [10, undefined],
    [200, 'QUERY_TOO_COMPLEX'],
    [10, undefined],
    [200, 'QUERY_TOO_COMPLEX'],
  ] as const) {
    const { status, body } = await post(sized, { n });
    expect([status, body.errors?.[0]?.extensions.code]).toEqual([code ? 400 : 200, code]);
  }
});

it('answers within the limits as before', async () => {
  const { status, body } = await post(`{ ${page('a', '200')} ${page('b', '200')} }`);
  expect(status).toBe(200);
  expect(body).toEqual({ data: { a: { edges: [] }, b: { edges: [] } } });
});

it('refuses, without a token and at once, fragments that spread each other twice over (QUERY_TOO_COMPLEX) and a field repeated (FIELD_REPEATED)', async () => {
  const anonymous = async (query: string): Promise<Answer> => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  };
  // 905 bytes that stand for 2^22 fields: the cost estimate once spent 13 s on them, blocking every caller.
  const levels = 22;
  const fanOut = [
    'query { ...F0 }',
    ...Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`),
    `fragment F${levels} on Query { __typename }`,
  ].join('\n');
  const refused = await anonymous(fanOut);
  expect(refused.status).toBe(400);
  expect(refused.body.errors?.[0]?.extensions).toEqual({
    code: 'QUERY_TOO_COMPLEX',
    limit: 10_000,
    actual: 2 ** levels,
  });
  const repeated = await anonymous(`{ ${'workspaceCredits(workspaceId: "ws-limits") { available } '.repeat(450)} }`);
  expect(repeated.status).toBe(400);
  expect(repeated.body.errors?.[0]?.extensions).toEqual({ code: 'FIELD_REPEATED', limit: 16, actual: 450 });
  // The server is free for everyone else.
  const { status, body } = await post('{ workspaceCredits(workspaceId: "ws-limits") { available } }');
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
});
