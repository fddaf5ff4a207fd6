/**
 * What makes two refundCreditPurchase calls the same request, through the real server, on a
 * purchase paid outside Stripe (refunded at once): an explicit null is the same as leaving a field
 * out, and a keyed repeat must ask for the same credits as the first call.
 */
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { PurchaseCreditsDocument, RefundCreditPurchaseDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { expectData, expectError } from '../support/graphql-client';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

let purchases = 0;
async function bought(workspaceId: string): Promise<string> {
  const paymentReference = `INV-refunds-${++purchases}`;
  await expectData(
    server.url,
    PurchaseCreditsDocument,
    { input: { workspaceId, packageId: 'credits-500', paymentReference } },
    adminToken(),
  );
  return paymentReference;
}

const refund = (input: Record<string, unknown>) =>
  expectData(server.url, RefundCreditPurchaseDocument, { input: input as never }, adminToken()).then(
    (data) => data.refundCreditPurchase,
  );
const available = async (workspaceId: string) =>
  (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, tokenFor(workspaceId, 'OWNER')))
    .workspaceCredits.available;

/** The PurchaseRefundRequested events of a workspace, as stored. */
function requested(workspaceId: string): Record<string, unknown>[] {
  const db = new BetterSqlite3(join(server.dataDir, 'events.sqlite'), { readonly: true });
  try {
    return db
      .prepare<[string], { data: string }>(
        "SELECT data FROM events WHERE event_type = 'PurchaseRefundRequested' AND stream_name LIKE '%' || ? ORDER BY position",
      )
      .all(workspaceId)
      .map((row) => JSON.parse(row.data) as Record<string, unknown>);
  } finally {
    db.close();
  }
}

test('credits: null asks for all that is left, as leaving it out does, with or without a key', async () => {
  const workspaceId = 'ws-refund-null';
  const purchaseId = await bought(workspaceId);
  const first = await refund({ purchaseId, credits: null, idempotencyKey: null, reason: 'duplicate order' });
  expect(first).toMatchObject({ status: 'SUCCEEDED', credits: 500 });
  // A retry after a lost answer, written the other way: the same refund, nothing more.
  expect(await refund({ purchaseId, reason: 'duplicate order' })).toMatchObject({ id: first.id, credits: 500 });
  expect(requested(workspaceId)).toHaveLength(1);
  expect(requested(workspaceId)[0]).not.toHaveProperty('creditsAsked');
  expect(requested(workspaceId)[0]).not.toHaveProperty('idempotencyKey');

  const keyed = await bought(workspaceId);
  const withKey = await refund({
    purchaseId: keyed,
    credits: null,
    reason: 'duplicate order',
    idempotencyKey: 'k-null',
  });
  expect(await refund({ purchaseId: keyed, reason: 'duplicate order', idempotencyKey: 'k-null' })).toMatchObject({
    id: withKey.id,
    credits: 500,
  });
  expect(requested(workspaceId)).toHaveLength(2);
});

test('a keyed repeat must ask for the same credits: all is not the 100 the first call named', async () => {
  const workspaceId = 'ws-refund-keyed';
  const purchaseId = await bought(workspaceId);
  const first = await refund({ purchaseId, credits: 100, reason: 'partial', idempotencyKey: 'ticket-9' });
  expect(first).toMatchObject({ status: 'SUCCEEDED', credits: 100 });
  expect(requested(workspaceId)[0]).toMatchObject({ creditsAsked: 100, credits: 100 });
  expect(await available(workspaceId)).toBe(400);

  const everything = await expectError(
    server.url,
    RefundCreditPurchaseDocument,
    { input: { purchaseId, reason: 'partial', idempotencyKey: 'ticket-9' } },
    adminToken(),
  );
  expect(everything.code).toBe('IDEMPOTENCY_KEY_REUSED');
  expect(await available(workspaceId)).toBe(400);
  expect(await refund({ purchaseId, credits: 100, reason: 'partial', idempotencyKey: 'ticket-9' })).toMatchObject({
    id: first.id,
  });
  expect(requested(workspaceId)).toHaveLength(1);
});
