import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * End-to-end tests run the real server process, which runs the compiled output and, in
 * development, serves the explorer bundle; both are built once here, as `npm start` builds them.
 *
 * Every temporary directory of the run (data directories, snapshots, catalogs, and those of the
 * servers the tests start, which inherit the environment) is made under one root, which the
 * teardown removes: a full run makes thousands, hundreds of megabytes each for some.
 */
export default function globalSetup(): void {
  const root = mkdtempSync(join(tmpdir(), 'credits-test-run-'));
  process.env.TMPDIR = root;
  process.env.CREDITS_TEST_RUN_DIR = root;
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['web/explorer/build.mjs'], { stdio: 'inherit' });
}
