/**
 * The README's Access table is the authorization contract. This reads it, checks that it names
 * every operation of the schema and every field of type Money, and tries every row with every kind
 * of caller against the real server: allowed means anything but FORBIDDEN or UNAUTHENTICATED.
 */
import { readFileSync } from 'node:fs';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  buildSchema,
  getNamedType,
  isObjectType,
  parse,
  type GraphQLFormattedError,
  type GraphQLObjectType,
} from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Role } from '../../src/auth/principal';
import { execute, type GraphQLResponse } from '../support/graphql-client';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';

const RULES = {
  'any valid token': () => true,
  'any role of that workspace, or admin': (caller: Caller) => caller.admin || caller.home,
  'OWNER or BILLING_MANAGER of that workspace, or admin': (caller: Caller) =>
    caller.admin || (caller.home && (caller.role === 'OWNER' || caller.role === 'BILLING_MANAGER')),
  admin: (caller: Caller) => caller.admin,
};
type Rule = keyof typeof RULES;

/** Rows of the table under "## Access": name (without backticks), kind and rule. */
function accessTable(): { name: string; kind: string; rule: Rule }[] {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('## Access');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/^\| `([\w.]+)`\s*\| ([a-z ]+?)\s*\| (.+?)\s*\|$/gm)].map((match) => {
    const rule = match[3] as string;
    if (!(rule in RULES)) throw new Error(`The Access table says "${rule}", which this test does not know.`);
    return { name: match[1] as string, kind: match[2] as string, rule: rule as Rule };
  });
}

const schema = buildSchema(readFileSync('schema/schema.graphql', 'utf8'));
const table = accessTable();
const ruleOf = (name: string): Rule => {
  const row = table.find((candidate) => candidate.name === name);
  if (!row) throw new Error(`${name} is not in the README's Access table`);
  return row.rule;
};

const HOME = `ws-access-${process.pid}`;
const OTHER = `ws-access-other-${process.pid}`;

interface Caller {
  name: string;
  role: Role;
  home: boolean;
  admin: boolean;
  token: () => string;
}
const CALLERS: Caller[] = [
  ...(['OWNER', 'BILLING_MANAGER', 'MEMBER', 'SERVICE'] as const).map((role) => ({
    name: `a ${role} of the workspace`,
    role,
    home: true,
    admin: false,
    token: () => tokenFor(HOME, role),
  })),
  {
    name: 'an OWNER of another workspace',
    role: 'OWNER',
    home: false,
    admin: false,
    token: () => tokenFor(OTHER, 'OWNER'),
  },
  { name: 'an admin', role: 'SERVICE', home: false, admin: true, token: adminToken },
];

let server: ServerProcess;
let keys = 0;
/** A webhook endpoint of HOME and one delivery to it, made before the calls (see beforeAll). */
let endpointId = '';
let deliveryId = '';
let holdId = '';
const DAY = 24 * 60 * 60 * 1000;

const run = (query: string, variables: Record<string, unknown>, token?: string) =>
  execute(
    server.url,
    parse(query) as TypedDocumentNode<Record<string, unknown>, Record<string, unknown>>,
    variables,
    token,
  );

