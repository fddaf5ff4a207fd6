/**
 * Credit history over HTTP: the ledger and its paging, usage buckets, the balance at a past instant,
 * and live updates over graphql-ws.
 */
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import { print } from 'graphql';
import { evolve } from '../../src/domain/evolve';
import { initialState } from '../../src/domain/state';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { toWorkspaceCreditsEvent, workspaceStreamName } from '../../src/events/workspace-stream';
import {
  ApplyPlanAllowanceDocument,
  ConsumeCreditsDocument,
  CreditBalanceAtDocument,
  CreditLedgerDocument,
  CreditUsageDocument,
  GrantCreditsDocument,
  PurchaseCreditsDocument,
  RefundCreditConsumptionDocument,
  RefundCreditPurchaseDocument,
  WorkspaceCreditsChangedDocument,
  type CreditAction,
  type CreditLedgerQuery,
} from '../generated/graphql';
import { applyAllowance, execute, expectData, expectError } from '../support/graphql-client';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';
import { bearer, wsClient } from '../support/ws-client';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({ env: { EXPIRY_SWEEP_INTERVAL_MS: '3600000' } });
});
afterAll(async () => {
  await server?.stop();
});

const DAY = 24 * 60 * 60 * 1000;
let counter = 0;
const newWorkspace = () => `ws-history-${++counter}`;

const withAllowance = (workspaceId: string, planId = 'growth') => applyAllowance(server.url, workspaceId, planId);
const spend = (
  workspaceId: string,
  key: string,
  token: string,
  action: CreditAction = 'ACTION_PLAN_GENERATION',
  units = 1,
) =>
  expectData(server.url, ConsumeCreditsDocument, { input: { workspaceId, action, units, idempotencyKey: key } }, token);

type Entry = CreditLedgerQuery['creditLedger']['edges'][number]['node'];
type PageVariables = { first?: number; after?: string | null; last?: number; before?: string | null };
async function ledgerPage(workspaceId: string, variables: PageVariables = {}) {
  return (await expectData(server.url, CreditLedgerDocument, { workspaceId, ...variables }, adminToken())).creditLedger;
}

