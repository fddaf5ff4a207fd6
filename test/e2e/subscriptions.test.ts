/**
 * graphql-ws sockets against the real server, with the real graphql-ws client: a socket is
 * authenticated at connection_init (4403, as graphql-ws's protocol names, without a good token), a caller's sockets are bounded
 * (4403) and so are the subscriptions running over them together (LIMIT_EXCEEDED), a socket closes at its token's exp,
 * and operations meet the HTTP endpoint's limits.
 */
import { print } from 'graphql';
import type { Socket } from 'node:net';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { ConsumeCreditsDocument, WorkspaceCreditsChangedDocument } from '../generated/graphql';
import { applyAllowance, expectData } from '../support/graphql-client';
import { startServer, TEST_JWT_SECRET, tokenFor, type ServerProcess } from '../support/server-process';
import { bearer, wsClient } from '../support/ws-client';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({ env: { WS_SOCKETS_PER_CALLER: '2', WS_OPERATIONS_PER_CALLER: '3' } });
});
afterAll(async () => {
  await server?.stop();
});

const WORKSPACE = 'ws-sockets';
const changes = { query: print(WorkspaceCreditsChangedDocument), variables: { workspaceId: WORKSPACE } };

describe('connection_init', () => {
  it.each([
    ['no token', {}, /^Unauthorized: Sign in/],
    ['another scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, /Bearer <token>/],
    [
      'a token signed with another secret',
      bearer(tokenFor(WORKSPACE, 'OWNER', { secret: 'x'.repeat(40) })),
      /not valid/,
    ],
    ['an expired token', bearer(tokenFor(WORKSPACE, 'OWNER', { expiresInSeconds: -10 })), /expired/],
    [
      'a token without exp',
      bearer(jwt.sign({ workspaceId: WORKSPACE, role: 'OWNER' }, TEST_JWT_SECRET, { subject: 'x' })),
      /no exp claim/,
    ],
  ])('closes a socket opened with %s with 4403, saying why', async (_name, params, reason) => {
    const { client, closed } = wsClient(server.url, params);
    const refused = client.iterate(changes).next();
    expect(await closed).toEqual({ code: 4403, reason: expect.stringMatching(reason) as unknown });
    await expect(refused).rejects.toMatchObject({ code: 4403 });
  });

  it("closes a caller's socket past the most it may hold with 4403 Forbidden, and takes it once one is gone", async () => {
    const token = tokenFor(WORKSPACE, 'MEMBER', { subject: 'many-tabs' });
    const open = [wsClient(server.url, bearer(token)), wsClient(server.url, bearer(token))];
    await Promise.all(open.map(({ connected }) => connected));
    // A fresh token of the same caller counts with the others.
    const third = wsClient(
      server.url,
      bearer(tokenFor(WORKSPACE, 'MEMBER', { subject: 'many-tabs', expiresInSeconds: 60 })),
    );
    expect(await third.closed).toEqual({
      code: 4403,
      reason: 'Forbidden: this caller already has 2 sockets open, the most allowed.',
    });
    // Another caller is not counted with this one.
    const other = wsClient(server.url, bearer(tokenFor(WORKSPACE, 'MEMBER', { subject: 'one-tab' })));
    await other.connected;

    await open[0]?.client.dispose();
    await open[0]?.closed;
    const fourth = wsClient(server.url, bearer(token));
    await fourth.connected;
    for (const { client } of [open[1], other, fourth].filter((socket) => socket !== undefined)) await client.dispose();
  });
});

it("refuses a caller's subscription past the most running over its sockets together, and takes one once another ends", async () => {
  await applyAllowance(server.url, WORKSPACE);
  const spend = (key: string) =>
    expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId: WORKSPACE, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: key } },
      tokenFor(WORKSPACE, 'MEMBER'),
    );
  const token = tokenFor(WORKSPACE, 'SERVICE', { subject: 'many-subscriptions' });
  const sockets = [wsClient(server.url, bearer(token)), wsClient(server.url, bearer(token))];
  await Promise.all(sockets.map(({ connected }) => connected));
  const [first, second] = sockets.map(({ client }) => client);
  if (!first || !second) throw new Error('two sockets');
  // Three running: two on one socket, one on the other.
  const running = [first.iterate(changes), first.iterate(changes), second.iterate(changes)];
  const nexts = running.map((updates) => updates.next());
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the subscriptions register

  const refused = await second
    .iterate(changes)
    .next()
    .then(
      () => undefined,
      (errors: { message: string; extensions: Record<string, unknown> }[]) => errors,
    );
  expect(refused?.[0]).toEqual({
    message: 'This caller already has 3 operations running over its sockets, the most allowed; complete one first.',
    extensions: { code: 'LIMIT_EXCEEDED', limit: 3 },
  });
  // Another caller is not counted with this one.
  const other = wsClient(server.url, bearer(tokenFor(WORKSPACE, 'SERVICE', { subject: 'one-subscription' })));
  const othersNext = other.client.iterate(changes).next();
  await new Promise((resolve) => setTimeout(resolve, 300));

  // The refusal ended nothing: every running subscription, and the other caller's, sees the next change.
  await spend('operations-1');
  for (const next of [...nexts, othersNext]) {
    expect(await next).toMatchObject({
      done: false,
      value: { data: { workspaceCreditsChanged: { workspaceId: WORKSPACE } } },
    });
  }

  // One completed by its client makes room for another.
  await running[0]?.return?.(undefined);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const taken = second.iterate(changes).next();
  await new Promise((resolve) => setTimeout(resolve, 300));
  await spend('operations-2');
  expect(await taken).toMatchObject({
    done: false,
    value: { data: { workspaceCreditsChanged: { workspaceId: WORKSPACE } } },
  });
  for (const client of [first, second, other.client]) await client.dispose();
});

