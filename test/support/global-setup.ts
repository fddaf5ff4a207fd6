import { execFileSync } from 'node:child_process';

/** End-to-end tests run the real server process, which runs the compiled output. */
export default function globalSetup(): void {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