describe('the ledger', () => {
  it('pages newest first with stable cursors while new entries are appended', async () => {
    const workspaceId = newWorkspace();
    await withAllowance(workspaceId);
    const member = tokenFor(workspaceId, 'MEMBER');
    for (let i = 0; i < 12; i++) await spend(workspaceId, `s${i}`, member);

    const first = await ledgerPage(workspaceId, { first: 5 });
    expect(first.edges).toHaveLength(5);
    expect(first.pageInfo.hasNextPage).toBe(true);
    for (let i = 12; i < 15; i++) await spend(workspaceId, `s${i}`, member); // arrive between pages

    const second = await ledgerPage(workspaceId, { first: 5, after: first.pageInfo.endCursor });
    const third = await ledgerPage(workspaceId, { first: 5, after: second.pageInfo.endCursor });
    expect(third.pageInfo.hasNextPage).toBe(false);
    const seen = [...first.edges, ...second.edges, ...third.edges].map((edge) => edge.node);
    expect(seen).toHaveLength(13); // 12 spends + the allowance that existed when paging began
    expect(new Set(seen.map((entry) => entry.id)).size).toBe(13);
    expect(seen.map((entry) => entry.balanceAfter)).toEqual(Array.from({ length: 13 }, (_, i) => 5000 - 8 * (12 - i)));
    expect(seen[12]).toMatchObject({ type: 'PLAN_ALLOWANCE', credits: 5000, source: 'INCLUDED', reference: 'growth' });
    expect(seen[0]).toMatchObject({
      type: 'CONSUMPTION',
      credits: -8,
      action: 'ACTION_PLAN_GENERATION',
      units: 1,
      actorId: `user-of-${workspaceId}`,
    });

    const fresh = await ledgerPage(workspaceId, { first: 3 });
    expect(fresh.edges.map((edge) => edge.node.balanceAfter)).toEqual([5000 - 8 * 15, 5000 - 8 * 14, 5000 - 8 * 13]);
  });

  it('records which grants paid for a spend and filters by type and time', async () => {
    const workspaceId = newWorkspace();
    await withAllowance(workspaceId, 'starter');
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 300, reason: 'goodwill', idempotencyKey: 'g1' } },
      adminToken(),
    );
    const middle = new Date();
    await spend(workspaceId, 'big', adminToken(), 'ORG_CHART_GENERATION', 12);

    const spends = (
      await expectData(server.url, CreditLedgerDocument, { workspaceId, types: ['CONSUMPTION'] }, adminToken())
    ).creditLedger;
    expect(spends.edges).toHaveLength(1);
    const entry = spends.edges[0]?.node as Entry;
    expect(entry).toMatchObject({ credits: -1200, balanceAfter: 100, source: null, actorId: 'subscription-system' });
    expect(entry.grants.map(({ source, credits }) => [source, credits])).toEqual([
      ['INCLUDED', 1000],
      ['PROMOTIONAL', 200],
    ]);

    const before = (
      await expectData(server.url, CreditLedgerDocument, { workspaceId, to: middle.toISOString() }, adminToken())
    ).creditLedger;
    expect(before.edges.map((edge) => edge.node.type)).toEqual(['PROMOTIONAL_GRANT', 'PLAN_ALLOWANCE']);
    const after = (
      await expectData(server.url, CreditLedgerDocument, { workspaceId, from: middle.toISOString() }, adminToken())
    ).creditLedger;
    expect(after.edges.map((edge) => edge.node.type)).toEqual(['CONSUMPTION']);
  });

  it('gives each entry the balance computed from the events up to it', async () => {
    const workspaceId = newWorkspace();
    await withAllowance(workspaceId, 'starter');
    const member = tokenFor(workspaceId, 'MEMBER');
    await spend(workspaceId, 'a', member, 'PERSON_ENRICHMENT', 9);
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 75, reason: 'r', idempotencyKey: 'g' } },
      adminToken(),
    );
    await spend(workspaceId, 'b', member, 'BUYING_COMMITTEE_MAPPING', 4);
    // A new period replaces the allowance: what is left of it expires as an entry of its own.
    const nextPeriod = {
      periodStart: new Date(Date.now()).toISOString(),
      periodEnd: new Date(Date.now() + 30 * DAY).toISOString(),
    };
    await expectData(
      server.url,
      ApplyPlanAllowanceDocument,
      { input: { workspaceId, planId: 'growth', ...nextPeriod } },
      adminToken(),
    );
    await spend(workspaceId, 'c', member, 'ORG_CHART_SYNC', 2);

    const store = openSqliteEventStore({ file: join(server.dataDir, 'events.sqlite') });
    const expected: number[] = [];
    const state = initialState();
    for await (const recorded of store.readStream(workspaceStreamName(workspaceId))) {
      evolve(state, toWorkspaceCreditsEvent(recorded)!);
      expected.push([...state.grants.values()].reduce((sum, grant) => sum + grant.remaining, 0));
    }
    await store.close();

    const entries = (await ledgerPage(workspaceId, { first: 50 })).edges.map((edge) => edge.node).reverse();
    expect(entries.map((entry) => entry.type)).toEqual([
      'PLAN_ALLOWANCE',
      'CONSUMPTION',
      'PROMOTIONAL_GRANT',
      'CONSUMPTION',
      'EXPIRY',
      'PLAN_ALLOWANCE',
      'CONSUMPTION',
    ]);
    expect(entries.map((entry) => entry.balanceAfter)).toEqual(expected);
    expect(entries[4]).toMatchObject({
      credits: -(1000 - 63 - 84 + 0),
      reference: 'PERIOD_REPLACED',
      source: 'INCLUDED',
    });
  });

  it.each([
    ['not a cursor', 'bm90LWEtY3Vyc29y'],
    ['a forged position past int64', Buffer.from(`ledger:${'9'.repeat(19)}`).toString('base64url')],
    ['a forged position one past int64', Buffer.from('ledger:9223372036854775808').toString('base64url')],
    ['garbage bytes', '%%%~~~'],
  ])('refuses a cursor it did not issue: %s', async (_name, after) => {
    const error = await expectError(server.url, CreditLedgerDocument, { workspaceId: 'x', after }, adminToken());
    expect(error.code).toBe('BAD_USER_INPUT');
  });
});

