/** Runs the built credits CLI in a child process, as an analyst would, against a test data directory. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { TEST_JWT_SECRET } from './server-process';

const CLI = resolve(__dirname, '../../dist/src/cli/credits.js');

/** Runs `credits <args>` (the built CLI) against a data directory, whatever its exit code. */
export function spawnCreditsCli(dataDir: string, args: string[], nodeOptions: string[] = []) {
  return spawnSync(process.execPath, [...nodeOptions, CLI, ...args], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** Runs `credits <args>` and throws unless it succeeded. */
export function runCreditsCli(dataDir: string, args: string[], nodeOptions: string[] = []) {
  const result = spawnCreditsCli(dataDir, args, nodeOptions);
  if (result.status !== 0) throw new Error(`credits ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}
