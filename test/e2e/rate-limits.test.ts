/**
 * Request rates: /graphql per caller and per client address, the Stripe webhook per address, each
 * refused with 429 and Retry-After once over its limit, without running anything.
 */
import { ConsumeCreditsDocument } from '../generated/graphql';
import { execute, headPosition } from '../support/graphql-client';
import { startServer, tokenFor, type ServerProcess } from '../support/server-process';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({
    env: {
      RATE_LIMIT_WINDOW_MS: '60000',
      RATE_LIMIT_PER_TOKEN: '5',
      RATE_LIMIT_PER_ADDRESS: '8',
      RATE_LIMIT_WEBHOOK: '3',
    },
  });
});
afterAll(async () => {
  await server?.stop();
});

const ask = (token?: string) =>
  fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query: '{ creditRates { action } }' }),
  });

const refusalOf = async (response: Response) => ({
  status: response.status,
  retryAfter: Number(response.headers.get('retry-after')),
  body: (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] },
});

// The tests share one window of 60 s and one client address, so they run in this order.
it('refuses a caller past its limit with 429, Retry-After and RATE_LIMITED, fresh tokens included', async () => {
  const alice = tokenFor('ws-rates', 'MEMBER', { subject: 'alice' });
  for (let i = 0; i < 5; i++) expect((await ask(alice)).status).toBe(200);
  const refused = await refusalOf(await ask(alice));
  expect(refused.status).toBe(429);
  expect(refused.retryAfter).toBeGreaterThanOrEqual(1);
  expect(refused.retryAfter).toBeLessThanOrEqual(60);
  expect(refused.body.errors).toEqual([
    {
      message: `Too many requests from this caller: at most 5 every 60 s. Retry after ${refused.retryAfter} s.`,
      extensions: {
        code: 'RATE_LIMITED',
        scope: 'token',
        limit: 5,
        retryAfterSeconds: refused.retryAfter,
        windowSeconds: 60,
      },
    },
  ]);
  // A new token of the same caller counts on: the limit is the caller's, not the string's.
  const again = tokenFor('ws-rates', 'MEMBER', { subject: 'alice', expiresInSeconds: 7200 });
  expect((await ask(again)).status).toBe(429);
});

it('lets another caller through, until the client address is past its own limit', async () => {
  // Seven requests from this address so far; the address allows eight.
  const bob = tokenFor('ws-rates', 'MEMBER', { subject: 'bob' });
  expect((await ask(bob)).status).toBe(200);
  const refused = await refusalOf(await ask(bob));
  expect(refused.status).toBe(429);
  expect(refused.body.errors[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', scope: 'address', limit: 8 });
  // Without a token, only the address counts, and it is spent.
  expect((await ask()).status).toBe(429);
});

it('runs nothing it refuses', async () => {
  const head = await headPosition(server.url);
  const spend = await execute(
    server.url,
    ConsumeCreditsDocument,
    { input: { workspaceId: 'ws-rates', action: 'ACTION_PLAN_GENERATION', units: 1, idempotencyKey: 'refused' } },
    tokenFor('ws-rates', 'OWNER', { subject: 'carol' }),
  );
  expect(spend.status).toBe(429);
  expect(spend.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  expect(await headPosition(server.url)).toBe(head);
});

it('refuses webhook deliveries from one address past their limit', async () => {
  const deliver = () =>
    fetch(`${server.url}/webhooks/stripe`, { method: 'POST', headers: { 'stripe-signature': 'none' }, body: '{}' });
  // Payments are not configured here: a delivery within the limit is answered 503, not refused.
  for (let i = 0; i < 3; i++) expect((await deliver()).status).toBe(503);
  const refused = await deliver();
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
});
