/**
 * Starts the real server (`node dist/src/main.js`, built by the global setup) as a child process on
 * a free port and a data directory of the test's choosing, and stops it the way an operator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Principal, Role } from '../../src/auth/principal';
import { signToken } from '../../src/auth/tokens';

export { freePort } from './free-port';

export const TEST_JWT_SECRET = 'test-secret-for-e2e-only-0123456789abcdef';
/** The key that seals webhook signing secrets (production requires one). */
export const TEST_WEBHOOK_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');
const MAIN = resolve(__dirname, '../../dist/src/main.js');

export interface ServerProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** Every log line the server printed, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export const newDataDir = (): string => mkdtempSync(join(tmpdir(), 'credits-e2e-'));

/**
 * How long a server may take to listen before it is killed and its start refused: within Jest's
 * 30 s hook timeout, since a beforeAll that timed out first would leave the process running after
 * Jest exits. A start takes a second or two.
 */
const START_DEADLINE_MS = 25_000;

export function startServer(options: { dataDir?: string; env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? newDataDir();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY,
      LOG_LEVEL: 'info',
      // Stopped servers close at once; the drain's linger has a test of its own (restart.test.ts).
      SHUTDOWN_LINGER_MS: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return new Promise((resolveStart, rejectStart) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      rejectStart(new Error(`server did not listen within ${START_DEADLINE_MS / 1000} s: ${stderr}`));
    }, START_DEADLINE_MS);
    void exited.then(() => clearTimeout(deadline));
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'credits service listening') {
          clearTimeout(deadline);
          const url = String(entry.url).replace(/\/graphql$/, '');
          resolveStart({
            url,
            dataDir,
            child,
            logs,
            exited,
            stop: (signal = 'SIGTERM') => {
              if (child.exitCode === null && child.signalCode === null) child.kill(signal);
              return exited;
            },
          });
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    void exited.then((code) => rejectStart(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
}

/**
 * Starts several servers at once. When one fails to start, the others are stopped before the
 * failure is thrown, so a failed beforeAll leaves no process behind to keep Jest from exiting.
 */
export async function startServers(options: Parameters<typeof startServer>[0][]): Promise<ServerProcess[]> {
  const outcomes = await Promise.allSettled(options.map((each) => startServer(each)));
  const up = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (!failed) return up;
  await Promise.all(up.map((server) => server.stop('SIGKILL')));
  throw failed.reason;
}

/** startServer for the tests of one file: whichever server a test leaves running is killed after it. */
export function serversKilledAfterEach(): typeof startServer {
  const running: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.stop('SIGKILL')));
  });
  return async (options) => {
    const server = await startServer(options);
    running.push(server);
    return server;
  };
}

export function tokenFor(
  workspaceId: string,
  role: Role,
  options: { admin?: boolean; subject?: string; expiresInSeconds?: number; secret?: string } = {},
): string {
  const principal: Principal = {
    subject: options.subject ?? `user-of-${workspaceId}`,
    workspaceId,
    role,
    admin: options.admin ?? false,
  };
  return signToken(principal, options.secret ?? TEST_JWT_SECRET, options.expiresInSeconds ?? 3600);
}

export const adminToken = (): string =>
  tokenFor('platform', 'SERVICE', { admin: true, subject: 'subscription-system' });
