/**
 * The development explorer works offline: GET /graphql in Chromium opens GraphiQL served by this
 * server alone (every request to another origin is recorded and refused), with the Authorization
 * header preset to a working development token, and runs its first query. `/` points at the
 * Billing page and the explorer; production serves neither the explorer nor the landing page.
 * The screenshot is test/artifacts/explorer.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { verifyToken } from '../../src/auth/tokens';
import { ApplyPlanAllowanceDocument } from '../generated/graphql';
import { expectData } from '../support/graphql-client';
import { adminToken, startServer, TEST_JWT_SECRET, type ServerProcess } from '../support/server-process';
import { CHROMIUM } from '../support/chromium';

jest.setTimeout(60_000);

const ARTIFACTS = resolve(__dirname, '../../test/artifacts');
const DAY = 24 * 60 * 60 * 1000;
const html = (url: string) => fetch(url, { headers: { accept: 'text/html' } });

describe('in development', () => {
  let server: ServerProcess;
  let context: BrowserContext;
  let userDataDir: string;

  beforeAll(async () => {
    server = await startServer();
    await expectData(
      server.url,
      ApplyPlanAllowanceDocument,
      {
        input: {
          workspaceId: 'demo',
          planId: 'growth',
          periodStart: new Date(Date.now() - DAY).toISOString(),
          periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
        },
      },
      adminToken(),
    );
    userDataDir = mkdtempSync(join(tmpdir(), 'explorer-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
      viewport: { width: 1280, height: 800 },
    });
  });
  afterAll(async () => {
    await context?.close();
    await server?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('opens GraphiQL from this server alone and runs the first query with the preset token', async () => {
    const elsewhere: string[] = [];
    await context.route('**/*', (route) => {
      if (new URL(route.request().url()).origin === server.url) return route.continue();
      elsewhere.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(`${server.url}/graphql`);
    await page.locator('.graphiql-execute-button').waitFor();
    const answered = page.waitForResponse(
      (response) => response.url() === `${server.url}/graphql` && !!response.request().postData()?.includes('Balance'),
    );
    await page.locator('.graphiql-execute-button').click();
    const response = await answered;
    const authorization = response.request().headers().authorization ?? '';
    expect(verifyToken(authorization.replace(/^Bearer /, ''), TEST_JWT_SECRET)).toMatchObject({
      workspaceId: 'demo',
      role: 'OWNER',
      admin: false,
    });
    const body = (await response.json()) as { data: { workspaceCredits: { available: number } } };
    expect(body.data.workspaceCredits.available).toBe(5000);
    await page.getByText('"available": 5000').waitFor();
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'explorer.png') });
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('answers a GET query with ?query= as GraphQL, not with the page', async () => {
    const response = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('gives the page a one-hour token and keeps it out of caches', async () => {
    const response = await html(`${server.url}/graphql`);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const config = /<script type="application\/json" id="explorer-config">(.*?)<\/script>/.exec(await response.text());
    const { token, expiresAt } = JSON.parse(config?.[1] ?? '{}') as { token: string; expiresAt: string };
    expect(verifyToken(token, TEST_JWT_SECRET).workspaceId).toBe('demo');
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(59 * 60 * 1000);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(60 * 60 * 1000);
  });

  it('answers / with links to the Billing page and the explorer', async () => {
    const response = await html(`${server.url}/`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('href="/billing"');
    expect(text).toContain('href="/graphql"');
  });
});

describe('in production', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves no explorer, no bundle and no landing page', async () => {
    const page = await html(`${server.url}/graphql`);
    expect(await page.text()).not.toContain('explorer-config');
    expect((await fetch(`${server.url}/explorer/explorer.js`)).status).toBe(404);
    expect((await html(`${server.url}/`)).status).toBe(404);
  });
});
