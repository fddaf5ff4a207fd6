/**
 * The README's "Buy credits locally" block, run as written (`npm run demo`: the build, then the
 * server with the local Stripe double) on a free loopback port, and the purchase's six steps done
 * in Chromium from the link it prints: Billing, review, Buy, package, pay, confirm. The credits
 * arrive, Stripe sends the buyer back to this server (PUBLIC_URL's default), nothing leaves
 * loopback, and Ctrl-C stops it all and deletes its data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { WorkspaceCreditsDocument } from './generated/graphql';
import { expectData } from './support/graphql-client';
import { freePort } from './support/server-process';
import { CHROMIUM } from './support/chromium';

const README = readFileSync('README.md', 'utf8');

/** The one command of the fenced `sh` block under "## Buy credits locally", without its comment. */
function demoCommand(): string {
  const start = README.indexOf('## Buy credits locally');
  const section = README.slice(start, README.indexOf('\n## ', start + 1));
  const [block, ...others] = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  expect(others).toEqual([]);
  const commands = (block ?? '')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');
  expect(commands).toHaveLength(1);
  return commands[0] as string;
}

let demo: ChildProcess;
/** Once every process of the demo has let go of its output: npm, the build and the server. */
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let output = '';
let port: number;
let browser: Browser | undefined;
const seconds: Record<string, number> = {};

/** Resolves once the demo has printed `text`; rejects if it exits first or takes longer than `ms`. */
function printed(text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${text}" after ${ms} ms:\n${output}`)), ms);
    const check = (): void => {
      if (!output.includes(text)) return;
      clearTimeout(timer);
      resolve();
    };
    demo.stdout?.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code ?? signal}) before printing "${text}":\n${output}`));
    });
    check();
  });
}

const line = (label: RegExp): string => {
  const match = label.exec(output);
  if (!match?.[1]) throw new Error(`the demo printed no ${label}:\n${output}`);
  return match[1];
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`This test needs Chromium at ${CHROMIUM}: apt-get install chromium.`);
  port = await freePort();
  // As a newcomer's shell would be, without the secrets and addresses the other tests use.
  const environment = { ...process.env };
  for (const name of ['AUTH_JWT_SECRET', 'PUBLIC_URL', 'LOG_LEVEL', 'DATA_DIR', 'EVENTSTORE_URL']) {
    delete environment[name];
  }
  const started = Date.now();
  // Its own process group, so that Ctrl-C reaches npm and the demo as it does in a terminal.
  demo = spawn('bash', ['-c', demoCommand()], {
    env: { ...environment, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  exited = new Promise((done) => demo.once('close', (code, signal) => done({ code, signal })));
  demo.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  demo.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await printed('Ctrl-C stops the demo.', 120_000);
  seconds.toLink = (Date.now() - started) / 1000;
}, 130_000);

afterAll(async () => {
  await browser?.close();
  if (demo?.exitCode === null && demo.signalCode === null && demo.pid) process.kill(-demo.pid, 'SIGKILL');
  const dataDir = /Data\s+(\S+)/.exec(output)?.[1];
  if (dataDir?.includes('credits-demo-')) rmSync(dataDir, { recursive: true, force: true });
  console.log(`npm run demo: link printed after ${seconds.toLink} s; six steps in Chromium: ${seconds.purchase} s`);
});

it('prints a link to the Billing page with a token, on loopback, and the double on loopback too', () => {
  const link = new URL(line(/^\s+(http\S+\/billing#token=\S+)$/m));
  expect(link.origin).toBe(`http://localhost:${port}`);
  expect(link.hash).toMatch(/^#token=[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(new URL(line(/Stripe double\s+(\S+)/)).hostname).toBe('127.0.0.1');
  expect(line(/GraphQL explorer\s+(\S+)/)).toBe(`http://localhost:${port}/graphql`);
});

it('takes a newcomer through the six steps in a browser, and the purchased credits arrive', async () => {
  const link = line(/^\s+(http\S+\/billing#token=\S+)$/m);
  const token = new URL(link).hash.slice('#token='.length);
  const started = Date.now();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, locale: 'en-US' });
  const origins = new Set<string>();
  page.on('request', (request) => origins.add(new URL(request.url()).hostname));
  const text = async (selector: string) => (await page.locator(selector).textContent())?.trim();

  // 1. Go to Billing, signed in by the link.
  await page.goto(link);
  await page.getByRole('heading', { name: 'Credit history' }).waitFor();
  await page.locator('#loading').waitFor({ state: 'hidden' });
  expect(await text('#identity-workspace')).toBe('demo');
  // 2. Review: this month's Growth allowance less the seeded spends; nothing bought yet.
  expect(await text('#current-plan')).toBe('Growth');
  expect(await text('#credits-purchased')).toBe('0');
  const before = await expectData(`http://127.0.0.1:${port}`, WorkspaceCreditsDocument, { workspaceId: 'demo' }, token);
  expect(before.workspaceCredits).toMatchObject({ included: { granted: 5000 }, purchased: { granted: 0 } });
  expect(await text('#credits-available')).toBe(before.workspaceCredits.available.toLocaleString('en-US'));
  // 3 and 4. Find Buy credits and pick the 2,000-credit package: off to the double's checkout page.
  await page.getByRole('heading', { name: 'Buy credits' }).waitFor();
  await page.getByRole('button', { name: 'Buy credits: 2,000 credits for $180.00' }).click();
  await page.getByRole('heading', { name: 'Test checkout: 2,000 credits — $180.00' }).waitFor();
  expect(new URL(page.url()).hostname).toBe('127.0.0.1');
  // 5. Pay: the double signs the webhook, delivers it, and sends the buyer back to this server.
  await page.getByRole('button', { name: 'Pay' }).click();
  await page.waitForURL(new RegExp(`^http://localhost:${port}/billing/?\\?checkout=success&session_id=cs_test_`));
  // 6. Confirm: the purchased credits are in the balance.
  await page.getByText('Payment confirmed: 2,000 credits added.').waitFor();
  expect(await text('#credits-purchased')).toBe('2,000');
  const after = await expectData(`http://127.0.0.1:${port}`, WorkspaceCreditsDocument, { workspaceId: 'demo' }, token);
  expect(after.workspaceCredits.available).toBe(before.workspaceCredits.available + 2000);
  expect(after.workspaceCredits.purchased).toMatchObject({ granted: 2000, remaining: 2000 });
  expect(await text('#credits-available')).toBe(after.workspaceCredits.available.toLocaleString('en-US'));
  seconds.purchase = (Date.now() - started) / 1000;
  // The browser went nowhere but this machine.
  expect([...origins].sort()).toEqual(['127.0.0.1', 'localhost']);
}, 60_000);

it('stops on Ctrl-C, leaving no process and no data behind', async () => {
  const dataDir = line(/Data\s+(\S+)/);
  expect(existsSync(join(dataDir, 'events.sqlite'))).toBe(true);
  process.kill(-(demo.pid as number), 'SIGINT');
  await exited; // npm's own status is npm's business: what matters is what the demo leaves behind
  expect(output).toContain('The demo stopped; its data is gone.');
  let left: unknown;
  try {
    process.kill(-(demo.pid as number), 0); // signal 0: is anyone of the group still there?
  } catch (error) {
    left = (error as NodeJS.ErrnoException).code;
  }
  expect(left).toBe('ESRCH');
  expect(existsSync(dataDir)).toBe(false);
}, 30_000);
