/**
 * Durability and lifecycle of the real server process: acknowledged writes survive kill -9, the
 * projection resumes from its checkpoint, a rebuild reproduces the read model, SIGTERM drains
 * in-flight requests while answering new ones 503, and production mode hides internals.
 */
import { execFileSync } from 'node:child_process';
import { Agent, request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { join, resolve } from 'node:path';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { print } from 'graphql';
import { ApplyPlanAllowanceDocument, ConsumeCreditsDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { runCreditsCli, spawnCreditsCli } from '../support/cli';
import { execute, expectData } from '../support/graphql-client';
import {
  adminToken,
  newDataDir,
  startServer,
  TEST_JWT_SECRET,
  tokenFor,
  type ServerProcess,
} from '../support/server-process';

const DAY = 24 * 60 * 60 * 1000;
const period = () => ({
  periodStart: new Date(Date.now() - DAY).toISOString(),
  periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
});
const running: ServerProcess[] = [];
const start = async (...args: Parameters<typeof startServer>) => {
  const server = await startServer(...args);
  running.push(server);
  return server;
};
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop('SIGKILL')));
});

async function seed(server: ServerProcess, workspaceId: string): Promise<void> {
  await expectData(
    server.url,
    ApplyPlanAllowanceDocument,
    { input: { workspaceId, planId: 'scale', ...period() } },
    adminToken(),
  );
}
const spendInput = (workspaceId: string, key: string) => ({
  input: { workspaceId, action: 'PERSON_ENRICHMENT' as const, units: 3, idempotencyKey: key },
});
const balanceOf = async (server: ServerProcess, workspaceId: string) =>
  (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken())).workspaceCredits;

it('keeps every acknowledged spend across kill -9 and answers retries with the first result', async () => {
  const dataDir = newDataDir();
  const workspaceId = 'ws-kill9';
  const first = await start({ dataDir });
  await seed(first, workspaceId);
  const member = tokenFor(workspaceId, 'MEMBER');
  const acknowledged = await Promise.all(
    Array.from({ length: 25 }, (_, i) =>
      execute(first.url, ConsumeCreditsDocument, spendInput(workspaceId, `k${i}`), member),
    ),
  );
  expect(acknowledged.every((response) => response.data?.consumeCredits)).toBe(true);
  await first.stop('SIGKILL');

  const second = await start({ dataDir });
  expect(await balanceOf(second, workspaceId)).toMatchObject({
    available: 20_000 - 25 * 21,
    included: { consumed: 25 * 21 },
  });
  const retry = await expectData(second.url, ConsumeCreditsDocument, spendInput(workspaceId, 'k7'), member);
  expect(retry.consumeCredits).toEqual(acknowledged[7]?.data?.consumeCredits);
  expect((await balanceOf(second, workspaceId)).available).toBe(20_000 - 25 * 21);
});

it('resumes the projection from its checkpoint with events appended while the server was down', async () => {
  const dataDir = newDataDir();
  const workspaceId = 'ws-resume';
  const first = await start({ dataDir });
  await seed(first, workspaceId);
  await expectData(
    first.url,
    ConsumeCreditsDocument,
    spendInput(workspaceId, 'before'),
    tokenFor(workspaceId, 'MEMBER'),
  );
  expect(await first.stop('SIGTERM')).toBe(0);

  // Another writer (a second replica, an import) appends while this server is down.
  const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  const stream = workspaceStreamName(workspaceId);
  const revision = await store.streamRevision(stream);
  const { grants } = await (async () => {
    const events = [];
    for await (const event of store.readStream(stream)) events.push(event);
    return {
      grants: events
        .filter((event) => event.type === 'PlanAllowanceApplied')
        .map((event) => String(event.data.grantId)),
    };
  })();
  await store.appendToStream(
    stream,
    [
      {
        type: 'CreditsConsumed',
        data: {
          workspaceId,
          consumptionId: 'offline-1',
          idempotencyKey: 'offline-1',
          action: 'ORG_CHART_SYNC',
          units: 2,
          creditsPerUnit: 100,
          credits: 200,
          drawdown: [{ grantId: grants[0], source: 'INCLUDED', credits: 200 }],
          availableAfter: 20_000 - 21 - 200,
          actorId: 'importer',
          consumedAt: new Date().toISOString(),
        },
      },
    ],
    { expectedRevision: revision ?? 'no_stream' },
  );
  await store.close();

  const second = await start({ dataDir });
  expect(await balanceOf(second, workspaceId)).toMatchObject({
    available: 20_000 - 21 - 200,
    included: { consumed: 221 },
  });
  // The command side sees the offline spend too: its key is taken.
  const reuse = await execute(
    second.url,
    ConsumeCreditsDocument,
    { input: { workspaceId, action: 'ORG_CHART_SYNC', units: 1, idempotencyKey: 'offline-1' } },
    adminToken(),
  );
  expect(reuse.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED');
});

it('rebuilds the read model from scratch to the same balance', async () => {
  const dataDir = newDataDir();
  const workspaceId = 'ws-rebuild';
  const first = await start({ dataDir });
  await seed(first, workspaceId);
  for (let i = 0; i < 5; i++) {
    await expectData(first.url, ConsumeCreditsDocument, spendInput(workspaceId, `r${i}`), adminToken());
  }
  const before = await balanceOf(first, workspaceId);
  expect(await first.stop('SIGTERM')).toBe(0);

  execFileSync(process.execPath, [resolve(__dirname, '../../dist/src/cli/credits.js'), 'replay', '--no-progress'], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' },
  });

  const second = await start({ dataDir });
  expect(await balanceOf(second, workspaceId)).toEqual(before);
});

