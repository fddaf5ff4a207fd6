/**
 * The Billing page keeping its figures true when things go wrong, in a real browser (Debian's
 * Chromium through playwright-core) against the real server, without payments: live updates that
 * cannot connect, sections that fail to load, a sign-out and a sign-in as someone else in the same
 * tab. Requests and the WebSocket are failed from the browser's side (page.route,
 * page.routeWebSocket), and the page's clock is moved on instead of waiting where it waits long.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  ConsumeCreditsDocument,
  GrantCreditsDocument,
  PurchaseCreditsDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { applyAllowance, expectData } from '../support/graphql-client';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';

jest.setTimeout(30_000);

const CHROMIUM = '/usr/bin/chromium';

let server: ServerProcess;
let browser: Browser;
const contexts: BrowserContext[] = [];
let workspaces = 0;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The browser tests need Chromium at ${CHROMIUM}: apt-get install chromium (see .ci/run).`);
  }
  const started = await Promise.allSettled([
    startServer({ env: { EXPIRY_SWEEP_INTERVAL_MS: '3600000' } }).then((up) => (server = up)),
    chromium
      .launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
      })
      .then((launched) => (browser = launched)),
  ]);
  for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
}, 60_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A tab of its own (its own sessionStorage), not yet on the page. */
async function newPage(timezoneId?: string): Promise<Page> {
  const context = await browser.newContext({
    locale: 'en-US',
    viewport: { width: 1100, height: 900 },
    ...(timezoneId && { timezoneId }),
  });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  return page;
}

/** A workspace of its own with `credits` promotional credits. */
async function workspaceWith(credits: number): Promise<string> {
  const workspaceId = `live-${++workspaces}-${Date.now() % 100_000}`;
  await expectData(
    server.url,
    GrantCreditsDocument,
    { input: { workspaceId, credits, reason: 'trial', idempotencyKey: `${workspaceId}-trial` } },
    adminToken(),
  );
  return workspaceId;
}

const spend = (workspaceId: string, units: number, key: string) =>
  expectData(
    server.url,
    ConsumeCreditsDocument,
    { input: { workspaceId, action: 'PERSON_ENRICHMENT', units, idempotencyKey: key } },
    tokenFor(workspaceId, 'MEMBER'),
  );

const text = async (page: Page, selector: string) => (await page.locator(selector).textContent())?.trim();
const loaded = (page: Page) => page.locator('#loading').waitFor({ state: 'hidden' });

