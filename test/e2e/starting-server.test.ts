/**
 * While the read models catch up at start (here: rebuilt from a log of 100,000 events, as after a
 * lost read-models.sqlite), the service's address answers: /healthz 200 `starting`, so that a
 * liveness probe does not restart the process and the rebuild with it; /readyz 503 `starting`;
 * GraphQL 503 STARTING with Retry-After. Then the service itself takes the same listening port
 * over, with every balance rebuilt: the port is never closed in between, and a connection opened
 * while it started is answered by the service.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { WorkspaceCreditsDocument } from '../generated/graphql';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { expectData } from '../support/graphql-client';
import { adminToken, freePort, newDataDir, startServer } from '../support/server-process';

jest.setTimeout(120_000);

const WORKSPACES = 200;
const GRANTS_EACH = 500;

async function bigLog(dataDir: string): Promise<void> {
  const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  const at = new Date().toISOString();
  for (let w = 0; w < WORKSPACES; w++) {
    const workspaceId = `ws-start-${w}`;
    const events = Array.from({ length: GRANTS_EACH }, (_, n) => ({
      id: randomUUID(),
      type: 'CreditsGranted',
      data: {
        workspaceId,
        grantId: `grant-${n}`,
        idempotencyKey: `grant-key-${n}`,
        credits: 2,
        reason: 'a long history',
        grantedBy: 'admin-1',
        grantedAt: at,
      },
    }));
    await store.appendToStream(workspaceStreamName(workspaceId), events, { expectedRevision: 'no_stream' });
  }
  await store.close();
}

interface Seen {
  healthz: Set<string>;
  readyz: Set<string>;
  graphql: Set<string>;
}

/** Asks the three paths every 20 ms until stopped, and keeps each distinct answer. */
function probe(url: string): { stop(): Promise<Seen> } {
  const seen: Seen = { healthz: new Set(), readyz: new Set(), graphql: new Set() };
  let stopped = false;
  const ask = async (path: string, init?: RequestInit): Promise<string | undefined> => {
    try {
      const response = await fetch(`${url}${path}`, init);
      const body = (await response.json()) as { status?: string; errors?: { extensions?: { code?: string } }[] };
      const retryAfter = response.headers.get('retry-after');
      return `${response.status} ${body.status ?? body.errors?.[0]?.extensions?.code ?? 'data'}${retryAfter ? ` retry-after ${retryAfter}` : ''}`;
    } catch {
      return undefined; // nothing listening yet, or between the two servers
    }
  };
  const running = (async () => {
    while (!stopped) {
      const [healthz, readyz, graphql] = await Promise.all([
        ask('/healthz'),
        ask('/readyz'),
        ask('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }' }),
        }),
      ]);
      if (healthz) seen.healthz.add(healthz);
      if (readyz) seen.readyz.add(readyz);
      if (graphql) seen.graphql.add(graphql);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      return seen;
    },
  };
}

/** A connection to the port opened as soon as something answers on it, with nothing sent yet. */
async function connectionWhileStarting(url: string): Promise<Socket> {
  const { port } = new URL(url);
  for (;;) {
    const socket = await new Promise<Socket | undefined>((resolve) => {
      const opened = connect(Number(port), '127.0.0.1', () => resolve(opened));
      opened.once('error', () => resolve(undefined));
    });
    if (socket) return socket;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One request written on an open connection, and the whole answer (the server closes it). */
function askOn(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve(answer));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

it('answers health probes while the read models are rebuilt, then serves on the same port', async () => {
  const dataDir = newDataDir();
  await bigLog(dataDir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const probing = probe(url);
  const starting = startServer({ dataDir, env: { PORT: String(port) } });
  const early = await connectionWhileStarting(url);
  const server = await starting;
  try {
    // Opened while the service started, used once it serves: the service answers it. A start-up
    // server closed before the service listened would have reset it.
    const answer = await askOn(early, '/healthz');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('{"status":"ok"}');
    const seen = await probing.stop();
    expect(server.url).toBe(url);
    // Before the service listened: alive, not ready, and GraphQL told to come back.
    expect(seen.healthz).toContain('200 starting');
    expect(seen.readyz).toContain('503 starting');
    expect(seen.graphql).toContain('503 STARTING retry-after 5');
    // After: the service itself, with every balance rebuilt from the log.
    const balance = await expectData(url, WorkspaceCreditsDocument, { workspaceId: 'ws-start-7' }, adminToken());
    expect(balance.workspaceCredits.available).toBe(GRANTS_EACH * 2);
    const healthz = (await (await fetch(`${url}/healthz`)).json()) as { status: string };
    expect(healthz.status).toBe('ok');
  } finally {
    await server.stop();
  }
});
