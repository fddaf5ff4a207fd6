/**
 * A local webhook receiver for the tests: an HTTP server on 127.0.0.1 that keeps every request
 * (headers and raw body) and answers as the test says (a status, a delay, a redirect). Signatures
 * are checked with the `standardwebhooks` library, as a customer's receiver would.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
  /** The status it was answered with. */
  status: number;
}

export type Answer = { status: number; delayMs?: number; location?: string };

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** How the next request (at `path`) is answered; 204 by default. */
  answer: (request: { path: string; index: number }) => Answer;
  /** The requests verified by `secret` (Standard Webhooks, with its timestamp tolerance). */
  verifiedBy(secret: string): ReceivedWebhook[];
  /** Resolves once `count` requests matching `filter` arrived (fails after `timeoutMs`). */
  waitFor(
    filter: (request: ReceivedWebhook) => boolean,
    count?: number,
    timeoutMs?: number,
  ): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

export const isVerifiedBy = (secret: string, request: ReceivedWebhook): boolean => {
  try {
    new Webhook(secret).verify(request.body, request.headers);
    return true;
  } catch {
    return false;
  }
};

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const receiver: Partial<WebhookReceiver> = { received, answer: () => ({ status: 204 }) };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const path = request.url ?? '/';
      const answer = (receiver.answer as WebhookReceiver['answer'])({ path, index: received.length });
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(', ') : (value ?? ''),
        ]),
      );
      received.push({ path, headers, body, receivedAt: Date.now(), status: answer.status });
      response.writeHead(answer.status, answer.location ? { location: answer.location } : {});
      response.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    verifiedBy: (secret: string) => received.filter((request) => isVerifiedBy(secret, request)),
    async waitFor(filter: (request: ReceivedWebhook) => boolean, count = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = received.filter(filter);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) {
          throw new Error(`waited ${timeoutMs} ms for ${count} webhooks, got ${matching.length} of ${received.length}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as WebhookReceiver;
}

/** The parsed body of a received webhook. */
export const messageOf = (request: ReceivedWebhook) =>
  JSON.parse(request.body) as { type: string; timestamp: string; data: Record<string, unknown> };
