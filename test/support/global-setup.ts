import { execFileSync } from 'node:child_process';

/**
 * End-to-end tests run the real server process, which runs the compiled output and, in
 * development, serves the explorer bundle; both are built once here, as `npm start` builds them.
 */
export default function globalSetup(): void {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['web/explorer/build.mjs'], { stdio: 'inherit' });
}
