/**
 * The Billing page in a real browser (Debian's Chromium driven by playwright-core) against the real
 * server process and the Stripe double: a billing manager buys a package through the double's
 * checkout page and sees the credits arrive live; a member cannot buy; the ledger pages; the chart
 * draws a seeded week of spending; credits held by a running action show, and come back live when
 * it settles; the page fits a 375 px screen; an expired token and a server without payments say so;
 * a link with the token in its fragment signs in; a billing manager saves a card and turns auto top-up on
 * and off, and sees a top-up arrive; the ledger names what each entry is about and an admin gives a
 * spend back from it. Every step leaves a screenshot in test/artifacts/billing-*.png.
 *
 * `BILLING_DOCS_SCREENSHOT=1 npx jest test/browser/billing.test.ts` also writes
 * docs/billing-page.png, the README's picture.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Catalog } from '../../src/catalog/catalog';
import { WorkspaceCreditsCommandHandler } from '../../src/commands/command-handler';
import { CreditsCommands } from '../../src/commands/credits-commands';
import type { CreditAction } from '../../src/domain/credits';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import {
  ConfigureCreditAlertsDocument,
  ConsumeCreditsDocument,
  CreateWebhookEndpointDocument,
  CreditAlertRulesDocument,
  CreditLedgerDocument,
  CreditPurchasesDocument,
  CreditUsageDocument,
  GrantCreditsDocument,
  PurchaseCreditsDocument,
  RefundCreditPurchaseDocument,
  ReserveCreditsDocument,
  SettleCreditHoldDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { applyAllowance, expectData } from '../support/graphql-client';
import { adminToken, freePort, newDataDir, startServer, tokenFor, type ServerProcess } from '../support/server-process';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { startStripeDouble, type StripeDouble } from '../../tools/stripe-double';
import { CHROMIUM } from '../support/chromium';

jest.setTimeout(30_000);

const ROOT = resolve(__dirname, '../..');
const ARTIFACTS = join(ROOT, 'test/artifacts');
const WEBHOOK_SECRET = 'whsec_test_billing_page';
const WORKSPACE = 'acme-browser';
const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;
const startOfUtcDay = (time: number) => time - (time % DAY);
const isoDay = (time: number) => new Date(time).toISOString().slice(0, 10);

/** A week of spending on the Starter plan (1,000 credits), leaving 80: below the low-balance line. */
const HISTORY: { daysAgo: number; action: CreditAction; units: number; by: string; reference?: string }[] = [
  { daysAgo: 6, action: 'ORG_CHART_GENERATION', units: 1, by: 'maria', reference: 'Acme Corp' },
  { daysAgo: 6, action: 'PERSON_ENRICHMENT', units: 10, by: 'sam', reference: 'Acme Corp buying committee' },
  { daysAgo: 5, action: 'BUYING_COMMITTEE_MAPPING', units: 2, by: 'sam' },
  { daysAgo: 5, action: 'ACTION_PLAN_GENERATION', units: 3, by: 'maria' },
  { daysAgo: 4, action: 'ORG_CHART_SYNC', units: 1, by: 'crm-sync', reference: 'Acme Corp' },
  { daysAgo: 4, action: 'PERSON_ENRICHMENT', units: 4, by: 'sam' },
  { daysAgo: 3, action: 'ORG_CHART_GENERATION', units: 2, by: 'maria', reference: 'Globex, Initech' },
  { daysAgo: 2, action: 'ACTION_PLAN_GENERATION', units: 5, by: 'sam' },
  { daysAgo: 2, action: 'BUYING_COMMITTEE_MAPPING', units: 1, by: 'maria', reference: 'Globex' },
  { daysAgo: 2, action: 'PERSON_ENRICHMENT', units: 3, by: 'sam' },
  { daysAgo: 1, action: 'ORG_CHART_SYNC', units: 2, by: 'crm-sync' },
  { daysAgo: 1, action: 'BUYING_COMMITTEE_MAPPING', units: 2, by: 'maria' },
  { daysAgo: 1, action: 'ACTION_PLAN_GENERATION', units: 2, by: 'sam' },
  { daysAgo: 1, action: 'ACTION_PLAN_GENERATION', units: 2, by: 'maria', reference: 'Initech renewal' },
];

/**
 * The history has to lie in the past, which the API cannot write (its clock is now), so it is
 * recorded through the same command layer the server uses, with a clock set to each spend's day,
 * into the data directory the server then starts on: its projections build every read model.
 */
async function seedHistory(dataDir: string): Promise<void> {
  const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  let now = new Date();
  const commands = new CreditsCommands(
    new WorkspaceCreditsCommandHandler(store),
    Catalog.load(join(ROOT, 'config/catalog.json')),
    { now: () => now },
  );
  const periodStart = startOfUtcDay(Date.now() - 7 * DAY);
  now = new Date(periodStart + HOUR);
  await commands.applyPlanAllowance(
    {
      workspaceId: WORKSPACE,
      planId: 'starter',
      periodStart: new Date(periodStart),
      periodEnd: new Date(periodStart + 30 * DAY),
    },
    { actorId: 'subscription-system' },
  );
  for (const [index, spend] of HISTORY.entries()) {
    now = new Date(startOfUtcDay(Date.now() - spend.daysAgo * DAY) + (8 + index) * HOUR);
    await commands.consumeCredits(
      {
        workspaceId: WORKSPACE,
        action: spend.action,
        units: spend.units,
        idempotencyKey: `history-${index}`,
        ...(spend.reference && { reference: spend.reference }),
      },
      { actorId: spend.by },
    );
  }
  await store.close();
}