describe('paging backwards', () => {
  it('pages from any cursor towards newer entries with last/before, newest first, as Relay asks', async () => {
    const workspaceId = newWorkspace();
    await withAllowance(workspaceId);
    const member = tokenFor(workspaceId, 'MEMBER');
    for (let i = 0; i < 6; i++) await spend(workspaceId, `b${i}`, member);
    const all = (await ledgerPage(workspaceId, { first: 50 })).edges; // 7, newest first
    const cursors = all.map((edge) => edge.cursor);

    // Forwards to the end, then back from the oldest page: the same entries, the same order.
    const forward = await ledgerPage(workspaceId, { first: 3, after: cursors[3] });
    expect(forward.edges.map((edge) => edge.cursor)).toEqual(cursors.slice(4, 7));
    expect(forward.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const back = await ledgerPage(workspaceId, { last: 3, before: forward.pageInfo.startCursor });
    expect(back.edges.map((edge) => edge.cursor)).toEqual(cursors.slice(1, 4));
    expect(back.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: true,
      startCursor: cursors[1],
      endCursor: cursors[3],
    });
    const newest = await ledgerPage(workspaceId, { last: 3, before: back.pageInfo.startCursor });
    expect(newest.edges.map((edge) => edge.cursor)).toEqual(cursors.slice(0, 1));
    expect(newest.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });

    // Without a cursor, last is the oldest end of the ledger; between two cursors, the entries between.
    const oldest = await ledgerPage(workspaceId, { last: 2 });
    expect(oldest.edges.map((edge) => edge.node.type)).toEqual(['CONSUMPTION', 'PLAN_ALLOWANCE']);
    expect(oldest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const between = await ledgerPage(workspaceId, { first: 10, after: cursors[1], before: cursors[5] });
    expect(between.edges.map((edge) => edge.cursor)).toEqual(cursors.slice(2, 5));
  });

  it('refuses first with last, and a before cursor it did not issue', async () => {
    const both = await expectError(
      server.url,
      CreditLedgerDocument,
      { workspaceId: 'x', first: 1, last: 1 },
      adminToken(),
    );
    expect(both.code).toBe('BAD_USER_INPUT');
    for (const before of ['bm90LWEtY3Vyc29y', Buffer.from('ledger:9223372036854775808').toString('base64url')]) {
      const error = await expectError(
        server.url,
        CreditLedgerDocument,
        { workspaceId: 'x', last: 1, before },
        adminToken(),
      );
      expect(error.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('what an entry is about', () => {
  const admin = () => adminToken();
  const entriesOf = async (workspaceId: string, token = admin(), withMoney = true) =>
    (await expectData(server.url, CreditLedgerDocument, { workspaceId, withMoney }, token)).creditLedger.edges.map(
      (edge) => edge.node,
    );

  it('gives an admin the ids to act on, the names to read and the reasons, and acting on them works', async () => {
    const workspaceId = newWorkspace();
    await withAllowance(workspaceId, 'growth');
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 50, reason: 'sorry for the outage', idempotencyKey: 'g' } },
      admin(),
    );
    const spent = (await spend(workspaceId, 'run-1', tokenFor(workspaceId, 'MEMBER'), 'ORG_CHART_GENERATION'))
      .consumeCredits;
    await expectData(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId, packageId: 'credits-500', paymentReference: 'INV-7' } },
      admin(),
    );

    const [purchase, consumption, grant, plan] = await entriesOf(workspaceId);
    expect(plan).toMatchObject({ type: 'PLAN_ALLOWANCE', planId: 'growth', planName: 'Growth', reason: null });
    expect(grant).toMatchObject({ type: 'PROMOTIONAL_GRANT', reason: 'sorry for the outage', amount: null });
    expect(consumption).toMatchObject({ type: 'CONSUMPTION', consumptionId: spent.id, purchaseId: null });
    expect(purchase).toMatchObject({
      type: 'PURCHASE',
      purchaseId: 'INV-7',
      packageId: 'credits-500',
      packageName: '500 credits',
      amount: { amount: 5000, currency: 'USD' },
    });

    // The ids are the ones the refunds take.
    await expectData(
      server.url,
      RefundCreditConsumptionDocument,
      { input: { consumptionId: consumption!.consumptionId!, reason: 'the org chart run failed' } },
      admin(),
    );
    const refund = (
      await expectData(
        server.url,
        RefundCreditPurchaseDocument,
        { input: { purchaseId: purchase!.purchaseId!, workspaceId, credits: 100, reason: 'bought twice' } },
        admin(),
      )
    ).refundCreditPurchase;

    const [purchaseRefund, spendRefund, purchaseAfter, consumptionAfter] = await entriesOf(workspaceId);
    expect(purchaseAfter?.id).toBe(purchase?.id);
    expect(spendRefund).toMatchObject({
      type: 'CONSUMPTION_REFUND',
      credits: 100,
      consumptionId: spent.id,
      reason: 'the org chart run failed',
    });
    expect(consumptionAfter).toMatchObject({ consumptionId: spent.id, refundedCredits: 100 });
    expect(purchaseRefund).toMatchObject({
      type: 'PURCHASE_REFUND',
      credits: -100,
      purchaseId: 'INV-7',
      packageName: '500 credits',
      refundId: refund.id,
      refundStatus: 'SUCCEEDED', // an invoice's money is returned by the admin: nothing to wait for
      reason: 'bought twice',
      amount: { amount: -1000, currency: 'USD' },
    });
  });

  it('shows a member the links but not the money, as the Access table says', async () => {
    const workspaceId = newWorkspace();
    await expectData(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId, packageId: 'credits-500', paymentReference: 'INV-8' } },
      admin(),
    );
    const member = tokenFor(workspaceId, 'MEMBER');
    const [purchase] = await entriesOf(workspaceId, member, false);
    expect(purchase).toMatchObject({ purchaseId: 'INV-8', packageName: '500 credits' });
    expect(purchase).not.toHaveProperty('amount');

    const asked = await execute(server.url, CreditLedgerDocument, { workspaceId, withMoney: true }, member);
    expect(asked.data?.creditLedger.edges[0]?.node).toMatchObject({ purchaseId: 'INV-8', amount: null });
    expect(asked.errors?.map((error) => [error.path?.join('.'), error.extensions?.code])).toEqual([
      ['creditLedger.edges.0.node.amount', 'FORBIDDEN'],
    ]);
    const owner = await entriesOf(workspaceId, tokenFor(workspaceId, 'OWNER'));
    expect(owner[0]?.amount).toEqual({ amount: 5000, currency: 'USD' });

    // Entries that carry no money have none to hide: null, and no error for each of them.
    await expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: 'member-spend' } },
      member,
    );
    const spends = await execute(server.url, CreditLedgerDocument, { workspaceId, withMoney: true }, member);
    expect(spends.data?.creditLedger.edges.map((edge) => [edge.node.type, edge.node.amount])).toEqual([
      ['CONSUMPTION', null],
      ['PURCHASE', null],
    ]);
    expect(spends.errors?.map((error) => [error.path?.join('.'), error.extensions?.code])).toEqual([
      ['creditLedger.edges.1.node.amount', 'FORBIDDEN'],
    ]);
  });
});

