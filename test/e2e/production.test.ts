/**
 * What production mode must not give away or accept: schema details in error messages (with
 * introspection off, a "Did you mean …?" would hand the schema out one field at a time), over HTTP
 * and over graphql-ws, and a guessable signing secret.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { adminToken, newDataDir, startServer, type ServerProcess } from '../support/server-process';
import { bearer, wsClient } from '../support/ws-client';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({ env: { NODE_ENV: 'production' } });
});
afterAll(async () => {
  await server?.stop();
});

const post = async (body: unknown) => {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken()}` },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
};

it.each([
  ['a misspelt field', { query: '{ workspaceCredit(workspaceId: "w") { available } }' }],
  ['a misspelt argument', { query: '{ workspaceCredits(workspace: "w") { available } }' }],
  ['a misspelt type', { query: 'query ($w: Id!) { workspaceCredits(workspaceId: $w) { available } }' }],
  [
    'a misspelt enum value in a variable',
    {
      query: 'query ($a: CreditAction!) { estimateCredits(workspaceId: "w", action: $a) { credits } }',
      variables: { a: 'ORG_CHART_SYNK' },
    },
  ],
])('names no other schema element when refusing %s', async (_name, body) => {
  const { errors } = await post(body);
  expect(errors?.length).toBeGreaterThan(0);
  for (const error of errors ?? []) expect(error.message).not.toMatch(/did you mean/i);
});

it('refuses introspection without naming the framework or how to turn it on', async () => {
  const { errors } = await post({ query: '{ __schema { types { name } } }' });
  expect(errors?.[0]).toMatchObject({
    message: 'Introspection is not allowed on this server.',
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
  });
  expect(JSON.stringify(errors)).not.toMatch(/apollo/i);
});

it('still says what was wrong', async () => {
  const { errors } = await post({ query: '{ workspaceCredit(workspaceId: "w") { available } }' });
  expect(errors?.[0]).toMatchObject({
    message: 'Cannot query field "workspaceCredit" on type "Query".',
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
  });
});

it('refuses at once, without parsing it, a document longer than 1 KiB from a caller without a valid token', async () => {
  const anonymous = async (query: string, authorization?: string) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, body: (await response.json()) as Awaited<ReturnType<typeof post>> };
  };
  // Fifty unused fragments of repeated fields: tens of milliseconds of validation each time.
  const burn = `{ __typename } ${Array.from({ length: 50 }, (_, i) => `fragment F${i} on Query { ${'plans { id name includedCredits } '.repeat(16)} }`).join(' ')}`;
  for (const authorization of [undefined, 'Bearer not.a.token']) {
    const refused = await anonymous(burn, authorization);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
  }
  // A liveness check still works without a token, and a member's long document is taken.
  expect(await anonymous('{ __typename }')).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
  const long = `query Plans { ${'plans { id } '.repeat(16)} } ${'#'.repeat(2000)}`;
  expect((await anonymous(long, `Bearer ${adminToken()}`)).status).toBe(200);
});

describe('over graphql-ws', () => {
  const errorsOf = async (query: string) => {
    const { client } = wsClient(server.url, bearer(adminToken()));
    try {
      return await client
        .iterate({ query })
        .next()
        .then(
          () => [],
          (errors: { message: string; extensions?: { code?: string } }[]) => errors,
        );
    } finally {
      await client.dispose();
    }
  };

  it('refuses introspection, as over HTTP', async () => {
    const [error] = await errorsOf('{ __schema { types { name } } }');
    expect(error).toMatchObject({
      message: 'Introspection is not allowed on this server.',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });

  it('refuses a subscription whose root field is skipped or included by a condition, and keeps the socket', async () => {
    const { client } = wsClient(server.url, bearer(adminToken()));
    const errorsOn = (query: string, variables?: Record<string, unknown>) =>
      client
        .iterate({ query, ...(variables && { variables }) })
        .next()
        .then(
          () => [],
          (errors: { message: string; extensions?: { code?: string } }[]) => errors,
        );
    try {
      const root = 'workspaceCreditsChanged(workspaceId: "w")';
      for (const [query, variables] of [
        [`subscription ($s: Boolean!) { ${root} @skip(if: $s) { available } }`, undefined],
        [`subscription { ${root} @skip(if: true) { available } }`, undefined],
        [`subscription W { ...F } fragment F on Subscription { ${root} @include(if: false) { available } }`, undefined],
        [`subscription ($i: Boolean!) { ... @include(if: $i) { ${root} { available } } }`, { i: true }],
      ] as const) {
        const [error] = await errorsOn(query, variables);
        expect(error).toMatchObject({
          message: expect.stringMatching(/may not use @skip or @include on its root field\.$/) as unknown,
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
        });
      }
      // The same socket goes on answering.
      const [next] = await errorsOn('subscription { workspaceCreditsChanged(workspaceId: "w") { availabl } }');
      expect(next).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    } finally {
      await client.dispose();
    }
    // Over HTTP, refused as invalid rather than answered 500.
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken()}` },
      body: JSON.stringify({
        query: 'subscription ($s: Boolean!) { workspaceCreditsChanged(workspaceId: "w") @skip(if: $s) { available } }',
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Awaited<ReturnType<typeof post>>).errors?.[0]?.extensions).toEqual({
      code: 'GRAPHQL_VALIDATION_FAILED',
    });
  });

  it('names no other schema element', async () => {
    const [error] = await errorsOf('subscription { workspaceCreditsChange(workspaceId: "w") { available } }');
    expect(error).toEqual({
      message: 'Cannot query field "workspaceCreditsChange" on type "Subscription".',
      locations: [{ line: 1, column: 16 }],
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });
});

describe('the signing secret', () => {
  /** Why the server refused to start; a server that started is stopped and fails the test. */
  const refusal = (env: Record<string, string>): Promise<string> =>
    startServer({ env }).then(
      async (started) => {
        await started.stop();
        throw new Error('the server started');
      },
      (error: Error) => error.message,
    );

  it.each([['production'], ['development']])('must be at least 32 bytes (NODE_ENV=%s)', async (nodeEnv) => {
    const message = await refusal({ NODE_ENV: nodeEnv, AUTH_JWT_SECRET: 'x'.repeat(31) });
    expect(message).toMatch(/AUTH_JWT_SECRET is 31 bytes; it must be at least 32/);
    expect(message).not.toMatch(/x{31}/);
  });

  it('is refused by npm run token too, saying why, without a stack trace', () => {
    const cli = spawnSync(process.execPath, [join(__dirname, '../../dist/src/cli/token.js'), '--workspace', 'w'], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', AUTH_JWT_SECRET: 'short' },
      encoding: 'utf8',
    });
    expect(cli.status).toBe(1);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toMatch(/AUTH_JWT_SECRET is 5 bytes; it must be at least 32/);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a token lifetime that is not a whole number of seconds from 1, without a stack trace', () => {
    const secret = 'a'.repeat(40);
    for (const expiresIn of ['abc', '-5', '0']) {
      const cli = spawnSync(
        process.execPath,
        [join(__dirname, '../../dist/src/cli/token.js'), '--workspace', 'w', '--expires-in', expiresIn],
        { env: { PATH: process.env.PATH, AUTH_JWT_SECRET: secret }, encoding: 'utf8' },
      );
      expect(cli.status).toBe(1);
      expect(cli.stdout).toBe('');
      expect(cli.stderr).toContain(`Not a lifetime in seconds: ${expiresIn} (a whole number from 1)`);
      expect(cli.stderr).not.toMatch(/\n\s+at /);
    }
    // One that ends after 9999-12-31 would make a token the server refuses.
    const forever = spawnSync(
      process.execPath,
      [join(__dirname, '../../dist/src/cli/token.js'), '--workspace', 'w', '--expires-in', '300000000000'],
      { env: { PATH: process.env.PATH, AUTH_JWT_SECRET: secret }, encoding: 'utf8' },
    );
    expect(forever.status).toBe(1);
    expect(forever.stdout).toBe('');
    expect(forever.stderr).toContain('A lifetime of 300000000000 seconds ends after 9999-12-31');
  });

  it('makes npm run token refuse a workspace or subject the server would refuse, and say when it made a secret', () => {
    const token = (args: string[], env: Record<string, string>) =>
      spawnSync(process.execPath, [join(__dirname, '../../dist/src/cli/token.js'), ...args], {
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
      });
    const secret = { AUTH_JWT_SECRET: 'a'.repeat(40) };
    for (const [args, rule] of [
      [['--workspace', 'acme/x'], /workspaceId must be 1-128 letters/],
      [['--workspace', 'w', '--subject', 'a\u001b[2Jb'], /sub: 1-256 characters on one line/],
      [['--workspace', 'w', '--subject', 'x'.repeat(257)], /sub: 1-256 characters on one line/],
    ] as const) {
      const refused = token([...args], secret);
      expect(refused.status).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(rule);
    }
    // Outside production without AUTH_JWT_SECRET, a DATA_DIR no server has used gets a new secret.
    const dataDir = newDataDir();
    const first = token(['--workspace', 'w'], { DATA_DIR: dataDir });
    expect(first.status).toBe(0);
    expect(first.stderr).toContain(
      `No server has used DATA_DIR (${dataDir}) yet: a new development secret was made there.`,
    );
    const second = token(['--workspace', 'w'], { DATA_DIR: dataDir });
    expect(second.stderr).toBe('');
  });

  it('counts bytes, not characters', async () => {
    // 16 characters of 2 bytes each: 32 bytes, accepted.
    const started = await startServer({ env: { NODE_ENV: 'production', AUTH_JWT_SECRET: 'é'.repeat(16) } });
    // Stopped the instant it says it listens: its SIGTERM handler is already in place.
    expect(await started.stop()).toBe(0);
  });
});

it('answers /readyz to anyone with the verdict only: no log head, positions or lags', async () => {
  const response = await fetch(`${server.url}/readyz`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status: 'ready', store: { reachable: true } });
  for (const key of ['head', 'projected', 'lag', 'reactions']) expect(body).not.toHaveProperty(key);
  expect(JSON.stringify(body)).not.toMatch(/"(projected|lag|pending)"/);
});