/**
 * Stands between the Stripe double and the server's webhook endpoint: passes deliveries through,
 * or, after hold(), keeps them until release(), so a test can watch the page wait for Stripe.
 */
interface WebhookGate {
  url: string;
  hold(): void;
  /** Forwards the held deliveries; resolves with the server's statuses. */
  release(): Promise<number[]>;
  close(): Promise<void>;
}

async function startWebhookGate(target: string): Promise<WebhookGate> {
  let holding = false;
  const held: { body: string; signature: string }[] = [];
  const forward = ({ body, signature }: { body: string; signature: string }) =>
    fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body,
    });
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const delivery = {
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(request.headers['stripe-signature']),
      };
      if (holding) {
        held.push(delivery);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"held":true}');
        return;
      }
      forward(delivery).then(
        async (answer) => response.writeHead(answer.status).end(await answer.text()),
        () => response.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`,
    hold: () => {
      holding = true;
    },
    async release() {
      holding = false;
      const statuses: number[] = [];
      for (const delivery of held.splice(0)) statuses.push((await forward(delivery)).status);
      return statuses;
    },
    close: () => new Promise((done) => server.close(() => done())),
  };
}

let server: ServerProcess;
let stripe: StripeDouble;
let gate: WebhookGate;
let receiver: WebhookReceiver;
let context: BrowserContext;
let userDataDir: string;
const pages: Page[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The browser tests need Chromium at ${CHROMIUM}: apt-get install chromium (see .ci/run).`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  gate = await startWebhookGate(`${base}/webhooks/stripe`);
  stripe = await startStripeDouble({ webhookSecret: WEBHOOK_SECRET, webhookUrl: gate.url });
  receiver = await startWebhookReceiver();
  const dataDir = newDataDir();
  await seedHistory(dataDir);
  // Each is kept as soon as it is up, so afterAll closes it even when the other failed to start
  // or is still starting: a browser or server left running keeps Jest from exiting.
  const started = await Promise.allSettled([
    startServer({
      dataDir,
      env: {
        PORT: String(port),
        STRIPE_SECRET_KEY: 'sk_test_billing_page',
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_API_BASE: stripe.url,
        // Checkout sends the buyer back to the origin the page was opened on, so its tab keeps the token.
        PUBLIC_URL: base,
        EXPIRY_SWEEP_INTERVAL_MS: '3600000',
        // The Notifications section's endpoints are a receiver on this machine.
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      },
    }).then((started) => (server = started)),
    chromium
      .launchPersistentContext((userDataDir = mkdtempSync(join(tmpdir(), 'billing-chromium-'))), {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
          '--disable-sync',
        ],
        viewport: { width: 1100, height: 900 },
        locale: 'en-US',
      })
      .then((launched) => (context = launched)),
  ]);
  for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
}, 60_000);

afterEach(async () => {
  for (const page of pages.splice(0)) await page.close();
});

afterAll(async () => {
  await context?.close();
  await server?.stop();
  await stripe?.close();
  await gate?.close();
  await receiver?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function newPage(viewport?: { width: number; height: number }): Promise<Page> {
  const page = await context.newPage();
  pages.push(page);
  if (viewport) await page.setViewportSize(viewport);
  page.on('pageerror', (error) => console.error('page error:', error));
  return page;
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `billing-${name}.png`), fullPage: true });

/** Signs in by pasting a token, as a person would, and waits until the page has everything. */
async function signIn(page: Page, token: string, baseUrl = server.url): Promise<void> {
  await page.goto(`${baseUrl}/billing`);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function loaded(page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'Credit history' }).waitFor();
  await page.getByRole('heading', { name: 'Credits spent per day' }).waitFor();
  await page.locator('#loading').waitFor({ state: 'hidden' });
}

const text = async (page: Page, selector: string) => (await page.locator(selector).textContent())?.trim();
const formatted = (credits: number) => credits.toLocaleString('en-US');

const manager = () => tokenFor(WORKSPACE, 'BILLING_MANAGER', { subject: 'maria@acme.test' });
const member = () => tokenFor(WORKSPACE, 'MEMBER', { subject: 'sam@acme.test' });
const balance = async () =>
  (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId: WORKSPACE }, adminToken())).workspaceCredits;

// ---------------------------------------------------------------------------------------------

