/**
 * The auth contract, rule by rule, over HTTP: who may read, spend and administer, and how
 * missing, forged and expired tokens are refused.
 */
import jwt from 'jsonwebtoken';
import type { Role } from '../../src/auth/principal';
import {
  ApplyPlanAllowanceDocument,
  CatalogDocument,
  ConsumeCreditsDocument,
  EstimateCreditsDocument,
  GrantCreditsDocument,
  PurchaseCreditsDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { execute, headPosition, type GraphQLResponse } from '../support/graphql-client';
import { adminToken, startServer, TEST_JWT_SECRET, tokenFor, type ServerProcess } from '../support/server-process';

let server: ServerProcess;
const HOME = `ws-perm-${process.pid}`;
const OTHER = `ws-perm-other-${process.pid}`;
const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  server = await startServer();
  for (const workspaceId of [HOME, OTHER]) {
    const period = {
      periodStart: new Date(Date.now() - DAY).toISOString(),
      periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
    };
    const response = await execute(
      server.url,
      ApplyPlanAllowanceDocument,
      { input: { workspaceId, planId: 'scale', ...period } },
      adminToken(),
    );
    expect(response.errors).toBeUndefined();
  }
});
afterAll(async () => {
  await server?.stop();
});

let keyCounter = 0;
const operations = {
  workspaceCredits: (workspaceId: string, token?: string) =>
    execute(server.url, WorkspaceCreditsDocument, { workspaceId }, token),
  estimateCredits: (workspaceId: string, token?: string) =>
    execute(server.url, EstimateCreditsDocument, { workspaceId, action: 'ACTION_PLAN_GENERATION', units: 1 }, token),
  consumeCredits: (workspaceId: string, token?: string) =>
    execute(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'ACTION_PLAN_GENERATION', units: 1, idempotencyKey: `perm-${++keyCounter}` } },
      token,
    ),
  applyPlanAllowance: (workspaceId: string, token?: string) =>
    execute(
      server.url,
      ApplyPlanAllowanceDocument,
      {
        input: {
          workspaceId,
          planId: 'scale',
          periodStart: new Date(Date.now() - DAY).toISOString(),
          periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
        },
      },
      token,
    ),
  purchaseCredits: (workspaceId: string, token?: string) =>
    execute(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId, packageId: 'credits-500', paymentReference: `perm-pay-${++keyCounter}` } },
      token,
    ),
  grantCredits: (workspaceId: string, token?: string) =>
    execute(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 5, reason: 'perm test', idempotencyKey: `perm-grant-${++keyCounter}` } },
      token,
    ),
};
type Operation = keyof typeof operations;

const ROLES: Role[] = ['OWNER', 'BILLING_MANAGER', 'MEMBER', 'SERVICE'];
const WORKSPACE_OPERATIONS: Operation[] = ['workspaceCredits', 'estimateCredits', 'consumeCredits'];
const ADMIN_OPERATIONS: Operation[] = ['applyPlanAllowance', 'purchaseCredits', 'grantCredits'];

const codeOf = (response: GraphQLResponse<unknown>): unknown => response.errors?.[0]?.extensions?.code;

describe.each(ROLES)('a %s of the workspace', (role) => {
  const token = () => tokenFor(HOME, role);

  it.each(WORKSPACE_OPERATIONS)('may %s on its own workspace', async (operation) => {
    const response = await operations[operation](HOME, token());
    expect(response.errors).toBeUndefined();
    expect(response.data).toBeTruthy();
  });

  it.each(WORKSPACE_OPERATIONS)('may not %s on another workspace (FORBIDDEN, nothing appended)', async (operation) => {
    const head = await headPosition(server.url);
    expect(codeOf(await operations[operation](OTHER, token()))).toBe('FORBIDDEN');
    expect(await headPosition(server.url)).toBe(head);
  });

  it.each(ADMIN_OPERATIONS)('may not %s even on its own workspace (FORBIDDEN, nothing appended)', async (operation) => {
    const head = await headPosition(server.url);
    expect(codeOf(await operations[operation](HOME, token()))).toBe('FORBIDDEN');
    expect(await headPosition(server.url)).toBe(head);
  });
});

describe('an admin', () => {
  it.each([...WORKSPACE_OPERATIONS, ...ADMIN_OPERATIONS])('may %s on any workspace', async (operation) => {
    const response = await operations[operation](OTHER, adminToken());
    expect(response.errors).toBeUndefined();
  });
});

describe('authentication', () => {
  const expired = () => tokenFor(HOME, 'OWNER', { expiresInSeconds: -10 });
  const forged = () => tokenFor(HOME, 'OWNER', { secret: 'not-the-server-secret-0123456789' });
  const noAlgorithm = () => jwt.sign({ workspaceId: HOME, role: 'OWNER' }, '', { algorithm: 'none', subject: 'x' });
  const missingClaims = () => jwt.sign({ role: 'OWNER' }, TEST_JWT_SECRET, { algorithm: 'HS256', subject: 'x' });
  const unknownRole = () =>
    jwt.sign({ workspaceId: HOME, role: 'GOD' }, TEST_JWT_SECRET, { algorithm: 'HS256', subject: 'x' });
  const withoutExpiry = () =>
    jwt.sign({ workspaceId: HOME, role: 'OWNER' }, TEST_JWT_SECRET, { algorithm: 'HS256', subject: 'x' });

  it.each([
    ['no token', () => undefined],
    ['an expired token', expired],
    ['a token signed with another secret', forged],
    ['an unsigned token', noAlgorithm],
    ['a token without workspaceId', missingClaims],
    ['a token with an unknown role', unknownRole],
    ['a token without exp', withoutExpiry],
  ])('refuses %s with UNAUTHENTICATED on every operation', async (_name, token) => {
    const head = await headPosition(server.url);
    for (const operation of Object.keys(operations) as Operation[]) {
      expect(codeOf(await operations[operation](HOME, token()))).toBe('UNAUTHENTICATED');
    }
    expect(codeOf(await execute(server.url, CatalogDocument, {}, token()))).toBe('UNAUTHENTICATED');
    expect(await headPosition(server.url)).toBe(head);
  });

  it('says why an expired token was refused', async () => {
    const response = await operations.workspaceCredits(HOME, expired());
    expect(response.errors?.[0]?.message).toMatch(/expired/);
  });

  it('lets any valid token read the catalog', async () => {
    for (const token of [tokenFor(HOME, 'MEMBER'), tokenFor(OTHER, 'SERVICE'), adminToken()]) {
      const response = await execute(server.url, CatalogDocument, {}, token);
      expect(response.errors).toBeUndefined();
      expect(response.data?.plans.length).toBeGreaterThan(0);
    }
  });
});