describe('time travel', () => {
  it('answers the exact breakdown before and after an expiry instant', async () => {
    const workspaceId = newWorkspace();
    const expiresAt = Date.now() + 1200;
    await expectData(
      server.url,
      GrantCreditsDocument,
      {
        input: {
          workspaceId,
          credits: 500,
          reason: 'trial',
          idempotencyKey: 'trial',
          expiresAt: new Date(expiresAt).toISOString(),
        },
      },
      adminToken(),
    );
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 40, reason: 'keep', idempotencyKey: 'keep' } },
      adminToken(),
    );
    const spent = (await spend(workspaceId, 'x', adminToken(), 'PERSON_ENRICHMENT', 10)).consumeCredits;
    await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 100));

    const at = async (instant: number) =>
      (
        await expectData(
          server.url,
          CreditBalanceAtDocument,
          { workspaceId, at: new Date(instant).toISOString() },
          adminToken(),
        )
      ).creditBalanceAt;
    const beforeSpend = await at(Date.parse(spent.consumedAt) - 1);
    expect(beforeSpend).toMatchObject({
      available: 540,
      promotional: { granted: 540, consumed: 0, expired: 0, remaining: 540 },
    });
    const justBefore = await at(expiresAt - 1);
    expect(justBefore).toMatchObject({ available: 470, promotional: { consumed: 70, expired: 0, remaining: 470 } });
    const atExpiry = await at(expiresAt);
    expect(atExpiry).toMatchObject({ available: 40, promotional: { consumed: 70, expired: 430, remaining: 40 } });

    // An instant to come is no history: refused, rather than a forecast from today's events.
    const later = new Date(Date.now() + 2 * 60 * 60 * 1000).toISOString();
    const refused = await execute(server.url, CreditBalanceAtDocument, { workspaceId, at: later }, adminToken());
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toMatch(/is in the future/);
    // A client's clock a few seconds ahead asks for now: answered as of now.
    expect(await at(Date.now() + 10_000)).toMatchObject({ available: 40 });
    expect(atExpiry.grants.map((grant) => grant.remaining)).toEqual([40]);
    const beforeAnything = await at(Date.now() - DAY);
    expect(beforeAnything).toMatchObject({ available: 0, grants: [] });
  });
});