it('refuses a rebuild and a second server while a server runs on its DATA_DIR, and allows both once it died', async () => {
  const dataDir = newDataDir();
  const workspaceId = 'ws-one-process';
  const first = await start({ dataDir });
  await seed(first, workspaceId);
  await expectData(first.url, ConsumeCreditsDocument, spendInput(workspaceId, 'l1'), adminToken());
  const before = await balanceOf(first, workspaceId);

  const replay = spawnCreditsCli(dataDir, ['replay', '--no-progress']);
  expect(replay.status).toBe(1);
  expect(replay.stderr).toContain(`DATA_DIR ${dataDir} is in use by another process`);
  await expect(start({ dataDir })).rejects.toThrow(/server exited \(1\) before listening: DATA_DIR .* is in use/);
  // What only reads may run beside it.
  expect(spawnCreditsCli(dataDir, ['export', '--format', 'ndjson']).status).toBe(0);

  // The read models were not emptied under the server: it answers as before, and goes on projecting.
  expect(await balanceOf(first, workspaceId)).toEqual(before);
  const spent = await expectData(first.url, ConsumeCreditsDocument, spendInput(workspaceId, 'l2'), adminToken());
  const after = await balanceOf(first, workspaceId);
  expect(after.available).toBe(before.available - spent.consumeCredits.credits);

  await first.stop('SIGKILL'); // the system releases the lock with the process
  runCreditsCli(dataDir, ['replay', '--no-progress']);
  const second = await start({ dataDir });
  expect(await balanceOf(second, workspaceId)).toEqual(after);
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over node:http; a connection reset or refused rejects, so the test sees it. */
function send(port: string, options: RequestOptions, body = ''): Promise<Answer> {
  return new Promise((resolveAnswer, rejectAnswer) => {
    const request = httpRequest({ host: '127.0.0.1', port, ...options }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    request.on('error', rejectAnswer);
    request.end(body);
  });
}

it('answers 503, not a reset, to a request that comes on a kept-alive connection just after SIGTERM on an idle server', async () => {
  const dataDir = newDataDir();
  const server = await start({ dataDir, env: { NODE_ENV: 'development', SHUTDOWN_LINGER_MS: '1000' } });
  const { port } = new URL(server.url);
  const keptAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  expect((await send(port, { path: '/healthz', agent: keptAlive })).status).toBe(200);
  // Nothing in flight: without a linger the server would close this connection at once.
  const exitCode = server.stop('SIGTERM');
  await new Promise((resolveSoon) => setTimeout(resolveSoon, 150));
  const late = await send(port, { path: '/healthz', agent: keptAlive });
  expect(late.status).toBe(503);
  expect(late.headers['retry-after']).toMatch(/^\d+$/);
  expect(late.headers.connection).toBe('close');
  expect((await send(port, { path: '/readyz', agent: false })).status).toBe(503);
  expect(await exitCode).toBe(0);
  keptAlive.destroy();
});

it('finishes a request in flight on SIGTERM, answers new ones 503 with Retry-After, then exits cleanly', async () => {
  const dataDir = newDataDir();
  const workspaceId = 'ws-drain';
  // As `npm start` runs it: outside NODE_ENV=test, libraries may install signal handlers of their own.
  const server = await start({ dataDir, env: { NODE_ENV: 'development' } });
  await seed(server, workspaceId);
  const { port } = new URL(server.url);
  const spendBody = (key: string) =>
    JSON.stringify({ query: print(ConsumeCreditsDocument), variables: spendInput(workspaceId, key) });
  const graphql = (agent: Agent | false, key: string) =>
    send(
      port,
      {
        path: '/graphql',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenFor(workspaceId, 'MEMBER')}` },
      },
      spendBody(key),
    );
  // A connection kept alive from before the signal, idle when it comes.
  const keptAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  expect((await graphql(keptAlive, 'before')).status).toBe(200);

  // A request whose headers have arrived but whose body is still coming: in flight for certain.
  const body = spendBody('slow');
  const request = httpRequest({
    host: '127.0.0.1',
    port,
    path: '/graphql',
    method: 'POST',
    agent: false,
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      authorization: `Bearer ${tokenFor(workspaceId, 'MEMBER')}`,
    },
  });
  const response = new Promise<{ status: number; body: string }>((resolveResponse, rejectResponse) => {
    request.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolveResponse({ status: res.statusCode ?? 0, body: text }));
    });
    request.on('error', rejectResponse);
  });
  request.write(body.slice(0, 20));
  request.flushHeaders();
  await new Promise((resolveSoon) => setTimeout(resolveSoon, 200));

  const exitCode = server.stop('SIGTERM');
  await new Promise((resolveSoon) => setTimeout(resolveSoon, 200));
  // During the drain: a new connection, the kept-alive one, and another path are all answered.
  const refusals = [
    await graphql(false, 'late-new-connection'),
    await graphql(keptAlive, 'late-kept-alive'),
    await send(port, { path: '/readyz', agent: false }),
  ];
  for (const refused of refusals) {
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.headers.connection).toBe('close');
  }
  expect(JSON.parse(refusals[0]?.body ?? '')).toEqual({
    errors: [
      {
        message: 'The server is shutting down; retry on another instance.',
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      },
    ],
  });
  request.end(body.slice(20));

  const answered = await response;
  expect(answered.status).toBe(200);
  expect(JSON.parse(answered.body)).toMatchObject({ data: { consumeCredits: { credits: 21 } } });
  expect(await exitCode).toBe(0);
  expect(server.logs.some((entry) => entry.msg === 'stopped')).toBe(true);
  keptAlive.destroy();

  // The spend before the signal and the one in flight; nothing of the refused ones.
  const restarted = await start({ dataDir });
  expect((await balanceOf(restarted, workspaceId)).included.consumed).toBe(2 * 21);
});

it('drains on SIGHUP (the terminal that ran it closing) as on SIGTERM', async () => {
  const server = await start({ env: { NODE_ENV: 'development' } });
  await seed(server, 'ws-hangup');
  expect(await server.stop('SIGHUP')).toBe(0);
  expect(server.logs.map((entry) => entry.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  expect(server.logs.find((entry) => entry.msg === 'shutting down')).toMatchObject({ signal: 'SIGHUP' });
});

describe('production mode', () => {
  it('refuses to start without AUTH_JWT_SECRET', async () => {
    await expect(startServer({ env: { NODE_ENV: 'production', AUTH_JWT_SECRET: '' } })).rejects.toThrow(
      /AUTH_JWT_SECRET must be set/,
    );
  });

  it('disables introspection and never sends stack traces', async () => {
    const server = await start({ env: { NODE_ENV: 'production' } });
    const introspection = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken()}` },
      body: JSON.stringify({ query: '{ __schema { types { name } } }' }),
    });
    const body = (await introspection.json()) as {
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    };
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);
    expect(JSON.stringify(body)).not.toContain('stacktrace');

    const refused = await execute(
      server.url,
      ConsumeCreditsDocument,
      spendInput('ws-prod', 'p1'),
      tokenFor('ws-other', 'MEMBER'),
    );
    expect(refused.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN' });
  });
});
