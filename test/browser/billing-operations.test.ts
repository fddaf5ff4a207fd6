/**
 * The Billing page's GraphQL operations (web/billing/operations.js) are valid against the committed
 * contract, so a schema change that would break the page fails here, without a browser.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { loadBillingOperations } from '../support/billing-operations';

const ROOT = join(__dirname, '../..');

describe('the Billing page operations', () => {
  const schema = buildSchema(readFileSync(join(ROOT, 'schema/schema.graphql'), 'utf8'));
  const operations = Object.entries(loadBillingOperations());

  it('exports the operations the page uses', () => {
    expect(operations.map(([name]) => name).sort()).toEqual([
      'ACTIVE_HOLDS',
      'AUTO_TOP_UP',
      'AUTO_TOP_UP_TERMS',
      'BILLING_OVERVIEW',
      'BILLING_REFRESH',
      'CONFIGURE_AUTO_TOP_UP',
      'CONFIGURE_CREDIT_ALERTS',
      'CREDITS_CHANGED',
      'CREDIT_LEDGER',
      'CREDIT_PURCHASES',
      'NOTIFICATIONS',
      'REFUND_SPEND',
      'REMOVE_PAYMENT_METHOD',
      'SAVE_PAYMENT_METHOD',
      'SEND_TEST_WEBHOOK',
      'SPENDS_IN_RANGE',
      'START_CREDIT_PURCHASE',
      'USAGE_BY_DAY',
      'WEBHOOK_DELIVERIES',
    ]);
  });

  it.each(operations)('%s is valid against schema/schema.graphql', (_name, document) => {
    expect(validate(schema, parse(document)).map((error) => error.message)).toEqual([]);
  });
});