describe('usage', () => {
  it('sums credits and spends per action, member and day within the range', async () => {
    const workspaceId = newWorkspace();
    await withAllowance(workspaceId, 'scale');
    const alice = tokenFor(workspaceId, 'MEMBER', { subject: 'alice' });
    const bob = tokenFor(workspaceId, 'BILLING_MANAGER', { subject: 'bob' });
    const from = new Date(Date.now() - 1000).toISOString();
    await spend(workspaceId, 'a1', alice, 'ORG_CHART_GENERATION', 2);
    await spend(workspaceId, 'a2', alice, 'PERSON_ENRICHMENT', 5);
    await spend(workspaceId, 'b1', bob, 'PERSON_ENRICHMENT', 1);
    await spend(workspaceId, 'b2', bob, 'ACTION_PLAN_GENERATION', 3);
    const to = new Date(Date.now() + 1000).toISOString();

    const usage = async (groupBy: 'ACTION' | 'MEMBER' | 'DAY', range = { from, to }) =>
      (await expectData(server.url, CreditUsageDocument, { workspaceId, groupBy, ...range }, alice)).creditUsage;
    const bucketId = (key: string) => `${workspaceId}/ACTION/${from}/${to}/${key}`;
    expect(await usage('ACTION')).toEqual([
      {
        id: bucketId('ACTION_PLAN_GENERATION'),
        key: 'ACTION_PLAN_GENERATION',
        action: 'ACTION_PLAN_GENERATION',
        memberId: null,
        day: null,
        credits: 24,
        count: 1,
      },
      {
        id: bucketId('ORG_CHART_GENERATION'),
        key: 'ORG_CHART_GENERATION',
        action: 'ORG_CHART_GENERATION',
        memberId: null,
        day: null,
        credits: 200,
        count: 1,
      },
      {
        id: bucketId('PERSON_ENRICHMENT'),
        key: 'PERSON_ENRICHMENT',
        action: 'PERSON_ENRICHMENT',
        memberId: null,
        day: null,
        credits: 42,
        count: 2,
      },
    ]);
    expect((await usage('MEMBER')).map(({ memberId, credits, count }) => [memberId, credits, count])).toEqual([
      ['alice', 235, 2],
      ['bob', 31, 2],
    ]);
    const today = new Date().toISOString().slice(0, 10);
    expect((await usage('DAY')).map(({ day, credits, count }) => [day, credits, count])).toEqual([[today, 266, 4]]);
    expect(await usage('ACTION', { from: new Date(Date.now() - 3 * DAY).toISOString(), to: from })).toEqual([]);
    const badRange = await expectError(
      server.url,
      CreditUsageDocument,
      { workspaceId, groupBy: 'DAY', from: to, to: from },
      alice,
    );
    expect(badRange.code).toBe('BAD_USER_INPUT');
    // The ledger refuses an empty window the same way, rather than answering an empty page.
    for (const window of [
      { from: to, to: from },
      { from, to: from },
    ]) {
      const badLedger = await expectError(server.url, CreditLedgerDocument, { workspaceId, ...window }, alice);
      expect(badLedger).toMatchObject({ code: 'BAD_USER_INPUT', message: 'from must be earlier than to.' });
    }
  });
});

describe('live updates', () => {
  const clients: Client[] = [];
  afterAll(async () => {
    for (const client of clients) await client.dispose();
  });
  const connect = (token: string) => {
    const { client } = wsClient(server.url, bearer(token));
    clients.push(client);
    return client;
  };

  it('pushes the new balance after a spend to a subscriber of the workspace', async () => {
    const workspaceId = newWorkspace();
    await withAllowance(workspaceId, 'starter');
    const client = connect(tokenFor(workspaceId, 'BILLING_MANAGER'));
    const updates = client.iterate({ query: print(WorkspaceCreditsChangedDocument), variables: { workspaceId } });
    const next = updates.next();
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the subscription register
    await spend(workspaceId, 'live', tokenFor(workspaceId, 'MEMBER'), 'ORG_CHART_SYNC', 3);
    const update = await next;
    expect(update.value).toEqual({
      data: {
        workspaceCreditsChanged: {
          id: workspaceId,
          workspaceId,
          available: 700,
          included: { consumed: 300, remaining: 700 },
        },
      },
    });
    await updates.return?.();
  });

  it('refuses a subscription to another workspace with FORBIDDEN', async () => {
    const client = connect(tokenFor('someone-else', 'OWNER'));
    const updates = client.iterate({
      query: print(WorkspaceCreditsChangedDocument),
      variables: { workspaceId: 'ws-history-1' },
    });
    const refused = await updates.next();
    expect(refused.value).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'FORBIDDEN' } })] });
    expect((await updates.next()).done).toBe(true);
  });
});