/** One call of each query and mutation on HOME, with arguments it accepts. */
const CALLS: Record<string, () => [string, Record<string, unknown>]> = {
  plans: () => ['{ plans { id } }', {}],
  creditPackages: () => ['{ creditPackages { id } }', {}],
  creditRates: () => ['{ creditRates { action } }', {}],
  paymentSettings: () => ['{ paymentSettings { enabled } }', {}],
  workspaceCredits: () => ['query ($w: ID!) { workspaceCredits(workspaceId: $w) { available } }', { w: HOME }],
  estimateCredits: () => [
    'query ($w: ID!) { estimateCredits(workspaceId: $w, action: ACTION_PLAN_GENERATION) { credits } }',
    { w: HOME },
  ],
  creditLedger: () => ['query ($w: ID!) { creditLedger(workspaceId: $w, first: 1) { edges { cursor } } }', { w: HOME }],
  creditUsage: () => [
    'query ($w: ID!, $from: DateTime!, $to: DateTime!) { creditUsage(workspaceId: $w, from: $from, to: $to, groupBy: DAY) { credits } }',
    { w: HOME, from: new Date(Date.now() - DAY).toISOString(), to: new Date(Date.now() + DAY).toISOString() },
  ],
  creditBalanceAt: () => [
    'query ($w: ID!, $at: DateTime!) { creditBalanceAt(workspaceId: $w, at: $at) { available } }',
    { w: HOME, at: new Date().toISOString() },
  ],
  creditPurchases: () => ['query ($w: ID!) { creditPurchases(workspaceId: $w) { id credits } }', { w: HOME }],
  creditPurchasesPage: () => [
    'query ($w: ID!) { creditPurchasesPage(workspaceId: $w, first: 1) { edges { node { id } } } }',
    { w: HOME },
  ],
  creditAlertRules: () => [
    'query ($w: ID!) { creditAlertRules(workspaceId: $w) { lowBalanceThreshold } }',
    { w: HOME },
  ],
  creditAlerts: () => ['query ($w: ID!) { creditAlerts(workspaceId: $w) { id type } }', { w: HOME }],
  configureCreditAlerts: () => [
    'mutation ($i: ConfigureCreditAlertsInput!) { configureCreditAlerts(input: $i) { lowBalanceThreshold } }',
    { i: { workspaceId: HOME, lowBalanceCredits: 100 } },
  ],
  autoTopUpTerms: () => [
    'query ($i: AutoTopUpSettingsInput!) { autoTopUpTerms(input: $i) { terms } }',
    { i: { workspaceId: HOME, enabled: true, thresholdCredits: 100, packageId: 'credits-500', monthlyLimit: 100000 } },
  ],
  configureAutoTopUp: () => [
    'mutation ($i: ConfigureAutoTopUpInput!) { configureAutoTopUp(input: $i) { enabled } }',
    { i: { workspaceId: HOME, enabled: false, thresholdCredits: 100, packageId: 'credits-500', monthlyLimit: 100000 } },
  ],
  savePaymentMethod: () => [
    'mutation ($i: SavePaymentMethodInput!) { savePaymentMethod(input: $i) { url } }',
    { i: { workspaceId: HOME } },
  ],
  removePaymentMethod: () => [
    'mutation ($i: RemovePaymentMethodInput!) { removePaymentMethod(input: $i) { enabled } }',
    { i: { workspaceId: HOME } },
  ],
  consumeCredits: () => [
    'mutation ($i: ConsumeCreditsInput!) { consumeCredits(input: $i) { id } }',
    { i: { workspaceId: HOME, action: 'ACTION_PLAN_GENERATION', idempotencyKey: `access-${++keys}` } },
  ],
  creditHolds: () => ['query ($w: ID!) { creditHolds(workspaceId: $w, first: 1) { edges { cursor } } }', { w: HOME }],
  reserveCredits: () => [
    'mutation ($i: ReserveCreditsInput!) { reserveCredits(input: $i) { id } }',
    { i: { workspaceId: HOME, action: 'ACTION_PLAN_GENERATION', idempotencyKey: `access-hold-${++keys}` } },
  ],
  // One hold of HOME: the first caller allowed settles it, the next ones are told HOLD_SETTLED.
  settleCreditHold: () => [
    'mutation ($i: SettleCreditHoldInput!) { settleCreditHold(input: $i) { id } }',
    { i: { holdId, units: 1, idempotencyKey: `access-settle-${++keys}` } },
  ],
  releaseCreditHold: () => [
    'mutation ($i: ReleaseCreditHoldInput!) { releaseCreditHold(input: $i) { id } }',
    { i: { holdId } },
  ],
  extendCreditHold: () => [
    'mutation ($i: ExtendCreditHoldInput!) { extendCreditHold(input: $i) { id } }',
    { i: { holdId, expiresAt: new Date(Date.now() + 2 * 3_600_000).toISOString() } },
  ],
  startCreditPurchase: () => [
    'mutation ($w: ID!) { startCreditPurchase(workspaceId: $w, packageId: "credits-500") { id } }',
    { w: HOME },
  ],
  applyPlanAllowance: () => [
    'mutation ($i: ApplyPlanAllowanceInput!) { applyPlanAllowance(input: $i) { available } }',
    {
      i: {
        workspaceId: HOME,
        planId: 'scale',
        periodStart: new Date(Date.now() - DAY).toISOString(),
        periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
      },
    },
  ],
  purchaseCredits: () => [
    'mutation ($i: PurchaseCreditsInput!) { purchaseCredits(input: $i) { available } }',
    { i: { workspaceId: HOME, packageId: 'credits-500', paymentReference: `access-pay-${++keys}` } },
  ],
  grantCredits: () => [
    'mutation ($i: GrantCreditsInput!) { grantCredits(input: $i) { available } }',
    { i: { workspaceId: HOME, credits: 1, reason: 'access test', idempotencyKey: `access-grant-${++keys}` } },
  ],
  refundCreditPurchase: () => [
    'mutation ($i: RefundCreditPurchaseInput!) { refundCreditPurchase(input: $i) { id } }',
    { i: { purchaseId: 'no-such-purchase', reason: 'access test' } },
  ],
  refundCreditConsumption: () => [
    'mutation ($i: RefundCreditConsumptionInput!) { refundCreditConsumption(input: $i) { available } }',
    { i: { consumptionId: 'no-such-spend', reason: 'access test' } },
  ],
  uncreditedPayments: () => ['{ uncreditedPayments { id } }', {}],
  refusedPaymentEvents: () => ['{ refusedPaymentEvents { id } }', {}],
  parkedReactionWork: () => ['{ parkedReactionWork { id } }', {}],
  retryReactionWork: () => [
    'mutation ($i: RetryReactionWorkInput!) { retryReactionWork(input: $i) }',
    { i: { reaction: 'payments', key: 'nothing-parked' } },
  ],
  webhookEndpoints: () => ['query ($w: ID!) { webhookEndpoints(workspaceId: $w) { id } }', { w: HOME }],
  platformWebhookEndpoints: () => ['{ platformWebhookEndpoints { id } }', {}],
  webhookDeliveries: () => ['query ($e: ID!) { webhookDeliveries(endpointId: $e) { id } }', { e: endpointId }],
  createWebhookEndpoint: () => [
    'mutation ($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { id } }',
    { i: { workspaceId: HOME, url: 'http://127.0.0.1:9/access', eventTypes: ['credits.low'] } },
  ],
  updateWebhookEndpoint: () => [
    'mutation ($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) { id } }',
    { i: { endpointId, description: `access ${++keys}` } },
  ],
  disableWebhookEndpoint: () => [
    'mutation ($i: WebhookEndpointIdInput!) { disableWebhookEndpoint(input: $i) { id } }',
    { i: { endpointId } },
  ],
  enableWebhookEndpoint: () => [
    'mutation ($i: WebhookEndpointIdInput!) { enableWebhookEndpoint(input: $i) { id } }',
    { i: { endpointId } },
  ],
  rotateWebhookSecret: () => [
    'mutation ($i: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $i) { id } }',
    { i: { endpointId } },
  ],
  redeliverWebhook: () => [
    'mutation ($i: RedeliverWebhookInput!) { redeliverWebhook(input: $i) { id } }',
    { i: { deliveryId } },
  ],
  sendTestWebhook: () => [
    'mutation ($i: WebhookEndpointIdInput!) { sendTestWebhook(input: $i) { id } }',
    { i: { endpointId } },
  ],
  // Last: once an allowed caller has deleted it, the calls above answer CONFLICT (still allowed).
  deleteWebhookEndpoint: () => [
    'mutation ($i: WebhookEndpointIdInput!) { deleteWebhookEndpoint(input: $i) { id } }',
    { i: { endpointId } },
  ],
};

