/**
 * A graphql-ws socket is no way around the limits /graphql requests meet: every operation over it
 * (a query or a mutation as well as a subscription) counts against its caller and its address as a
 * request does, and is refused RATE_LIMITED past them without running; a message larger than the
 * HTTP body limit closes the socket instead of being read into memory.
 */
import type { ExecutionResult, FormattedExecutionResult } from 'graphql';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { headPosition } from '../support/graphql-client';
import { startServer, tokenFor, type ServerProcess } from '../support/server-process';
import { bearer, wsClient } from '../support/ws-client';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({
    env: { RATE_LIMIT_WINDOW_MS: '60000', RATE_LIMIT_PER_TOKEN: '5', RATE_LIMIT_PER_ADDRESS: '40' },
  });
});
afterAll(async () => {
  await server?.stop();
});

type Answer = { data?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };

/** One operation over the socket: its result, or the errors it was refused with. */
const run = (client: Client, query: string): Promise<Answer> =>
  new Promise((resolve) => {
    let result: Answer = {};
    client.subscribe(
      { query },
      {
        next: (value: ExecutionResult | FormattedExecutionResult) => (result = value as Answer),
        error: (errors) => resolve({ errors: errors as Answer['errors'] }),
        complete: () => resolve(result),
      },
    );
  });

it('counts every operation over a socket against its caller, and refuses one past the limit without running it', async () => {
  const token = tokenFor('ws-socket-limits', 'OWNER', { subject: 'dora' });
  const { client, connected } = wsClient(server.url, bearer(token));
  await connected;
  try {
    for (let i = 0; i < 5; i++) {
      expect((await run(client, '{ creditRates { action } }')).errors).toBeUndefined();
    }
    const refused = await run(client, '{ creditRates { action } }');
    const [error, ...more] = refused.errors ?? [];
    expect(more).toEqual([]);
    expect(error?.message).toContain('Too many requests from this caller: at most 5 every 60 s.');
    expect(error?.extensions).toMatchObject({ code: 'RATE_LIMITED', scope: 'token', limit: 5, windowSeconds: 60 });
    // A mutation past the limit appends nothing.
    const head = await headPosition(server.url);
    const spend = await run(
      client,
      'mutation { consumeCredits(input: { workspaceId: "ws-socket-limits", action: ACTION_PLAN_GENERATION, units: 1, idempotencyKey: "over" }) { id } }',
    );
    expect(spend.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(await headPosition(server.url)).toBe(head);
  } finally {
    await client.dispose();
  }
});

it('closes a socket that sends a message larger than the HTTP body limit, before reading it whole', async () => {
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.on('error', () => undefined);
  socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(2 * 1024 * 1024) } }));
  // 1009: message too big.
  expect(await closed).toBe(1009);
});
