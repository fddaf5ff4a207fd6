/**
 * The GraphQL conventions standard clients rely on: Relay-complete page info on the ledger, an
 * `input` object on startCreditPurchase (its old arguments deprecated, still working), and credit
 * counts past 2^31 that every read can still answer (SafeInt, not the 32-bit Int).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import {
  ApplyPlanAllowanceDocument,
  ConsumeCreditsDocument,
  CreditLedgerDocument,
  StartCreditPurchaseDocument,
  StartCreditPurchaseWithInputDocument,
} from '../generated/graphql';
import { execute, expectData, expectError } from '../support/graphql-client';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';

const DAY = 24 * 60 * 60 * 1000;
/** A plan whose allowance alone is more than a 32-bit Int holds. */
const HUGE_CREDITS = 3_000_000_000;
let server: ServerProcess;

beforeAll(async () => {
  const catalog = JSON.parse(readFileSync('config/catalog.json', 'utf8')) as { plans: unknown[] };
  catalog.plans.push({ id: 'enterprise-huge', name: 'Enterprise (huge)', includedCredits: HUGE_CREDITS });
  const catalogFile = join(mkdtempSync(join(tmpdir(), 'credits-catalog-')), 'catalog.json');
  writeFileSync(catalogFile, JSON.stringify(catalog));
  server = await startServer({ env: { CATALOG_FILE: catalogFile } });
});
afterAll(async () => {
  await server?.stop();
});

const allowance = (workspaceId: string, planId: string) =>
  expectData(
    server.url,
    ApplyPlanAllowanceDocument,
    {
      input: {
        workspaceId,
        planId,
        periodStart: new Date(Date.now() - DAY).toISOString(),
        periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
      },
    },
    adminToken(),
  );

describe('ledger page info', () => {
  it('has hasPreviousPage and startCursor, as Relay asks', async () => {
    const workspaceId = 'ws-pages';
    await allowance(workspaceId, 'starter');
    for (let i = 0; i < 3; i++) {
      await expectData(
        server.url,
        ConsumeCreditsDocument,
        { input: { workspaceId, action: 'ACTION_PLAN_GENERATION', idempotencyKey: `p${i}` } },
        tokenFor(workspaceId, 'MEMBER'),
      );
    }
    const owner = tokenFor(workspaceId, 'OWNER');
    const first = (await expectData(server.url, CreditLedgerDocument, { workspaceId, first: 2 }, owner)).creditLedger;
    expect(first.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: first.edges[0]?.cursor,
      endCursor: first.edges[1]?.cursor,
    });
    const second = (
      await expectData(
        server.url,
        CreditLedgerDocument,
        { workspaceId, first: 2, after: first.pageInfo.endCursor },
        owner,
      )
    ).creditLedger;
    expect(second.pageInfo).toEqual({
      hasNextPage: false,
      hasPreviousPage: true,
      startCursor: second.edges[0]?.cursor,
      endCursor: second.edges[1]?.cursor,
    });
    expect(second.edges.map((edge) => edge.node.type)).toEqual(['CONSUMPTION', 'PLAN_ALLOWANCE']);
  });
});

describe('startCreditPurchase', () => {
  const workspaceId = 'ws-input';
  const owner = () => tokenFor(workspaceId, 'OWNER');
  const start = async (input: { workspaceId: string; packageId: string }, token = owner()) =>
    (await expectError(server.url, StartCreditPurchaseWithInputDocument, { input }, token)).code;

  it('takes input: { workspaceId, packageId } like every other mutation', async () => {
    // Payments are off on this server: reaching the gateway shows authorization and the input passed.
    expect(await start({ workspaceId, packageId: 'credits-500' })).toBe('PAYMENTS_NOT_CONFIGURED');
    expect(await start({ workspaceId, packageId: 'no-such-package' })).toBe('NOT_FOUND');
  });

  it('authorizes on the workspace of the input', async () => {
    for (const token of [tokenFor(workspaceId, 'MEMBER'), tokenFor('ws-someone-else', 'OWNER')]) {
      expect(await start({ workspaceId, packageId: 'credits-500' }, token)).toBe('FORBIDDEN');
    }
  });

  it('validates the input like any other', async () => {
    expect(await start({ workspaceId: '../etc', packageId: 'credits-500' })).toBe('BAD_USER_INPUT');
  });

  it('still takes the deprecated loose arguments', async () => {
    const error = await expectError(
      server.url,
      StartCreditPurchaseDocument,
      { workspaceId, packageId: 'credits-500' },
      owner(),
    );
    expect(error.code).toBe('PAYMENTS_NOT_CONFIGURED');
  });

  it.each([
    ['neither', '{ startCreditPurchase { id } }'],
    [
      'both',
      `{ startCreditPurchase(input: { workspaceId: "${workspaceId}", packageId: "credits-500" }, packageId: "credits-500") { id } }`,
    ],
    ['half of the loose arguments', `{ startCreditPurchase(workspaceId: "${workspaceId}") { id } }`],
  ])('refuses %s with BAD_USER_INPUT', async (_case, query) => {
    const response = await execute(
      server.url,
      parse(`mutation ${query}`) as TypedDocumentNode<unknown, Record<string, never>>,
      {},
      owner(),
    );
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('credits past 2^31', () => {
  it('are answered by every read, where a 32-bit Int made them fail', async () => {
    const workspaceId = 'ws-huge';
    const applied = await allowance(workspaceId, 'enterprise-huge');
    expect(applied.applyPlanAllowance.available).toBe(HUGE_CREDITS);
    expect(applied.applyPlanAllowance.included.granted).toBe(HUGE_CREDITS);
    expect(applied.applyPlanAllowance.plan?.includedCredits).toBe(HUGE_CREDITS);
    const spent = await expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'ORG_CHART_SYNC', idempotencyKey: 'huge-1' } },
      tokenFor(workspaceId, 'MEMBER'),
    );
    expect(spent.consumeCredits.available).toBe(HUGE_CREDITS - 100);
    const ledger = await expectData(server.url, CreditLedgerDocument, { workspaceId }, tokenFor(workspaceId, 'OWNER'));
    expect(ledger.creditLedger.edges.map((edge) => edge.node.balanceAfter)).toEqual([HUGE_CREDITS - 100, HUGE_CREDITS]);
  });
});
