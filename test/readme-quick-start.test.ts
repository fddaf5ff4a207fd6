/**
 * The README's quick start must work for a newcomer on any date. This runs its shell block exactly
 * as written (bash, the README's own npm scripts and curl) against a fresh server started the way
 * `npm start` starts it, with only the variables the README names (PORT, DATA_DIR) set, and checks
 * the answers it prints. The first block must stay the two-command rule: serve, and test.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort, startServer, type ServerProcess } from './support/server-process';

const README = readFileSync('README.md', 'utf8');

/** The fenced `sh` blocks of the README's "## Quick start" section. */
function quickStartBlocks(): string[] {
  const start = README.indexOf('## Quick start');
  const section = README.slice(start, README.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
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
  await server.stop();
});

it('keeps the two-command rule: one command serves on the embedded store, one runs the tests', () => {
  const [serve] = quickStartBlocks();
  expect(commandsOf(serve ?? '')).toEqual(['npm ci && npm start', 'npm test']);
});

it('runs the quick start as written and gets the balance, the spend and the breakdown', () => {
  const [, tryIt] = quickStartBlocks();
  expect(tryIt).toBeDefined();
  const environment = { ...process.env };
  delete environment.AUTH_JWT_SECRET;
  const run = spawnSync('bash', ['-euo', 'pipefail', '-c', tryIt as string], {
    env: { ...environment, PORT: String(port), DATA_DIR: server.dataDir },
    encoding: 'utf8',
    timeout: 90_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const [seeded, spent, balance, ...rest] = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
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
