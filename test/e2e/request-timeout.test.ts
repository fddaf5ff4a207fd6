/**
 * A client that sends most of a body and stalls does not hold the server's memory for Node's
 * default five minutes: past REQUEST_TIMEOUT_MS the request is answered 408 and its connection
 * closed, and the server goes on serving.
 */
import { connect } from 'node:net';
import { startServer, type ServerProcess } from '../support/server-process';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({ env: { REQUEST_TIMEOUT_MS: '1500' } });
});
afterAll(async () => {
  await server?.stop();
});

it('answers a request whose body stalls 408 once REQUEST_TIMEOUT_MS has passed, and closes it', async () => {
  const { hostname, port } = new URL(server.url);
  const socket = connect(Number(port), hostname);
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const sentAt = Date.now();
  // A 1 MiB body announced, 64 KiB of it sent, then nothing.
  socket.write(
    'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n',
  );
  socket.write(Buffer.alloc(64 * 1024, 0x20));
  const closedAt = await closed;
  expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  // Closed after the deadline (checked every second), not after Node's default 300 s.
  expect(closedAt - sentAt).toBeGreaterThanOrEqual(1400);
  expect(closedAt - sentAt).toBeLessThan(10_000);
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  expect(response.status).toBe(200);
});
