/**
 * The README's quick start must work for a newcomer on any date. This runs its shell block exactly
 * as written (bash, the README's own npm scripts and curl) against a fresh server started the way
 * `npm start` starts it, with only the variables the README names (PORT, DATA_DIR) set, and checks
 * the answers it prints. The first block must stay the two-command rule: serve, and test. The
 * "Long-running actions" example runs after it, in the same shell, and answers what the README says.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort, startServer, type ServerProcess } from './support/server-process';

const README = readFileSync('README.md', 'utf8');

/** The fenced `sh` blocks of one of the README's "## " sections. */
function shBlocks(heading: string): string[] {
  const start = README.indexOf(`## ${heading}`);
  const section = README.slice(start, README.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

const quickStartBlocks = (): string[] => shBlocks('Quick start');

/** Runs a script in bash as a reader would, against the test's server; its lines of JSON. */
function runLines(script: string): unknown[] {
  const environment = { ...process.env };
  delete environment.AUTH_JWT_SECRET;
  const run = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
    env: { ...environment, PORT: String(port), DATA_DIR: server.dataDir },
    encoding: 'utf8',
    timeout: 90_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
}

/** The commands of a block, without the comments that explain them. */
const commandsOf = (block: string): string[] =>
  block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');

let server: ServerProcess;
let port: number;

beforeAll(async () => {
  port = await freePort();
  // AUTH_JWT_SECRET empty: the development secret under DATA_DIR, exactly as on a fresh clone.
  server = await startServer({ env: { PORT: String(port), HOST: '127.0.0.1', AUTH_JWT_SECRET: '' } });
});
afterAll(async () => {
  await server?.stop();
});

it('keeps the two-command rule: one command serves on the embedded store, one runs the tests', () => {
  const [serve] = quickStartBlocks();
  expect(commandsOf(serve ?? '')).toEqual(['npm ci && npm start', 'npm test']);
});

it('runs the quick start as written and gets the balance, the spend and the breakdown', () => {
  const [, tryIt] = quickStartBlocks();
  expect(tryIt).toBeDefined();
  const [seeded, spent, balance, ...rest] = runLines(tryIt as string);
  expect(rest).toEqual([]);
  expect(seeded).toMatchObject({
    data: { applyPlanAllowance: { workspaceId: 'acme', available: 5000, included: { granted: 5000 } } },
  });
  expect(spent).toEqual({
    data: { consumeCredits: { credits: 100, available: 4900, drawdown: [{ source: 'INCLUDED', credits: 100 }] } },
  });
  expect(balance).toEqual({
    data: { workspaceCredits: { available: 4900, included: { granted: 5000, consumed: 100, remaining: 4900 } } },
  });
}, 120_000);

it('runs the long-running actions example after the quick start and gets what the README says', () => {
  const [, tryIt] = quickStartBlocks();
  const [holds] = shBlocks('Long-running actions');
  expect(holds).toBeDefined();
  // The quick start again (its seed and spend are idempotent), then the example in the same shell.
  const lines = runLines(`${tryIt as string}\n${holds as string}`);
  expect(lines.slice(-2)).toEqual([
    { data: { workspaceCredits: { available: 4400, held: 500 } } },
    { data: { settleCreditHold: { credits: 300, available: 4600 } } },
  ]);
}, 120_000);
