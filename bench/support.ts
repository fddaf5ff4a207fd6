/** Small helpers the benchmark scenarios share: temp dirs, timing, percentiles. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';

export const silentLogger = pino({ level: 'silent' });

export function withTempDir<T>(name: string, run: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `credits-bench-${name}-`));
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

export async function timed<T>(run: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await run();
  return { result, seconds: (performance.now() - started) / 1000 };
}

/** Runs `total` tasks with at most `concurrency` in flight. */
export async function inFlight(
  total: number,
  concurrency: number,
  task: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}

export const round = (value: number, digits = 0): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts the built server (`dist/src/main.js`) on a free port with quiet logs and resolves once
 * `path` answers 200, with the time that took.
 */
export async function startBuiltServer(
  env: Record<string, string>,
  path = '/healthz',
): Promise<{ child: ChildProcess; url: string; seconds: number; stop(): Promise<void> }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [join(__dirname, '../src/main.js')], {
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const response = await fetch(`${url}${path}`).catch(() => undefined);
    if (response?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const seconds = (performance.now() - started) / 1000;
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  };
  return { child, url, seconds, stop };
}

/**
 * A full collection, when node runs with --expose-gc (`npm run bench` does), nothing otherwise:
 * before each measured run of a comparison, so that neither side pays for the garbage the other
 * left behind.
 */
export const collectGarbage = (): void => (globalThis as { gc?: () => void }).gc?.();
