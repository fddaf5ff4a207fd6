/**
 * The HTTP transport of webhook attempts: it POSTs the body with the headers given, answers the
 * receiver's status (a redirect as it is, not followed), ends an exchange at its deadline whether
 * it waits for the answer or for the rest of it, reads a long answer no further than a small limit,
 * and refuses a literal private address unless private URLs are allowed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpTransport } from '../../src/webhooks/http-transport';
import { UnsafeWebhookUrl, type WebhookTransport } from '../../src/webhooks/port';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

let server: Server;
let url: string;
let handle: Handler;
let transport: WebhookTransport;
const TIMEOUT_MS = 300;

beforeEach(async () => {
  handle = (_request, _body, response) => response.writeHead(204).end();
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, Buffer.concat(chunks).toString('utf8'), response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  transport = httpTransport({ allowPrivate: true, timeoutMs: TIMEOUT_MS, connectionsPerOrigin: 4 });
});

afterEach(async () => {
  await transport.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const post = (path = '/hook?x=1') =>
  transport.post({ url: `${url}${path}`, headers: { 'webhook-id': 'msg_1' }, body: '{"type":"credits.low"}' });

it('POSTs the body with its headers and answers the status', async () => {
  const seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string }[] = [];
  handle = (request, body, response) => {
    seen.push({ method: request.method, url: request.url, headers: request.headers, body });
    response.writeHead(202).end('accepted');
  };
  await expect(post()).resolves.toEqual({ statusCode: 202 });
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({ method: 'POST', url: '/hook?x=1', body: '{"type":"credits.low"}' });
  expect(seen[0]?.headers).toMatchObject({
    'content-type': 'application/json',
    'user-agent': 'credits-service-webhooks/1',
    'webhook-id': 'msg_1',
  });
});

it('answers a redirect as it is, without following it', async () => {
  const paths: string[] = [];
  handle = (request, _body, response) => {
    paths.push(request.url ?? '');
    response.writeHead(302, { location: '/elsewhere' }).end();
  };
  await expect(post('/hook')).resolves.toEqual({ statusCode: 302 });
  expect(paths).toEqual(['/hook']);
});

it('ends an exchange with no answer at its deadline, and the next ones still go through', async () => {
  handle = () => undefined;
  const started = performance.now();
  await expect(post()).rejects.toThrow(expect.objectContaining({ name: 'TimeoutError' }) as Error);
  const took = performance.now() - started;
  expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
  expect(took).toBeLessThan(TIMEOUT_MS + 1_000);
  handle = (_request, _body, response) => response.writeHead(204).end();
  await expect(Promise.all([post(), post()])).resolves.toEqual([{ statusCode: 204 }, { statusCode: 204 }]);
});

it('answers the status when the rest of the answer does not come by the deadline', async () => {
  handle = (_request, _body, response) => {
    response.writeHead(200, { 'content-length': '100' });
    response.write('partial');
  };
  const started = performance.now();
  await expect(post()).resolves.toEqual({ statusCode: 200 });
  expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
});

it('reads a long answer no further than its limit', async () => {
  handle = (_request, _body, response) => {
    response.writeHead(200);
    const chunk = 'x'.repeat(16 * 1024);
    const write = (left: number): void => {
      if (left === 0 || response.destroyed) return void response.end();
      response.write(chunk, () => write(left - 1));
    };
    write(1_000);
  };
  const started = performance.now();
  await expect(post()).resolves.toEqual({ statusCode: 200 });
  expect(performance.now() - started).toBeLessThan(TIMEOUT_MS);
});

it('refuses a literal private address unless private URLs are allowed', async () => {
  const strict = httpTransport({ allowPrivate: false, timeoutMs: TIMEOUT_MS, connectionsPerOrigin: 1 });
  try {
    await expect(strict.post({ url: `${url}/hook`, headers: {}, body: '{}' })).rejects.toBeInstanceOf(UnsafeWebhookUrl);
  } finally {
    await strict.close();
  }
});

it('refuses a plain-http URL unless private URLs are allowed, without connecting', async () => {
  const looked: string[] = [];
  const strict = httpTransport({
    allowPrivate: false,
    timeoutMs: TIMEOUT_MS,
    connectionsPerOrigin: 1,
    lookup: ((hostname: string, _options: unknown, callback: (...args: unknown[]) => void) => {
      looked.push(hostname);
      callback(null, [{ address: '93.184.216.34', family: 4 }]);
    }) as never,
  });
  try {
    await expect(strict.post({ url: 'http://hooks.example.com/in', headers: {}, body: '{}' })).rejects.toThrow(
      'A webhook URL must use https.',
    );
    expect(looked).toEqual([]);
  } finally {
    await strict.close();
  }
});
