/** The Billing page's operations (web/billing/operations.js), for tests that check them against the server. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

/** Evaluates the ES module's `export const` strings (plain template literals) without a loader. */
export function loadBillingOperations(): Record<string, string> {
  const source = readFileSync(join(__dirname, '../../web/billing/operations.js'), 'utf8');
  const names = [...source.matchAll(/^export const (\w+) =/gm)].map((match) => match[1]!);
  const script = `${source.replace(/^export const /gm, 'const ')}\n({ ${names.join(', ')} });`;
  return runInNewContext(script) as Record<string, string>;
}
