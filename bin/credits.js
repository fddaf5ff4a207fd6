#!/usr/bin/env node
/**
 * `npx credits <command>`: the credits CLI (src/cli/credits.ts) as a package bin, so that
 * `npx credits export > ledger.csv` writes the export and nothing else: npm prints no banner for a
 * bin, and the compiler's messages go to stderr. Like `npm run credits` it compiles first, where
 * the compiler is installed (a production install runs the build it shipped with).
 */
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
} catch {
  tsc = undefined;
}
if (tsc) {
  const build = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], {
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
require(join(root, 'dist', 'src', 'cli', 'credits.js'));
