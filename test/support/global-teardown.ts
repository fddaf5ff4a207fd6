import { rmSync } from 'node:fs';

/** Removes the run's temporary directories (see global-setup.ts). */
export default function globalTeardown(): void {
  const root = process.env.CREDITS_TEST_RUN_DIR;
  if (root) rmSync(root, { recursive: true, force: true });
}