describe('the Billing page', () => {
  it('lets a billing manager buy a package and shows Purchased credits and Available rise', async () => {
    const before = await balance();
    expect(before).toMatchObject({ available: 80, lowBalance: true, purchased: { remaining: 0 } });
    const page = await newPage();
    await page.goto(`${server.url}/billing`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot(page, '01-sign-in');

    await signIn(page, manager());
    await loaded(page);
    expect(await text(page, '#credits-available')).toBe('80');
    expect(await text(page, '#credits-included')).toBe('80');
    expect(await text(page, '#credits-purchased')).toBe('0');
    expect(await text(page, '#current-plan')).toBe('Starter');
    expect(await text(page, '#credits-included-detail')).toMatch(/^of 1,000 this period · period ends /);
    await page.getByText('Your balance is low.').waitFor();
    await shot(page, '02-balance');

    // Watch the live updates the page receives after coming back from Checkout.
    const frames: string[] = [];
    page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => frames.push(String(payload))));
    gate.hold(); // Stripe is slow to confirm: the buyer is back before the webhook.
    await page.getByRole('button', { name: 'Buy credits: 2,000 credits for $180.00' }).click();
    await page.getByRole('heading', { name: 'Test checkout: 2,000 credits — $180.00' }).waitFor();
    expect(page.url()).toMatch(new RegExp(`^${stripe.url}/checkout/cs_`));
    await shot(page, '03-stripe-checkout');

    // Once live, the page reads the balance and the purchases again; after that answer its subscription is in place.
    const refetchedAfterSubscribing = page.waitForResponse(
      (response) => response.url().endsWith('/graphql') && !!response.request().postData()?.includes('BillingRefresh'),
    );
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.waitForURL(/\/billing\/?\?checkout=success&session_id=cs_/);
    const sessionId = new URL(page.url()).searchParams.get('session_id');
    await page.getByText('Payment received — waiting for confirmation').waitFor();
    await page.locator('body[data-live="live"]').waitFor({ state: 'attached' });
    await refetchedAfterSubscribing;
    expect(await text(page, '#credits-purchased')).toBe('0');
    await shot(page, '04-waiting-for-stripe');

    expect(await gate.release()).toEqual([200]); // the webhook lands; the page hears it live
    await page.getByText('Payment confirmed: 2,000 credits added.').waitFor();
    expect(frames.map((frame) => (JSON.parse(frame) as { type: string }).type)).toContain('next');
    expect(await text(page, '#credits-purchased')).toBe('2,000');
    expect(await text(page, '#credits-available')).toBe('2,080');
    expect(await text(page, '#checkout-status-detail')).toBe('Available now: 2,080 credits.');
    await page.locator('#low-balance').waitFor({ state: 'hidden' });
    const purchaseRow = page.locator('#purchases-table tbody tr').first();
    expect(await purchaseRow.textContent()).toContain('2,000 credits');
    expect(await purchaseRow.textContent()).toContain('$180.00');
    await page.locator('#ledger-table tbody tr[data-entry-type="PURCHASE"]').first().waitFor();
    await shot(page, '05-credits-added');

    expect(await balance()).toMatchObject({ available: 2080, purchased: { granted: 2000, remaining: 2000 } });
    const purchases = (await expectData(server.url, CreditPurchasesDocument, { workspaceId: WORKSPACE }, adminToken()))
      .creditPurchases;
    expect(purchases.map((purchase) => purchase.purchaseId)).toEqual([sessionId]);

    if (process.env.BILLING_DOCS_SCREENSHOT) {
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: join(ROOT, 'docs/billing-page.png'), fullPage: true });
    }
  });

  it('shows a member the packages without a buy button, and why', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/billing`);
    // Keyboard only: type the token, tab to the button, press Enter.
    await page.getByLabel('Access token').focus();
    await page.keyboard.insertText(member());
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Sign in');
    await page.keyboard.press('Enter');
    await loaded(page);

    await page.getByText('Only owners and billing managers can buy credits.').waitFor();
    expect(await text(page, '#buy-not-allowed')).toContain('signed in as member of acme-browser');
    await page.getByRole('heading', { name: '2,000 credits' }).waitFor();
    expect(await page.getByRole('button', { name: /Buy credits/ }).count()).toBe(0);
    expect(await text(page, '#identity-role')).toBe('Member');
    expect(await page.locator('#notifications').isHidden()).toBe(true);
    await shot(page, '06-member');
  });

  it('pages through the ledger', async () => {
    const ledger = (
      await expectData(server.url, CreditLedgerDocument, { workspaceId: WORKSPACE, first: 100 }, adminToken())
    ).creditLedger.edges;
    expect(ledger.length).toBeGreaterThan(10);
    expect(ledger.length).toBeLessThanOrEqual(20);

    const page = await newPage();
    await signIn(page, manager());
    await loaded(page);
    const rows = page.locator('#ledger-table tbody tr');
    expect(await rows.count()).toBe(10);
    expect(await text(page, '#ledger-page')).toBe('Page 1');
    expect(await page.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);
    expect(await page.locator('tr[data-entry-type="PLAN_ALLOWANCE"]').count()).toBe(0);

    await page.getByRole('button', { name: 'Next page' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Page 2', { exact: true }).waitFor();
    await page.locator('tr[data-entry-type="PLAN_ALLOWANCE"]').waitFor();
    expect(await rows.count()).toBe(ledger.length - 10);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    const oldest = page.locator('tr[data-entry-type="PLAN_ALLOWANCE"]');
    expect(await oldest.textContent()).toContain('+1,000');
    await shot(page, '07-ledger-page-2');

    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 1', { exact: true }).waitFor();
    await page.locator('tr[data-entry-type="PLAN_ALLOWANCE"]').waitFor({ state: 'detached' });
    expect(await rows.count()).toBe(10);
  });

  it('draws credits spent per day by action for the seeded history, with a table alternative', async () => {
    const perDayAction = new Map<string, number>();
    const perDay = new Map<string, number>();
    for (const spend of HISTORY) {
      const day = isoDay(Date.now() - spend.daysAgo * DAY);
      const credits =
        {
          ORG_CHART_GENERATION: 100,
          ORG_CHART_SYNC: 100,
          BUYING_COMMITTEE_MAPPING: 21,
          ACTION_PLAN_GENERATION: 8,
          PERSON_ENRICHMENT: 7,
        }[spend.action] * spend.units;
      perDayAction.set(`${day} ${spend.action}`, (perDayAction.get(`${day} ${spend.action}`) ?? 0) + credits);
      perDay.set(day, (perDay.get(day) ?? 0) + credits);
    }
    // The API agrees with the seed.
    const usage = (
      await expectData(
        server.url,
        CreditUsageDocument,
        {
          workspaceId: WORKSPACE,
          groupBy: 'DAY',
          from: new Date(startOfUtcDay(Date.now()) - 13 * DAY).toISOString(),
          to: new Date(startOfUtcDay(Date.now()) + DAY).toISOString(),
        },
        adminToken(),
      )
    ).creditUsage;
    expect(new Map(usage.map((bucket) => [bucket.day, bucket.credits]))).toEqual(perDay);

    const page = await newPage();
    await signIn(page, manager());
    await loaded(page);
    const chart = page.getByRole('img', { name: /Credits spent per day by action/ });
    await chart.waitFor();
    const bars = page.locator('#usage-chart rect.bar');
    expect(await bars.count()).toBe(perDayAction.size);
    for (const [key, credits] of perDayAction) {
      const [day, action] = key.split(' ');
      const bar = page.locator(`#usage-chart rect.bar[data-day="${day}"][data-action="${action}"]`);
      expect(await bar.getAttribute('data-credits')).toBe(String(credits));
      expect(Number(await bar.getAttribute('height'))).toBeGreaterThan(0);
    }
    expect(await page.locator('#usage-legend li').allTextContents()).toEqual([
      'Org chart generation',
      'Org chart sync',
      'Buying committee mapping',
      'Action plan generation',
      'Person enrichment',
    ]);

    // The same numbers as a table: one row per day with spending, its total last.
    const table = page.getByRole('table', { name: /Credits spent per day by action/ });
    const tableRows = table.locator('tbody tr');
    expect(await tableRows.count()).toBe(perDay.size);
    const totals = (await tableRows.locator('td:last-child').allTextContents()).map((cell) => cell.trim());
    expect(totals).toEqual([...perDay.keys()].sort().map((day) => formatted(perDay.get(day)!)));
    expect(await table.locator('tfoot td:last-child').textContent()).toBe('920');

    await page.getByRole('button', { name: 'Show as table' }).click();
    expect((await table.boundingBox())!.width).toBeGreaterThan(300);
    expect(await page.getByRole('button', { name: 'Hide table' }).getAttribute('aria-expanded')).toBe('true');
    await page.locator('#usage').screenshot({ path: join(ARTIFACTS, 'billing-08-usage-chart.png') });
  });

  it('shows credits held by a running action, and gives back what it did not use when it settles', async () => {
    const workspaceId = 'acme-holds';
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 500, reason: 'trial', idempotencyKey: 'trial' } },
      adminToken(),
    );
    const service = tokenFor(workspaceId, 'SERVICE', { subject: 'org-chart-service' });
    const { reserveCredits: hold } = await expectData(
      server.url,
      ReserveCreditsDocument,
      {
        input: {
          workspaceId,
          action: 'ORG_CHART_GENERATION',
          units: 3,
          idempotencyKey: 'globex-run',
          reference: 'Globex',
        },
      },
      service,
    );
    const page = await newPage();
    await signIn(page, tokenFor(workspaceId, 'OWNER', { subject: 'maria@acme.test' }));
    await loaded(page);
    expect(await text(page, '#credits-available')).toBe('200');
    expect(await text(page, '#credits-held')).toBe('300');
    const holds = page.getByRole('table', { name: 'Running actions and the credits they hold, newest first' });
    expect(await holds.locator('tbody td[data-label="Action"]').allTextContents()).toEqual([
      'Org chart generation × 3 · Globex',
    ]);
    expect(await holds.locator('tbody td[data-label="Credits held"]').allTextContents()).toEqual(['300']);
    await shot(page, '09-held-by-running-actions');

    await page.locator('body[data-live="live"]').waitFor({ state: 'attached' });
    await expectData(
      server.url,
      SettleCreditHoldDocument,
      { input: { holdId: hold.id, units: 2, idempotencyKey: 'globex-run-done' } },
      service,
    );
    await page.locator('#credits-available', { hasText: '300' }).waitFor();
    await page.locator('#holds').waitFor({ state: 'hidden' });
    expect(await page.locator('#held').isHidden()).toBe(true);
    await page.getByText('Org chart generation × 2, settled').waitFor();
    await page.getByText('200 spent').waitFor();
    await shot(page, '09-hold-settled');
  });

  it('saves a card through Stripe, turns auto top-up on with the terms agreed, shows a top-up, and turns it off', async () => {
    const workspaceId = 'acme-topup';
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 1_000, reason: 'trial', idempotencyKey: 'topup-trial' } },
      adminToken(),
    );
    const page = await newPage();
    await signIn(page, tokenFor(workspaceId, 'BILLING_MANAGER', { subject: 'maria@acme.test' }));
    await loaded(page);
    const section = page.locator('#auto-top-up');
    expect(await text(page, '#topup-status')).toBe('Off');
    expect(await text(page, '#topup-card')).toBe('No card saved.');
    expect(await page.locator('#topup-turn-on').isDisabled()).toBe(true);

    await section.getByRole('button', { name: 'Save a card' }).click();
    await page.getByRole('heading', { name: 'Test checkout: save a card for later payments' }).waitFor();
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.waitForURL(/\/billing\/?\?setup=success/);
    await loaded(page);
    await page.locator('#topup-card', { hasText: 'VISA ending in 4242' }).waitFor();
    await shot(page, '10-card-saved');

    await page.getByLabel('Top up when available credits fall below').fill('300');
    await page.getByLabel('At most this much per month (USD)').fill('200');
    await section.getByRole('button', { name: 'Review terms' }).click();
    await page.locator('#topup-terms', { hasText: 'When available credits fall below 300' }).waitFor();
    await page.getByLabel('I agree to these automatic charges').check();
    await section.getByRole('button', { name: 'Turn on auto top-up' }).click();
    await page.locator('#topup-status', { hasText: 'On' }).waitFor();
    expect(await text(page, '#topup-summary')).toContain('Below 300 available credits');
    await shot(page, '11-auto-top-up-on');

    // A run of spends crosses the threshold: one top-up is charged and shows up live.
    await page.locator('body[data-live="live"]').waitFor({ state: 'attached' });
    await expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'ORG_CHART_SYNC', units: 8, idempotencyKey: 'topup-crossing' } },
      tokenFor(workspaceId, 'SERVICE', { subject: 'crm-sync' }),
    );
    await page.locator('#topup-history li', { hasText: 'Paid' }).waitFor();
    expect(await page.locator('#topup-history li').allTextContents()).toEqual([
      expect.stringContaining('500 credits for $50.00 — Paid') as string,
    ]);
    await page.locator('#credits-available', { hasText: '700' }).waitFor();
    expect(await text(page, '#topup-month')).toBe('This month: $50.00 of $200.00.');
    await shot(page, '12-topped-up');

    // New settings: what is typed stays through the review and a teammate's spend, and is what is saved.
    await page.getByLabel('Top up when available credits fall below').fill('250');
    await page.getByLabel('At most this much per month (USD)').fill('150');
    await section.getByRole('button', { name: 'Review terms' }).click();
    await page.locator('#topup-terms', { hasText: 'When available credits fall below 250' }).waitFor();
    await expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: 'while-typing' } },
      tokenFor(workspaceId, 'SERVICE', { subject: 'crm-sync' }),
    );
    await page.locator('#credits-available', { hasText: '693' }).waitFor();
    await new Promise((resolve) => setTimeout(resolve, 500)); // the sections' refresh after the change
    expect(await page.getByLabel('Top up when available credits fall below').inputValue()).toBe('250');
    expect(await page.getByLabel('At most this much per month (USD)').inputValue()).toBe('150');
    await page.getByLabel('I agree to these automatic charges').check();
    await section.getByRole('button', { name: 'Turn on auto top-up' }).click();
    await page.locator('#topup-summary', { hasText: 'Below 250 available credits' }).waitFor();
    expect(await text(page, '#topup-summary')).toContain('at most $150.00 a month');

    // A box that cannot be read is said under the form, and is no obstacle to turning it off.
    await page.getByLabel('Top up when available credits fall below').fill('');
    await section.getByRole('button', { name: 'Review terms' }).click();
    await page.locator('#topup-form-error', { hasText: 'Enter the balance to top up at' }).waitFor();
    expect(await page.getByLabel('Top up when available credits fall below').getAttribute('aria-invalid')).toBe('true');
    await section.getByRole('button', { name: 'Turn off' }).click();
    await page.locator('#topup-status', { hasText: 'Off' }).waitFor();
  });

  it('is readable at 375 px wide without scrolling sideways', async () => {
    const page = await newPage({ width: 375, height: 800 });
    await signIn(page, manager());
    await loaded(page);
    await page.locator('#usage-chart rect.bar').first().waitFor();
    // Page scripts are strings here: the tests compile without the DOM library.
    const widths = await page.evaluate<{ scroll: number; client: number }>(
      '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
    );
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    expect((await page.locator('#usage-chart svg').boundingBox())!.width).toBeLessThanOrEqual(375);
    const buy = page.getByRole('button', { name: 'Buy credits: 500 credits for $50.00' });
    expect((await buy.boundingBox())!.width).toBeGreaterThan(200);
    await shot(page, '09-375px');
  });

  it('asks to sign in again when the token has expired', async () => {
    const page = await newPage();
    await signIn(page, tokenFor(WORKSPACE, 'OWNER', { expiresInSeconds: -60 }));
    await page.getByText('Your session has expired, sign in again.').waitFor();
    await page.getByLabel('Access token').waitFor();
    expect(await page.locator('#app').isHidden()).toBe(true);
    await shot(page, '10-expired-token');
  });

  it('signs out when the token expires under live updates, rather than show numbers that no longer move', async () => {
    const page = await newPage();
    await signIn(page, tokenFor(WORKSPACE, 'OWNER', { expiresInSeconds: 5 }));
    await loaded(page);
    await page.locator('body[data-live="live"]').waitFor({ state: 'attached' });
    // The server closes the socket at the token's exp (4403): the page signs out and says why.
    await page.getByText('Your session has expired, sign in again.').waitFor({ timeout: 15_000 });
    expect(await page.locator('#app').isHidden()).toBe(true);
  });

  it('shows the twenty newest purchases, and older ones on asking', async () => {
    const workspaceId = 'purchases-paged';
    for (let n = 1; n <= 23; n++) {
      await expectData(
        server.url,
        PurchaseCreditsDocument,
        { input: { workspaceId, packageId: 'credits-500', paymentReference: `INV-PAGED-${n}` } },
        adminToken(),
      );
    }
    const page = await newPage();
    await signIn(page, tokenFor(workspaceId, 'BILLING_MANAGER'));
    await loaded(page);
    const rows = page.locator('#purchases-table tbody tr');
    await page.locator('#purchases-table').waitFor();
    expect(await rows.count()).toBe(20);
    const more = page.getByRole('button', { name: 'Show older purchases' });
    await more.click();
    await rows.nth(22).waitFor();
    expect(await rows.count()).toBe(23);
    await more.waitFor({ state: 'hidden' });
    await shot(page, 'purchases-older');
  });

  it('starts the forms afresh for another workspace signed in on the same page', async () => {
    const page = await newPage();
    await signIn(page, tokenFor('forms-a', 'BILLING_MANAGER'));
    await loaded(page);
    await page.locator('#notifications').waitFor();
    // Typed in one workspace, never saved...
    await page.getByLabel('Threshold').selectOption('credits');
    await page.getByLabel('Alert when available credits fall below').fill('777');
    await page.getByRole('button', { name: 'Sign out' }).click();
    // ...is not offered to the next one as its own.
    await page.getByLabel('Access token').fill(tokenFor('forms-b', 'BILLING_MANAGER'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await loaded(page);
    await page.locator('#alert-threshold-summary', { hasText: '(the default)' }).waitFor();
    expect(await page.getByLabel('Threshold').inputValue()).toBe('default');
    expect(await page.getByLabel('Alert when available credits fall below').inputValue()).toBe('100');
  });

  it('offers the demo workspace in development, and without payments disables Buy and says why', async () => {
    const withoutPayments = await startServer({
      env: { NODE_ENV: 'development', EXPIRY_SWEEP_INTERVAL_MS: '3600000' },
    });
    try {
      const page = await newPage();
      await page.goto(`${withoutPayments.url}/billing`);
      await page.getByRole('button', { name: 'Open the demo as owner' }).click();
      await loaded(page);
      expect(await text(page, '#identity-workspace')).toBe('demo');
      expect(await text(page, '#current-plan')).toBe('Growth');
      const reason = page.getByText('Buying credits is off on this server: no payment provider is connected');
      await reason.waitFor();
      const buy = page.getByRole('button', { name: 'Buy credits: 500 credits for $50.00' });
      expect(await buy.isDisabled()).toBe(true);
      expect(await page.getByRole('button', { name: /^Buy credits/, disabled: false }).count()).toBe(0);
      // A screen reader reads the reason with the button.
      expect(await buy.getAttribute('aria-describedby')).toBe('payments-off');
      expect(await page.locator('#payments-off').isVisible()).toBe(true);
      await shot(page, '11-payments-not-configured');
    } finally {
      await withoutPayments.stop();
    }
  });

  it('signs in from a link that carries the token in its fragment, then drops it from the address', async () => {
    const page = await newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`${server.url}/billing#token=${manager()}`);
    await loaded(page);
    expect(await text(page, '#identity-role')).toBe('Billing manager');
    expect(page.url()).toBe(`${server.url}/billing/`); // express.static adds the slash; the fragment survives it
    expect(requests.some((url) => url.includes('token='))).toBe(false);
    // Payments are on here: the buttons are live and nothing says otherwise.
    expect(await page.getByRole('button', { name: 'Buy credits: 500 credits for $50.00' }).isEnabled()).toBe(true);
    expect(await page.locator('#payments-off').isHidden()).toBe(true);
  });

  it('shows a billing manager the notifications: sets the low-balance threshold, sees the endpoints and their deliveries', async () => {
    // A workspace of its own, so that the other tests' balance and ledger stay as they are.
    const workspaceId = 'acme-notifications';
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 3000, reason: 'welcome', idempotencyKey: 'welcome' } },
      adminToken(),
    );
    const endpointAt = async (path: string, description: string) =>
      expectData(
        server.url,
        CreateWebhookEndpointDocument,
        { input: { workspaceId, url: `${receiver.url}${path}`, eventTypes: ['credits.low'], description } },
        adminToken(),
      );
    await endpointAt('/hooks/backend', 'our backend');
    await endpointAt('/hooks/broken', 'a receiver that answers 500');
    receiver.answer = ({ path }) => ({ status: path === '/hooks/broken' ? 500 : 204 });

    const page = await newPage();
    await signIn(page, tokenFor(workspaceId, 'BILLING_MANAGER', { subject: 'maria@acme.test' }));
    await loaded(page);
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    await page.getByRole('list', { name: `Latest deliveries to ${receiver.url}/hooks/backend` }).waitFor();
    expect(await page.getByText('Nothing sent yet.').count()).toBe(2);

    // Meanwhile another manager turns the recovered alert off and the expiry notice to 30 days.
    await expectData(
      server.url,
      ConfigureCreditAlertsDocument,
      { input: { workspaceId, notifyRecovered: false, expiringSoonDays: 30 } },
      tokenFor(workspaceId, 'OWNER'),
    );
    // A threshold above the 3,000 credits left: the workspace is low at once, and its endpoints are told.
    await page.getByLabel('Alert when available credits fall below').fill('5000');
    await page.getByRole('button', { name: 'Save threshold' }).click();
    await page
      .getByText(
        'You are alerted when available credits fall below 5,000. Once low, the workspace recovers at 5,500 available.',
      )
      .waitFor();
    // Saving the threshold kept the other manager's changes, though the page had loaded before them.
    const saved = await expectData(
      server.url,
      CreditAlertRulesDocument,
      { workspaceId },
      tokenFor(workspaceId, 'OWNER'),
    );
    expect(saved.creditAlertRules).toMatchObject({
      lowBalanceCredits: 5000,
      notifyRecovered: false,
      expiringSoonDays: 30,
    });
    const delivered = page.locator('li[data-status="SUCCEEDED"]', { hasText: 'credits.low — delivered' });
    const failing = page.locator('li[data-status="PENDING"]', {
      hasText: 'credits.low — failing (HTTP 500, 1 attempt)',
    });
    for (let tries = 0; (await delivered.count()) === 0 || (await failing.count()) === 0; tries++) {
      if (tries > 50) throw new Error('the deliveries never showed');
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(200);
    }
    expect(receiver.received.filter((request) => request.path === '/hooks/backend')).toHaveLength(1);
    await shot(page, '22-notifications');
    receiver.answer = () => ({ status: 204 });

    // A test message, to the one endpoint asked: the receiver gets a signed webhook.test.
    await page.getByRole('button', { name: `Send a test message to ${receiver.url}/hooks/backend` }).click();
    await page.locator('#status', { hasText: `Test message sent to ${receiver.url}/hooks/backend` }).waitFor();
    const tests = () =>
      receiver.received.filter(
        (request) => request.path === '/hooks/backend' && request.body.includes('"type":"webhook.test"'),
      );
    for (let tries = 0; tests().length === 0; tries++) {
      if (tries > 50) throw new Error('the test message never came');
      await page.waitForTimeout(100);
    }
    expect(tests()).toHaveLength(1);
    // The other endpoint was not asked: it got no test.
    expect(
      receiver.received.filter(
        (request) => request.path === '/hooks/broken' && request.body.includes('"type":"webhook.test"'),
      ),
    ).toEqual([]);

    // Saving what is set writes nothing; a percentage and the default are choices of their own.
    const rulesNow = async () =>
      (await expectData(server.url, CreditAlertRulesDocument, { workspaceId }, adminToken())).creditAlertRules;
    const setAt = (await rulesNow()).configuredAt;
    await page.getByRole('button', { name: 'Save threshold' }).click();
    await page.locator('#status', { hasText: 'The low-balance alert is already set that way.' }).waitFor();
    expect((await rulesNow()).configuredAt).toBe(setAt);

    await page.getByLabel('Threshold').selectOption('percent');
    await page.getByLabel("Alert below this percentage of the plan's included credits").fill('50');
    await page.getByRole('button', { name: 'Save threshold' }).click();
    // No plan allowance to take 50 % of: the catalog's minimum stands in for it.
    await page
      .getByText("You are alerted when available credits fall below 50 % of the plan's included credits (100 now).", {
        exact: false,
      })
      .waitFor();
    expect(await rulesNow()).toMatchObject({ lowBalanceCredits: null, lowBalancePercent: 50 });

    await page.getByLabel('Threshold').selectOption('default');
    await page.getByRole('button', { name: 'Save threshold' }).click();
    await page
      .getByText('You are alerted when available credits fall below 100 (the default).', { exact: false })
      .waitFor();
    expect(await rulesNow()).toMatchObject({ lowBalanceCredits: null, lowBalancePercent: null });

    // An emptied box is no threshold of 0: refused, and nothing written.
    const before = (await rulesNow()).configuredAt;
    await page.getByLabel('Threshold').selectOption('credits');
    await page.getByLabel('Alert when available credits fall below').fill('');
    await page.getByRole('button', { name: 'Save threshold' }).click();
    await page.locator('#status', { hasText: 'Enter a whole number of credits.' }).waitFor();
    expect((await rulesNow()).configuredAt).toBe(before);
    // Said under the box, where the billing manager is looking.
    expect(await text(page, '#alert-threshold-error')).toBe('Enter a whole number of credits.');
    expect(await page.getByLabel('Alert when available credits fall below').getAttribute('aria-invalid')).toBe('true');
  });

  it('names what each ledger entry is about, and lets an admin give a spend back with a reason', async () => {
    // A workspace of its own, so that the other tests' numbers stay as they are.
    const workspaceId = 'acme-links';
    const admin = adminToken();
    await applyAllowance(server.url, workspaceId, 'growth');
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 50, reason: 'sorry for the outage', idempotencyKey: 'g' } },
      admin,
    );
    await expectData(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId, packageId: 'credits-500', paymentReference: 'INV-42' } },
      admin,
    );
    await expectData(
      server.url,
      RefundCreditPurchaseDocument,
      { input: { workspaceId, purchaseId: 'INV-42', credits: 100, reason: 'bought twice' } },
      admin,
    );
    const spent = (
      await expectData(
        server.url,
        ConsumeCreditsDocument,
        {
          input: { workspaceId, action: 'ORG_CHART_GENERATION', idempotencyKey: 'links-1', reference: 'Acme Corp' },
        },
        tokenFor(workspaceId, 'MEMBER'),
      )
    ).consumeCredits;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });

    const page = await newPage();
    await signIn(page, tokenFor(workspaceId, 'OWNER', { admin: true, subject: 'support@vendor.test' }));
    await loaded(page);
    const entry = (type: string) => page.locator(`#ledger-table tbody tr[data-entry-type="${type}"]`).first();
    const detail = async (type: string) => (await entry(type).locator('.entry__detail').textContent())?.trim();
    expect(await detail('PLAN_ALLOWANCE')).toBe('Growth plan');
    expect(await detail('PROMOTIONAL_GRANT')).toBe('“sorry for the outage”');
    expect(await detail('PURCHASE')).toBe('500 credits · $50.00');
    expect(await detail('PURCHASE_REFUND')).toBe('500 credits · “bought twice” · money returned · −$10.00');
    expect(await detail('CONSUMPTION')).toBe('Acme Corp');
    expect(await entry('PURCHASE').locator('.entry__id code').textContent()).toBe('INV-42');
    expect(await entry('CONSUMPTION').locator('.entry__id code').textContent()).toBe(spent.id);

    // The id to hand on, copied as it is.
    await page.getByRole('button', { name: `Copy spend id ${spent.id}` }).click();
    await page.locator('#status', { hasText: 'Spend id copied.' }).waitFor({ state: 'attached' });
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(spent.id);

    // Giving the spend back: a reason is required, then the balance and the ledger say so.
    const available = Number((await text(page, '#credits-available'))?.replace(/,/g, ''));
    await page.getByRole('button', { name: 'Refund spend: Org chart generation, 100 credits' }).click();
    const reason = page.getByLabel('Why give these credits back?');
    expect(await page.evaluate('document.activeElement?.id')).toBe(await reason.getAttribute('id'));
    await page.getByRole('button', { name: 'Give 100 credits back' }).click();
    await page.getByText('Say why, for the workspace’s history.').waitFor();
    expect(await reason.getAttribute('aria-invalid')).toBe('true');
    await shot(page, '20-refund-spend-form');
    await reason.fill('the org chart run failed');
    await page.getByRole('button', { name: 'Give 100 credits back' }).click();
    await page.locator('tr[data-entry-type="CONSUMPTION_REFUND"]').waitFor();
    expect(await text(page, '#credits-available')).toBe(formatted(available + 100));
    expect(await detail('CONSUMPTION_REFUND')).toBe('“the org chart run failed”');
    expect(await entry('CONSUMPTION_REFUND').locator('.entry__id code').textContent()).toBe(spent.id);
    expect(await detail('CONSUMPTION')).toBe('Acme Corp · 100 refunded');
    expect(await page.getByRole('button', { name: /^Refund spend/ }).count()).toBe(0);
    await shot(page, '21-ledger-links');

    // A member reads the same names, not the money, and has nothing to refund with.
    const asMember = await newPage();
    await signIn(asMember, tokenFor(workspaceId, 'MEMBER'));
    await loaded(asMember);
    const memberDetail = async (type: string) =>
      (
        await asMember.locator(`#ledger-table tbody tr[data-entry-type="${type}"] .entry__detail`).first().textContent()
      )?.trim();
    expect(await memberDetail('PURCHASE')).toBe('500 credits');
    expect(await memberDetail('PURCHASE_REFUND')).toBe('500 credits · “bought twice” · money returned');
    expect(await asMember.getByRole('button', { name: /^Refund spend/ }).count()).toBe(0);
    expect(await asMember.getByRole('button', { name: /^Copy spend id/ }).count()).toBe(2);
  });
});
