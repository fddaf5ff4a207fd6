/**
 * Two CLI answers a newcomer meets: `seed` run from a shell whose secret is not the server's says
 * what to do, and `reactions` with nothing parked says so on stderr (stdout stays JSON lines).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { spawnCreditsCli } from '../support/cli';
import { newDataDir, startServer, type ServerProcess } from '../support/server-process';

const CLI = resolve(__dirname, '../../dist/src/cli/credits.js');
let server: ServerProcess | undefined;
let dataDir: string;

beforeAll(async () => {
  dataDir = newDataDir();
  server = await startServer({ dataDir });
});
afterAll(async () => {
  await server?.stop();
});

it('says why a seed was refused when its token was signed with another secret than the server’s', () => {
  const seeded = spawnSync(process.execPath, [CLI, 'seed', '--workspace', 'acme', '--url', server?.url ?? ''], {
    env: { PATH: process.env.PATH, AUTH_JWT_SECRET: 'another-secret-than-the-servers-0123456789', LOG_LEVEL: 'silent' },
    encoding: 'utf8',
  });
  expect(seeded.status).toBe(1);
  expect(seeded.stderr).toContain('The token is not valid.');
  expect(seeded.stderr).toContain("run seed with the server's DATA_DIR (its development secret) or AUTH_JWT_SECRET");
});

it('lists no parked work as a note on stderr, leaving stdout empty', () => {
  const listed = spawnCreditsCli(dataDir, ['reactions']);
  expect(listed.status).toBe(0);
  expect(listed.stdout).toBe('');
  expect(listed.stderr).toContain('No parked work');
});
