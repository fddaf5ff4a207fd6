/**
 * GET /metrics against the real server: the process metrics, GraphQL operations by name and
 * outcome with their latency, command refusals by code, rate-limit refusals, the embedded store's
 * group commits, projection lag, the command side's state cache, the metrics defined for later, and
 * who may read them.
 */
import Stripe from 'stripe';
import { CatalogDocument, ConsumeCreditsDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { applyAllowance, execute, expectData } from '../support/graphql-client';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';

const WEBHOOK_SECRET = 'whsec_test_metrics';
const running: ServerProcess[] = [];
const start = async (env: Record<string, string> = {}) => {
  const server = await startServer({ env });
  running.push(server);
  return server;
};
afterAll(async () => {
  await Promise.all(running.map((server) => server.stop()));
});

const scrape = async (server: ServerProcess, token?: string) =>
  fetch(`${server.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** The value of one sample, e.g. `credits_graphql_requests_total{operation="Catalog",outcome="ok"}`. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('outside production, without a token', () => {
  let server: ServerProcess;
  let text: string;
  beforeAll(async () => {
    server = await start({
      RATE_LIMIT_PER_TOKEN: '30',
      STRIPE_SECRET_KEY: 'sk_test_metrics',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    });
    const member = tokenFor('ws-metrics', 'MEMBER');
    await applyAllowance(server.url, 'ws-metrics', 'starter');
    await expectData(server.url, CatalogDocument, {}, member);
    await expectData(server.url, WorkspaceCreditsDocument, { workspaceId: 'ws-metrics' }, member);
    const spend = (key: string, units: number) =>
      execute(
        server.url,
        ConsumeCreditsDocument,
        { input: { workspaceId: 'ws-metrics', action: 'ORG_CHART_GENERATION', units, idempotencyKey: key } },
        member,
      );
    expect((await spend('fits', 1)).errors).toBeUndefined();
    expect((await spend('too-much', 50)).errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_CREDITS');
    // Past the caller's limit: 30 requests are let through, the rest are refused.
    const limited = tokenFor('ws-metrics', 'MEMBER', { subject: 'busy' });
    const statuses = await Promise.all(
      Array.from({ length: 32 }, () => execute(server.url, CatalogDocument, {}, limited).then((r) => r.status)),
    );
    expect(statuses.filter((status) => status === 429)).toHaveLength(2);
    // Stripe's webhooks: one forged, one signed of a type the service does not act on.
    const payload = JSON.stringify({
      id: 'evt_metrics',
      object: 'event',
      type: 'customer.created',
      data: { object: {} },
    });
    const post = (signature: string) =>
      fetch(`${server.url}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
      });
    expect((await post('t=1,v1=forged')).status).toBe(400);
    const signed = new Stripe('sk_test_metrics').webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    expect((await post(signed)).status).toBe(200);
    const response = await scrape(server);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await response.text();
  });

  it('exports the default process metrics', () => {
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(sample(text, name)).toBeGreaterThanOrEqual(0);
    }
  });

  it('counts GraphQL operations by name and outcome, with their latency', () => {
    expect(sample(text, 'credits_graphql_requests_total{operation="Catalog",outcome="ok"}')).toBe(31);
    expect(sample(text, 'credits_graphql_requests_total{operation="WorkspaceCredits",outcome="ok"}')).toBe(1);
    expect(sample(text, 'credits_graphql_requests_total{operation="ConsumeCredits",outcome="ok"}')).toBe(1);
    expect(
      sample(text, 'credits_graphql_requests_total{operation="ConsumeCredits",outcome="INSUFFICIENT_CREDITS"}'),
    ).toBe(1);
    expect(sample(text, 'credits_graphql_request_duration_seconds_count{operation="ConsumeCredits"}')).toBe(2);
    expect(sample(text, 'credits_graphql_request_duration_seconds_bucket{le="+Inf",operation="ConsumeCredits"}')).toBe(
      2,
    );
  });

  it('counts command refusals by code, and rate-limit refusals by endpoint and limit', () => {
    expect(sample(text, 'credits_command_refusals_total{code="INSUFFICIENT_CREDITS"}')).toBe(1);
    expect(sample(text, 'credits_rate_limit_refusals_total{endpoint="graphql",scope="token"}')).toBe(2);
  });

  it("measures the embedded store's group commits", () => {
    // The allowance and the spend: two appends, each committed (the refused spend appended nothing).
    expect(sample(text, 'credits_eventstore_append_batch_size_sum')).toBe(2);
    expect(sample(text, 'credits_eventstore_commit_duration_seconds_count')).toBe(2);
  });

  it("tells each projection's lag, caught up after the writes it answered", () => {
    const lags = text.split('\n').filter((line) => line.startsWith('credits_projection_lag{'));
    expect(lags.length).toBeGreaterThan(0);
    for (const line of lags) expect(line).toMatch(/^credits_projection_lag\{projection="[\w:-]+"\} 0$/);
  });

  it("tells what the command side's workspace states take in memory", () => {
    // One workspace was written to: its state is kept, a few KB of it.
    expect(sample(text, 'credits_state_cache_workspaces')).toBe(1);
    expect(sample(text, 'credits_state_cache_bytes')).toBeGreaterThan(1_000);
    expect(sample(text, 'credits_state_cache_bytes')).toBeLessThan(100_000);
  });

  it('counts Stripe webhooks by outcome, and defines the outbound delivery metrics', () => {
    expect(sample(text, 'credits_webhook_deliveries_total{provider="stripe",outcome="bad_signature"}')).toBe(1);
    expect(sample(text, 'credits_webhook_deliveries_total{provider="stripe",outcome="ignored"}')).toBe(1);
    for (const name of [
      'credits_outbound_webhook_attempts_total',
      'credits_outbound_webhook_attempt_duration_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('tells each reaction’s lag and its parked work', () => {
    expect(text).toMatch(/^credits_reaction_lag\{reaction="payments"\} 0$/m);
    expect(text).toMatch(/^credits_reaction_parked_work_items\{reaction="payments"\} 0$/m);
  });

  it('gives no series of its own to a long name, nor to a name sent without a token', async () => {
    const before = await (await scrape(server)).text();
    const other = (text: string) => sample(text, 'credits_graphql_requests_total{operation="other",outcome="ok"}') ?? 0;
    const named = async (name: string, token?: string) => {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query: `query ${name} { __typename }` }),
      });
      expect(response.status).toBe(200);
    };
    const long = `L${'o'.repeat(20_000)}ng`;
    await named(long, tokenFor('ws-metrics', 'MEMBER', { subject: 'long-namer' }));
    await named('SentWithoutAToken');
    const after = await (await scrape(server)).text();
    expect(after).not.toContain(long.slice(0, 100));
    expect(after).not.toContain('SentWithoutAToken');
    expect(other(after) - other(before)).toBe(2);
  });

  it('keeps the operation names clients invent from growing the metrics', async () => {
    for (let i = 0; i < 101; i++) {
      // A caller each: this server lets one caller send 30 requests a window.
      const member = tokenFor('ws-metrics', 'MEMBER', { subject: `inventive-${i}` });
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${member}` },
        body: JSON.stringify({ query: `query Invented${i} { plans { id } }` }),
      });
      expect(response.status).toBe(200);
    }
    const after = await (await scrape(server)).text();
    const names = new Set(
      [...after.matchAll(/^credits_graphql_requests_total\{operation="([^"]+)"/gm)].map((m) => m[1]),
    );
    expect(names.size).toBeLessThanOrEqual(101);
    expect(sample(after, 'credits_graphql_requests_total{operation="other",outcome="ok"}')).toBeGreaterThan(0);
  });
});

describe('in production', () => {
  it('has no /metrics without METRICS_TOKEN', async () => {
    const server = await start({ NODE_ENV: 'production' });
    expect((await scrape(server)).status).toBe(404);
  });

  it('answers only the bearer of METRICS_TOKEN', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const server = await start({ NODE_ENV: 'production', METRICS_TOKEN: token });
    await applyAllowance(server.url, 'ws-prod-metrics', 'starter');
    for (const wrong of [undefined, 'metrics-token-0123456789abcdeX', adminToken()]) {
      const refused = await scrape(server, wrong);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    }
    const answered = await scrape(server, token);
    expect(answered.status).toBe(200);
    expect(
      sample(await answered.text(), 'credits_graphql_requests_total{operation="ApplyPlanAllowance",outcome="ok"}'),
    ).toBe(1);
  });
});
