/**
 * The Billing page's GraphQL operations (web/billing/operations.js) are valid against the committed
 * contract, so a schema change that would break the page fails here, without a browser.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { buildSchema, parse, validate } from 'graphql';

const ROOT = join(__dirname, '../..');

/** Evaluates the ES module's `export const` strings (plain template literals) without a loader. */
function loadOperations(): Record<string, string> {
  const source = readFileSync(join(ROOT, 'web/billing/operations.js'), 'utf8');
  const names = [...source.matchAll(/^export const (\w+) =/gm)].map((match) => match[1]!);
  const script = `${source.replace(/^export const /gm, 'const ')}\n({ ${names.join(', ')} });`;
  return runInNewContext(script) as Record<string, string>;
}

describe('the Billing page operations', () => {
  const schema = buildSchema(readFileSync(join(ROOT, 'schema/schema.graphql'), 'utf8'));
  const operations = Object.entries(loadOperations());

  it('exports the operations the page uses', () => {
    expect(operations.map(([name]) => name).sort()).toEqual([
      'ACTIVE_HOLDS',
      'BILLING_OVERVIEW',
      'CREDITS_CHANGED',
      'CREDIT_LEDGER',
      'CREDIT_PURCHASES',
      'SPENDS_IN_RANGE',
      'START_CREDIT_PURCHASE',
      'USAGE_BY_DAY',
    ]);
  });

  it.each(operations)('%s is valid against schema/schema.graphql', (_name, document) => {
    expect(validate(schema, parse(document)).map((error) => error.message)).toEqual([]);
  });
});