const DENIED = ['FORBIDDEN', 'UNAUTHENTICATED'];
const codes = (errors: readonly GraphQLFormattedError[] | undefined) =>
  (errors ?? []).map((error) => error.extensions?.code);
const wasAllowed = (response: GraphQLResponse<unknown>) =>
  !codes(response.errors).some((code) => DENIED.includes(code as string));

beforeAll(async () => {
  server = await startServer({ env: { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } });
  const endpoint = await run(
    'mutation ($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { id } }',
    { i: { workspaceId: HOME, url: 'http://127.0.0.1:9/access', eventTypes: ['purchase.completed'] } },
    adminToken(),
  );
  endpointId = (endpoint.data as { createWebhookEndpoint: { id: string } }).createWebhookEndpoint.id;
  for (const [name, variables] of [CALLS.applyPlanAllowance!(), CALLS.purchaseCredits!()]) {
    const response = await run(name, variables, adminToken());
    expect(response.errors).toBeUndefined();
  }
  const deliveries = await run(...CALLS.webhookDeliveries!(), adminToken());
  deliveryId = (deliveries.data as { webhookDeliveries: { id: string }[] }).webhookDeliveries[0]?.id ?? '';
  expect(deliveryId).not.toBe('');
  const [reserve, variables] = CALLS.reserveCredits!();
  holdId = ((await run(reserve, variables, adminToken())).data as { reserveCredits: { id: string } }).reserveCredits.id;
});
afterAll(async () => {
  await server?.stop();
});

