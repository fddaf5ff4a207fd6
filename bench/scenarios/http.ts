/**
 * (3) Over HTTP on loopback with autocannon (50 connections, after a 2 s warm-up): the trivial query
 * `{ __typename }` as the server's own ceiling, `workspaceCredits` and `consumeCredits` against a
 * real server process in production mode.
 */
import { join } from 'node:path';
import autocannon from 'autocannon';
import { signToken } from '../../src/auth/tokens';
import { fillStore } from '../fill-store';
import { startBuiltServer } from '../support';

const SECRET = 'bench-secret-0123456789abcdef0123456789';
/** More requests per rate-limit window than any run sends. */
const NO_LIMIT = 1_000_000_000;

export interface HttpResult {
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, token: string, body: (i: number) => string, seconds: number): Promise<HttpResult> {
  let counter = 0;
  // @types/autocannon 7 lacks `warmup`, which autocannon 8 takes.
  const result = await autocannon({
    url: `${url}/graphql`,
    connections: 50,
    duration: seconds,
    // Let the JIT and the caches warm up before anything is counted.
    warmup: { connections: 50, duration: 2 },
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [{ setupRequest: (request) => ({ ...request, body: body(counter++) }) }],
  } as autocannon.Options);
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

export async function httpBench(
  dataDir: string,
  seconds: number,
): Promise<Record<'typename' | 'workspaceCredits' | 'consumeCredits', HttpResult>> {
  await fillStore(join(dataDir, 'events.sqlite'), { workspaces: 1000, events: 10_000, spanMs: 86_400_000 });
  const server = await startBuiltServer({
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: SECRET,
    WEBHOOK_SECRET_KEY: Buffer.alloc(32, 1).toString('base64'),
    // One token and one address send everything here: the limiters still count every request (their
    // cost is part of the figures), but the limits are out of reach.
    RATE_LIMIT_PER_TOKEN: String(NO_LIMIT),
    RATE_LIMIT_PER_ADDRESS: String(NO_LIMIT),
  });
  const { url } = server;
  try {
    const token = signToken({ subject: 'bench', workspaceId: 'bench', role: 'SERVICE', admin: true }, SECRET, 3600);
    const typename = await load(url, token, () => JSON.stringify({ query: '{ __typename }' }), seconds);
    const workspaceCredits = await load(
      url,
      token,
      (i) =>
        JSON.stringify({
          query:
            'query ($w: ID!) { workspaceCredits(workspaceId: $w) { available included { remaining } purchased { remaining } promotional { remaining } lowBalance } }',
          variables: { w: `ws-${i % 1000}` },
        }),
      seconds,
    );
    const consumeCredits = await load(
      url,
      token,
      (i) =>
        JSON.stringify({
          query: 'mutation ($input: ConsumeCreditsInput!) { consumeCredits(input: $input) { id available } }',
          variables: {
            input: {
              workspaceId: `ws-${i % 1000}`,
              action: 'PERSON_ENRICHMENT',
              units: 1,
              idempotencyKey: `http-${i}`,
            },
          },
        }),
      seconds,
    );
    return { typename, workspaceCredits, consumeCredits };
  } finally {
    await server.stop();
  }
}
