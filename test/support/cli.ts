import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { TEST_JWT_SECRET } from './server-process';

const CLI = resolve(__dirname, '../../dist/src/cli/credits.js');

/** Runs `credits <args>` (the built CLI) against a data directory. */
export function runCreditsCli(dataDir: string, args: string[], nodeOptions: string[] = []) {
  const result = spawnSync(process.execPath, [...nodeOptions, CLI, ...args], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`credits ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}