describe('the Billing page, when things go wrong', () => {
  it('shows the new balance when the 15-second re-check, not a live update, finds the purchase', async () => {
    const workspaceId = await workspaceWith(100);
    const page = await newPage();
    // Live updates never connect (a proxy without WebSockets): only the re-check can find the purchase.
    await page.routeWebSocket(/\/graphql/, (socket) => socket.close({ code: 1011, reason: 'no WebSockets here' }));
    await page.clock.install();
    const token = tokenFor(workspaceId, 'BILLING_MANAGER');
    await page.goto(`${server.url}/billing/?checkout=success&session_id=cs_late#token=${token}`);
    await loaded(page);
    await page.getByText('Payment received — waiting for confirmation').waitFor();
    expect(await text(page, '#credits-available')).toBe('100');

    // Stripe's webhook lands: the purchase is recorded under the checkout session's id.
    await expectData(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId, packageId: 'credits-500', paymentReference: 'cs_late' } },
      adminToken(),
    );
    await page.clock.fastForward(16_000);
    await page.getByText('Payment confirmed: 500 credits added.').waitFor();
    expect(await text(page, '#checkout-status-detail')).toBe('Available now: 600 credits.');
    expect(await text(page, '#credits-available')).toBe('600');
    expect(await text(page, '#credits-purchased')).toBe('500');
    await page.locator('#ledger-table tbody tr[data-entry-type="PURCHASE"]').waitFor();
  });

  it('shows a spend made between the first read of the balance and the start of live updates', async () => {
    const workspaceId = await workspaceWith(1000);
    const page = await newPage();
    // The usage chart is slow to load (a busy workspace pages through its spends): the page subscribes after it.
    let slowed = false;
    await page.route('**/graphql', async (route) => {
      if (!slowed && route.request().postData()?.includes('query BillingSpends')) {
        slowed = true;
        await new Promise((done) => setTimeout(done, 1500));
      }
      await route.continue();
    });
    await page.goto(`${server.url}/billing/#token=${tokenFor(workspaceId, 'BILLING_MANAGER')}`);
    await page.locator('#credits-available', { hasText: '1,000' }).waitFor();
    await spend(workspaceId, 10, 'between-read-and-subscribe'); // 70 credits
    await loaded(page);
    await page.locator('body[data-live="live"]').waitFor({ state: 'attached' });
    await page.locator('#credits-available', { hasText: '930' }).waitFor({ timeout: 5_000 });
    expect(await text(page, '#ledger-table tbody tr:first-child td[data-label="Balance"]')).toBe('930');
  });

  it('shows nothing of the workspace signed out of, while the next one loads or when its load fails', async () => {
    const first = await workspaceWith(4321);
    await spend(first, 1, 'first-spend');
    const second = await workspaceWith(50);
    const secondToken = tokenFor(second, 'MEMBER', { subject: 'bob' });
    const page = await newPage();
    // The second workspace's answers wait until the test lets them through, or fail.
    let release: (outcome: 'answer' | 'fail') => void = () => {};
    const held = new Promise<'answer' | 'fail'>((done) => (release = done));
    await page.route('**/graphql', async (route) => {
      if (!route.request().headers().authorization?.includes(secondToken)) return route.continue();
      return (await held) === 'answer' ? route.continue() : route.abort('internetdisconnected');
    });
    await page.goto(`${server.url}/billing/#token=${tokenFor(first, 'OWNER', { subject: 'alice' })}`);
    await loaded(page);
    await page.locator('body[data-live="live"]').waitFor({ state: 'attached' });
    expect(await text(page, '#credits-available')).toBe('4,314');

    await page.getByRole('button', { name: 'Sign out' }).click();
    // What of a workspace the page shows: sections not hidden, table rows, and the text of it all.
    const shown = () =>
      page.evaluate<{ sections: number; rows: number; text: string }>(`({
        sections: [...document.querySelectorAll('#app section')].filter((section) => !section.hidden).length,
        rows: document.querySelectorAll('#app tbody tr').length,
        text: document.getElementById('app').textContent,
      })`);
    const signedOut = await shown();
    expect(signedOut).toMatchObject({ sections: 0, rows: 0 });
    expect(signedOut.text).not.toContain('4,314');

    await page.getByLabel('Access token').fill(secondToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#loading').waitFor();
    expect(await text(page, '#identity-workspace')).toBe(second);
    const loading = await shown();
    expect(loading).toMatchObject({ sections: 0, rows: 0 });
    expect(loading.text).not.toContain('4,314');

    release('fail');
    await page.getByRole('button', { name: 'Try again' }).waitFor();
    const failed = await shown();
    expect(failed).toMatchObject({ sections: 0, rows: 0 });
    expect(failed.text).not.toContain('4,314');
  });

  it('leaves no error on the sign-in form after signing out just after a live update', async () => {
    const workspaceId = await workspaceWith(1000);
    const page = await newPage();
    await page.goto(`${server.url}/billing/#token=${tokenFor(workspaceId, 'OWNER')}`);
    await loaded(page);
    await page.locator('body[data-live="live"]').waitFor({ state: 'attached' });
    await page.waitForTimeout(500); // the refresh that follows the subscription is done
    await spend(workspaceId, 1, 'just-before-sign-out');
    await page.locator('#status', { hasText: 'Balance updated' }).waitFor({ state: 'attached' });
    await page.getByRole('button', { name: 'Sign out' }).click(); // within the 150 ms before the refresh
    await page.waitForTimeout(600);
    expect(await page.locator('#alert').isHidden()).toBe(true);
    expect(await page.locator('#signin-reason').isHidden()).toBe(true);
  });

  it('goes live when a section fails to load, and shows that section’s error with Try again', async () => {
    const workspaceId = await workspaceWith(1000);
    await spend(workspaceId, 1, 'before-load');
    const page = await newPage();
    let ledgerDown = true;
    await page.route('**/graphql', (route) =>
      ledgerDown && route.request().postData()?.includes('query BillingLedger')
        ? route.fulfill({
            contentType: 'application/json',
            body: JSON.stringify({
              data: null,
              errors: [
                { message: 'The ledger read model is being rebuilt.', extensions: { code: 'READ_MODEL_UNAVAILABLE' } },
              ],
            }),
          })
        : route.continue(),
    );
    await page.goto(`${server.url}/billing/#token=${tokenFor(workspaceId, 'BILLING_MANAGER')}`);
    await loaded(page);
    const ledgerError = page.locator('#ledger .section-error');
    await ledgerError.waitFor();
    expect(await ledgerError.textContent()).toContain('The credit history could not be loaded.');
    expect(await page.locator('#ledger-table').isVisible()).toBe(false);
    expect(await page.locator('#alert').isHidden()).toBe(true);
    // The rest of the page is there, and live.
    await page.locator('body[data-live="live"]').waitFor({ state: 'attached' });
    await spend(workspaceId, 2, 'while-ledger-down');
    await page.locator('#credits-available', { hasText: '979' }).waitFor();

    ledgerDown = false;
    await page.getByRole('button', { name: 'Try again: the credit history' }).click();
    await page.locator('#ledger-table tbody tr').first().waitFor();
    expect(await ledgerError.count()).toBe(0);
    expect(await text(page, '#ledger-table tbody tr:first-child td[data-label="Balance"]')).toBe('979');
  });

  it('says when the server refuses live updates for a limit, and tries again later', async () => {
    const workspaceId = await workspaceWith(1000);
    const page = await newPage();
    // The caller holds the most sockets the server allows (other tabs): the first two are refused.
    let refusals = 2;
    await page.routeWebSocket(/\/graphql/, (socket) => {
      if (refusals-- > 0) {
        void socket.close({
          code: 4403,
          reason: 'Forbidden: this caller already has 20 sockets open, the most allowed.',
        });
      } else {
        socket.connectToServer();
      }
    });
    await page.clock.install();
    await page.goto(`${server.url}/billing/#token=${tokenFor(workspaceId, 'BILLING_MANAGER')}`);
    await loaded(page);
    const notice = page.locator('#live-offline');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(
      /^Live updates are paused: this sign-in already has as many live connections open as the server allows .*trying again in \d+ s/,
    );
    expect(await page.locator('#signin').isHidden()).toBe(true);

    await page.clock.fastForward(6_000); // the first retry, refused again
    await page.clock.fastForward(11_000); // the second
    await page.locator('body[data-live="live"]').waitFor({ state: 'attached' });
    await notice.waitFor({ state: 'hidden' });
    await spend(workspaceId, 1, 'after-refusals');
    await page.locator('#credits-available', { hasText: '993' }).waitFor();
  });

  it('says what a rate limit means and when to try again, and clears it once a refresh succeeds', async () => {
    const workspaceId = await workspaceWith(1000);
    const page = await newPage();
    let limited = false;
    await page.route('**/graphql', (route) =>
      limited && route.request().postData()?.includes('query BillingRefresh')
        ? route.fulfill({
            status: 429,
            headers: { 'retry-after': '7' },
            contentType: 'application/json',
            body: JSON.stringify({
              errors: [
                {
                  message: 'Too many requests from this caller: at most 1000 every 10 s. Retry after 7 s.',
                  extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 7 },
                },
              ],
            }),
          })
        : route.continue(),
    );
    await page.goto(`${server.url}/billing/#token=${tokenFor(workspaceId, 'BILLING_MANAGER')}`);
    await loaded(page);
    await page.locator('body[data-live="live"]').waitFor({ state: 'attached' });
    await page.waitForTimeout(500); // the refresh that follows the subscription is done
    limited = true;
    await spend(workspaceId, 1, 'limited');
    await page.locator('#alert').waitFor();
    expect(await text(page, '#alert-text')).toBe(
      'Too many requests came from this sign-in just now. Wait 7 seconds, then try again.',
    );

    limited = false;
    await spend(workspaceId, 1, 'not-limited');
    await page.locator('#credits-available', { hasText: '986' }).waitFor();
    await page.locator('#alert').waitFor({ state: 'hidden' });
  });

  it('says in money, not minor units, why an auto top-up limit is refused', async () => {
    const workspaceId = await workspaceWith(1000);
    const page = await newPage();
    await page.goto(`${server.url}/billing/#token=${tokenFor(workspaceId, 'BILLING_MANAGER')}`);
    await loaded(page);
    await page.getByLabel('At most this much per month (USD)').fill('1');
    await page.getByRole('button', { name: 'Review terms' }).click();
    await page.locator('#alert').waitFor();
    const said = await text(page, '#alert-text');
    expect(said).toMatch(
      /^The monthly limit, \$1\.00, is less than a single top-up, \$[\d,.]+: no top-up could ever be charged\./,
    );
    expect(said).not.toMatch(/monthlyLimit|minor units/);
  });

  it('stops waiting for a checkout the server does not know after a while, says how to check, and still shows it if it comes', async () => {
    const workspaceId = await workspaceWith(100);
    const page = await newPage();
    await page.clock.install();
    const token = tokenFor(workspaceId, 'BILLING_MANAGER');
    await page.goto(`${server.url}/billing/?checkout=success&session_id=cs_unknown#token=${token}`);
    await loaded(page);
    await page.getByText('Payment received — waiting for confirmation').waitFor();
    // Each step fires the 15-second re-check once.
    for (let step = 0; step < 13; step++) await page.clock.fastForward(15_000);
    await page.getByText('This payment is not confirmed yet.').waitFor();
    expect(await text(page, '#checkout-status-detail')).toMatch(
      /^Stripe has not confirmed checkout cs_unknown to this server in 3 minutes, so no credits were added for it\. .*reload it later and look under Purchases/,
    );

    // Stripe confirms after all: the live update says so.
    await page.locator('body[data-live="live"]').waitFor({ state: 'attached' });
    await expectData(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId, packageId: 'credits-500', paymentReference: 'cs_unknown' } },
      adminToken(),
    );
    await page.getByText('Payment confirmed: 500 credits added.').waitFor();
    expect(await text(page, '#checkout-status-detail')).toBe('Available now: 600 credits.');
  });

  it('shows the period end in UTC, keeps keyboard focus on the ledger pager, and asks to review changed top-up terms', async () => {
    const workspaceId = await workspaceWith(5000);
    await applyAllowance(server.url, workspaceId, 'starter');
    for (let index = 0; index < 11; index++) await spend(workspaceId, 1, `spend-${index}`);
    const { periodEnd } = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken()))
      .workspaceCredits;
    const page = await newPage('America/Los_Angeles');
    await page.goto(`${server.url}/billing/#token=${tokenFor(workspaceId, 'BILLING_MANAGER')}`);
    await loaded(page);

    // The period ends at an instant set in UTC: said so, whatever the reader's time zone.
    const end = new Date(String(periodEnd));
    const inUtc = `${end.toLocaleDateString('en-US', { timeZone: 'UTC', dateStyle: 'medium' })}, ${end
      .toISOString()
      .slice(11, 16)} UTC`;
    expect(await text(page, '#credits-included-detail')).toBe(`of 1,000 this period · period ends ${inUtc}`);

    // The last page's Next is disabled once there: focus goes to Previous, not to the page's start.
    await page.getByRole('button', { name: 'Next page' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Page 2', { exact: true }).waitFor();
    expect(await page.evaluate('document.activeElement?.id')).toBe('ledger-previous');

    // The usage table, hidden from sight, is no tab stop.
    await page.getByRole('button', { name: 'Show as table' }).focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.id')).not.toBe('usage-table-wrap');

    // Terms reviewed, then a setting changed: the terms shown are no longer those, so they go until reviewed again.
    await page.getByLabel('At most this much per month (USD)').fill('500');
    await page.getByRole('button', { name: 'Review terms' }).click();
    await page.locator('#topup-consent').waitFor();
    await page.getByLabel('I agree to these automatic charges').check();
    await page.getByLabel('At most this much per month (USD)').fill('600');
    await page.locator('#topup-consent').waitFor({ state: 'hidden' });
    expect(await page.getByLabel('I agree to these automatic charges').isChecked()).toBe(false);
  });
});
