/**
 * What the client cache tests (Apollo Client, urql Graphcache) share: a workspace with an
 * allowance and a purchase, and operations that together ask for every object type the API has.
 */
import type { DocumentNode } from 'graphql';
import {
  ApplyPlanAllowanceDocument,
  CatalogDocument,
  CreditBalanceAtDocument,
  CreditLedgerDocument,
  CreditPurchasesDocument,
  CreditUsageDocument,
  EstimateCreditsDocument,
  PurchaseCreditsDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { expectData } from './graphql-client';
import { adminToken } from './server-process';

const DAY = 24 * 60 * 60 * 1000;

/** Growth's 5,000 included credits and a 500-credit purchase. */
export async function seedCacheWorkspace(url: string, workspaceId: string): Promise<void> {
  const period = {
    periodStart: new Date(Date.now() - DAY).toISOString(),
    periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
  };
  await expectData(
    url,
    ApplyPlanAllowanceDocument,
    { input: { workspaceId, planId: 'growth', ...period } },
    adminToken(),
  );
  await expectData(
    url,
    PurchaseCreditsDocument,
    { input: { workspaceId, packageId: 'credits-500', paymentReference: `cache-${workspaceId}` } },
    adminToken(),
  );
}

/** Queries whose answers hold every object type, as the tests' own operations ask for them. */
export function everyObjectType(workspaceId: string, now = Date.now()): { query: DocumentNode; variables: object }[] {
  const range = { from: new Date(now - DAY).toISOString(), to: new Date(now + DAY).toISOString() };
  return [
    { query: CatalogDocument, variables: {} },
    { query: WorkspaceCreditsDocument, variables: { workspaceId } },
    { query: CreditBalanceAtDocument, variables: { workspaceId, at: new Date(now - 1000).toISOString() } },
    { query: EstimateCreditsDocument, variables: { workspaceId, action: 'ORG_CHART_SYNC', units: 2 } },
    { query: CreditUsageDocument, variables: { workspaceId, ...range, groupBy: 'ACTION' } },
    { query: CreditPurchasesDocument, variables: { workspaceId } },
    { query: CreditLedgerDocument, variables: { workspaceId, first: 10 } },
  ];
}
