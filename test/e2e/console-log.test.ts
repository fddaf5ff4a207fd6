/**
 * What a library writes to the console reaches the log as JSON through the logger, once per 10 s
 * for the same message: a client sending malformed WebSocket frames in a loop, before any token is
 * checked, made graphql-ws print a dozen plain-text lines of stack for each.
 */
import WebSocket from 'ws';
import { startServer, type ServerProcess } from '../support/server-process';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Opens a graphql-ws socket and sends one frame a client may not send (unmasked); resolves once it is closed. */
const badFrame = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    socket.once('open', () => {
      const raw = (socket as unknown as { _socket: { write(bytes: Buffer): void } })._socket;
      raw.write(Buffer.from([0x81, 0x02, 0x7b, 0x7d]));
    });
    socket.once('close', (code) => resolve(code));
    socket.once('error', () => undefined);
    setTimeout(() => reject(new Error('the socket was not closed')), 5_000);
  });

it('logs a malformed frame as one JSON line, and the same again at most once per 10 s', async () => {
  for (let i = 0; i < 30; i += 1) await badFrame();
  const lines = () => server.logs.filter((log) => /WebSocket socket/.test(String(log.msg)));
  for (let waited = 0; lines().length === 0 && waited < 5_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(lines()).toHaveLength(1);
  expect(lines()[0]).toMatchObject({ level: 50, err: { type: expect.any(String) as unknown } });
  // The server goes on serving.
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  expect(response.status).toBe(200);
});