describe('the table', () => {
  const rootFields = (type: GraphQLObjectType | null | undefined) => Object.keys(type?.getFields() ?? {});
  const operations = [
    ...rootFields(schema.getQueryType()).map((name) => [name, 'query']),
    ...rootFields(schema.getMutationType()).map((name) => [name, 'mutation']),
    ...rootFields(schema.getSubscriptionType()).map((name) => [name, 'subscription']),
  ];

  it('names every operation of the schema, with its kind, and nothing else', () => {
    const listed = table.filter((row) => row.kind !== 'money field').map((row) => [row.name, row.kind]);
    expect(listed.sort()).toEqual([...operations].sort());
  });

  it('names every field of type Money', () => {
    const moneyFields = Object.values(schema.getTypeMap())
      .filter((type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__'))
      .flatMap((type) =>
        Object.values(type.getFields())
          .filter((field) => getNamedType(field.type).name === 'Money')
          .map((field) => `${type.name}.${field.name}`),
      );
    const listed = table.filter((row) => row.kind === 'money field').map((row) => row.name);
    expect(listed.sort()).toEqual(moneyFields.sort());
  });

  it('guards the money of a purchase’s refunds, disputes and ledger entries as the purchase’s own', () => {
    for (const field of [
      'CreditPurchase.refundedAmount',
      'CreditRefund.amount',
      'PurchaseDispute.amount',
      'LedgerEntry.amount',
    ]) {
      expect(ruleOf(field)).toBe(ruleOf('CreditPurchase.amountPaid'));
    }
  });
});

describe.each(CALLERS)('$name', (caller) => {
  it.each(Object.keys(CALLS))('is allowed or refused %s as the table says', async (name) => {
    const [query, variables] = CALLS[name]!();
    const response = await run(query, variables, caller.token());
    const allowed = RULES[ruleOf(name)](caller);
    expect({ name, allowed: wasAllowed(response) }).toEqual({ name, allowed });
    if (!allowed) expect(codes(response.errors)).toEqual(['FORBIDDEN']);
  });

  it('may or may not subscribe to workspaceCreditsChanged as the table says', async () => {
    const allowed = RULES[ruleOf('workspaceCreditsChanged')](caller);
    const client = createClient({
      url: `${server.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${caller.token()}` },
      retryAttempts: 0,
    });
    try {
      const updates = client.iterate({
        query: 'subscription ($w: ID!) { workspaceCreditsChanged(workspaceId: $w) { available } }',
        variables: { w: HOME },
      });
      const first = updates.next();
      if (allowed) {
        await new Promise((resolve) => setTimeout(resolve, 300)); // let the subscription register
        const [grant, variables] = CALLS.grantCredits!();
        expect((await run(grant, variables, adminToken())).errors).toBeUndefined();
      }
      const { value } = (await first) as { value: { errors?: GraphQLFormattedError[]; data?: unknown } };
      expect(codes(value.errors)).toEqual(allowed ? [] : ['FORBIDDEN']);
      await updates.return?.();
    } finally {
      await client.dispose();
    }
  });

  it('reads the money fields as the table says, and the rest of the answer either way', async () => {
    const response = await run(
      `query ($w: ID!) {
        creditPackages { price { amount } }
        creditPurchases(workspaceId: $w) { credits amountPaid { amount currency } refundedAmount { amount } }
        creditLedger(workspaceId: $w, types: [PURCHASE], last: 1) { edges { node { packageName amount { amount } } } }
      }`,
      { w: HOME },
      caller.token(),
    );
    if (!RULES[ruleOf('creditPurchases')](caller)) {
      expect(codes(response.errors)).toEqual(['FORBIDDEN']);
      return;
    }
    const data = response.data as {
      creditPackages: { price: unknown }[];
      creditPurchases: { credits: number; amountPaid: unknown; refundedAmount: unknown }[];
      creditLedger: { edges: { node: { packageName: string; amount: unknown } }[] };
    };
    expect(RULES[ruleOf('CreditPackage.price')](caller)).toBe(true);
    expect(data.creditPackages.every((pkg) => pkg.price !== null)).toBe(true);
    const [purchase] = data.creditPurchases;
    expect(purchase?.credits).toBe(500);
    const paidAllowed = RULES[ruleOf('CreditPurchase.amountPaid')](caller);
    const refundedAllowed = RULES[ruleOf('CreditPurchase.refundedAmount')](caller);
    expect(purchase?.amountPaid).toEqual(paidAllowed ? { amount: 5000, currency: 'USD' } : null);
    expect(purchase?.refundedAmount).toEqual(refundedAllowed ? { amount: 0 } : null);
    const entryAllowed = RULES[ruleOf('LedgerEntry.amount')](caller);
    // The first purchase, the oldest PURCHASE entry: the same 500 credits for $50.00.
    expect(data.creditLedger.edges[0]?.node).toEqual({
      packageName: '500 credits',
      amount: entryAllowed ? { amount: 5000 } : null,
    });
    const refusedPaths = (response.errors ?? []).map((error) => [error.path?.join('.'), error.extensions?.code]);
    expect(refusedPaths).toEqual([
      ...(paidAllowed ? [] : [['creditPurchases.0.amountPaid', 'FORBIDDEN']]),
      ...(refundedAllowed ? [] : [['creditPurchases.0.refundedAmount', 'FORBIDDEN']]),
      ...(entryAllowed ? [] : [['creditLedger.edges.0.node.amount', 'FORBIDDEN']]),
    ]);
  });
});

it('answers UNAUTHENTICATED to every operation without a token', async () => {
  for (const name of Object.keys(CALLS)) {
    const [query, variables] = CALLS[name]!();
    expect(codes((await run(query, variables)).errors)).toEqual(['UNAUTHENTICATED']);
  }
});
