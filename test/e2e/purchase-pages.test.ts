/**
 * creditPurchasesPage: a workspace's purchases a page at a time, newest first, through the real
 * server. The pages together are exactly creditPurchases, in its order; a purchase that arrives
 * while a client pages does not move the pages after its cursor; bad cursors and sizes are
 * refused, and another workspace's members see nothing.
 */
import { CreditPurchasesDocument, CreditPurchasesPageDocument, PurchaseCreditsDocument } from '../generated/graphql';
import { expectData, expectError } from '../support/graphql-client';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

const buy = (workspaceId: string, reference: string) =>
  expectData(
    server.url,
    PurchaseCreditsDocument,
    { input: { workspaceId, packageId: 'credits-500', paymentReference: reference } },
    adminToken(),
  );

const page = (workspaceId: string, first: number, after?: string) =>
  expectData(
    server.url,
    CreditPurchasesPageDocument,
    { workspaceId, first, ...(after !== undefined && { after }) },
    tokenFor(workspaceId, 'MEMBER'),
  ).then((data) => data.creditPurchasesPage);

test('pages through every purchase, newest first, in the order creditPurchases lists them', async () => {
  const workspaceId = 'ws-purchase-pages';
  // Ids that sort differently from their order of purchase, one with the cursor's separator in it.
  for (const reference of ['INV-b', 'INV-a', 'INV:c', 'INV-e', 'INV-d']) await buy(workspaceId, reference);
  const all = (
    await expectData(server.url, CreditPurchasesDocument, { workspaceId }, tokenFor(workspaceId, 'OWNER'))
  ).creditPurchases.map((purchase) => purchase.purchaseId);
  expect([...all].sort()).toEqual(['INV-a', 'INV-b', 'INV-d', 'INV-e', 'INV:c']);

  const first = await page(workspaceId, 2);
  expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  expect(first.pageInfo.startCursor).toBe(first.edges[0]?.cursor);
  expect(first.pageInfo.endCursor).toBe(first.edges[1]?.cursor);
  const second = await page(workspaceId, 2, first.pageInfo.endCursor ?? undefined);
  expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
  // A purchase made while the client pages is newer than every cursor: the next pages stay as they were.
  await buy(workspaceId, 'INV-f');
  const third = await page(workspaceId, 2, second.pageInfo.endCursor ?? undefined);
  expect(third.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  const paged = [...first.edges, ...second.edges, ...third.edges].map((edge) => edge.node.purchaseId);
  expect(paged).toEqual(all);
  expect(third.edges).toHaveLength(1);

  // The newest page now starts with the new purchase; past the last, an empty page.
  expect((await page(workspaceId, 1)).edges.map((edge) => edge.node.purchaseId)).toEqual(['INV-f']);
  const beyond = await page(workspaceId, 2, third.pageInfo.endCursor ?? undefined);
  expect(beyond).toEqual({
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null },
  });
});

test('pages past purchases with long ids: a live Stripe session id, a 200-character reference', async () => {
  const workspaceId = 'ws-purchase-pages-long';
  const session = `cs_live_${'a1B2c3D4e5'.repeat(6)}`;
  const reference = '請求書'.repeat(60) + '𝄞'.repeat(20);
  expect(reference).toHaveLength(220); // 200 characters: 180 of one UTF-16 unit, 20 of two
  for (const id of [session, reference, 'INV-short']) await buy(workspaceId, id);
  const seen: string[] = [];
  for (let after: string | undefined; ;) {
    const next = await page(workspaceId, 1, after);
    seen.push(...next.edges.map((edge) => edge.node.purchaseId));
    if (!next.pageInfo.hasNextPage) break;
    after = next.pageInfo.endCursor ?? undefined;
  }
  const listed = (
    await expectData(server.url, CreditPurchasesDocument, { workspaceId }, tokenFor(workspaceId, 'OWNER'))
  ).creditPurchases.map((purchase) => purchase.purchaseId);
  expect(seen).toEqual(listed);
  expect([...seen].sort()).toEqual([session, reference, 'INV-short'].sort());
});

test('a workspace without purchases has an empty first page', async () => {
  expect(await page('ws-purchase-pages-none', 5)).toEqual({
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  });
});

test('refuses cursors it did not issue, an empty one, and sizes outside 1 to 200', async () => {
  const workspaceId = 'ws-purchase-pages-refusals';
  await buy(workspaceId, 'INV-1');
  const token = tokenFor(workspaceId, 'MEMBER');
  const ledgerCursor = Buffer.from('ledger:12').toString('base64url');
  for (const after of ['', 'not-a-cursor', ledgerCursor, Buffer.from('purchase:x:INV-1').toString('base64url')]) {
    const error = await expectError(server.url, CreditPurchasesPageDocument, { workspaceId, first: 1, after }, token);
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', message: 'after is not a cursor this API returned.' });
  }
  for (const first of [0, -1, 201]) {
    const error = await expectError(server.url, CreditPurchasesPageDocument, { workspaceId, first }, token);
    expect(error.code).toBe('BAD_USER_INPUT');
  }
});

test("another workspace's member is refused, an admin is not", async () => {
  const workspaceId = 'ws-purchase-pages-access';
  await buy(workspaceId, 'INV-1');
  const error = await expectError(
    server.url,
    CreditPurchasesPageDocument,
    { workspaceId, first: 5 },
    tokenFor('ws-someone-else', 'OWNER'),
  );
  expect(error.code).toBe('FORBIDDEN');
  const asAdmin = await expectData(server.url, CreditPurchasesPageDocument, { workspaceId, first: 5 }, adminToken());
  expect(asAdmin.creditPurchasesPage.edges.map((edge) => edge.node.id)).toEqual([`${workspaceId}/INV-1`]);
});