it('closes a socket that uses an id again while its operation has not ended, so that no subscription runs uncounted', async () => {
  await applyAllowance(server.url, WORKSPACE);
  const token = tokenFor(WORKSPACE, 'SERVICE', { subject: 'id-reuse' });
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const tcp = new Promise<Socket>((resolve) => socket.on('upgrade', (response) => resolve(response.socket)));
  await new Promise((resolve) => socket.on('open', resolve));
  const acknowledged = new Promise((resolve) => socket.on('message', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: bearer(token) }));
  await acknowledged;
  // Subscribe, complete while the subscription is still being prepared, and subscribe under the same id.
  // In one write, so that the server reads the three together, as a client racing it would have them read.
  const subscribe = JSON.stringify({ id: 'x', type: 'subscribe', payload: changes });
  const wire = await tcp;
  wire.cork();
  socket.send(subscribe);
  socket.send(JSON.stringify({ id: 'x', type: 'complete' }));
  socket.send(subscribe);
  wire.uncork();
  expect(await closed).toEqual({ code: 4409, reason: 'Subscriber for x already exists' });

  // Nothing of that socket runs on: the caller has its whole allowance on a new one.
  const { client } = wsClient(server.url, bearer(token));
  const running = [client.iterate(changes), client.iterate(changes), client.iterate(changes)];
  const nexts = running.map((updates) => updates.next());
  await new Promise((resolve) => setTimeout(resolve, 300));
  await expectData(
    server.url,
    ConsumeCreditsDocument,
    { input: { workspaceId: WORKSPACE, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: 'id-reuse' } },
    tokenFor(WORKSPACE, 'MEMBER'),
  );
  for (const next of nexts) {
    expect(await next).toMatchObject({
      done: false,
      value: { data: { workspaceCreditsChanged: { workspaceId: WORKSPACE } } },
    });
  }
  await client.dispose();
});

it("closes a socket at its token's exp, ending its subscriptions", async () => {
  await applyAllowance(server.url, WORKSPACE);
  const token = tokenFor(WORKSPACE, 'BILLING_MANAGER', { expiresInSeconds: 4 });
  const expiresAt = (jwt.decode(token) as { exp: number }).exp * 1000;
  const { client, connected, closed } = wsClient(server.url, bearer(token));
  await connected;
  const updates = client.iterate(changes);
  const first = updates.next();
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the subscription register
  await expectData(
    server.url,
    ConsumeCreditsDocument,
    { input: { workspaceId: WORKSPACE, action: 'ACTION_PLAN_GENERATION', units: 1, idempotencyKey: 'before-exp' } },
    tokenFor(WORKSPACE, 'MEMBER'),
  );
  // The token was good: the subscription streams.
  expect(await first).toMatchObject({
    done: false,
    value: { data: { workspaceCreditsChanged: { workspaceId: WORKSPACE } } },
  });

  const afterExpiry = updates.next();
  expect(await closed).toEqual({ code: 4403, reason: 'Unauthorized: the token has expired.' });
  expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
  await expect(afterExpiry).rejects.toMatchObject({ code: 4403 });
});

describe('operations over a socket', () => {
  const run = async (query: string, more: { variables?: Record<string, unknown>; operationName?: string } = {}) => {
    const { client } = wsClient(server.url, bearer(tokenFor(WORKSPACE, 'OWNER', { subject: 'limits' })));
    try {
      return await client
        .iterate({ query, ...more })
        .next()
        .then(
          () => undefined,
          (errors: { message: string; extensions: Record<string, unknown> }[]) => errors,
        );
    } finally {
      await client.dispose();
    }
  };

  it('meets the alias limit', async () => {
    const aliases = Array.from({ length: 21 }, (_, i) => `a${i}: available`).join(' ');
    const errors = await run(`subscription { workspaceCreditsChanged(workspaceId: "${WORKSPACE}") { ${aliases} } }`);
    expect(errors?.[0]?.message).toBe('The query uses 21 aliases; at most 20 are allowed.');
    expect(errors?.[0]?.extensions).toEqual({ code: 'TOO_MANY_ALIASES', limit: 20, actual: 21 });
  });

  it('refuses variables that are missing or of the wrong type, and an operation it cannot pick, as HTTP does', async () => {
    const changes = 'subscription ($w: ID!) { workspaceCreditsChanged(workspaceId: $w) { available } }';
    for (const variables of [{}, { w: { a: 1 } }]) {
      const errors = await run(changes, { variables });
      expect(errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT' });
      expect(errors?.[0]?.message).toMatch(/^Variable "\$w"/);
    }
    const two = `query A { plans { id } } query B { plans { id } }`;
    expect((await run(two))?.[0]).toMatchObject({
      message: 'Must provide operation name if query contains multiple operations.',
      extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
    });
    expect((await run(two, { operationName: 'C' }))?.[0]).toMatchObject({
      message: 'Unknown operation named "C".',
      extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
    });
  });

  it('meets the cost limit', async () => {
    const page = (alias: string) =>
      `${alias}: creditLedger(workspaceId: "${WORKSPACE}", first: 200) { edges { cursor node { id type occurredAt credits balanceAfter source action units actorId reference refundedCredits grants { grantId source credits } } } }`;
    const errors = await run(`{ ${page('a')} ${page('b')} ${page('c')} }`);
    expect(errors?.[0]?.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 10_000, actual: 14_403 });
  });
});
