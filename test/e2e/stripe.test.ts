/**
 * Buying and refunding credits through Stripe, end to end: the real server process runs the real
 * `stripe` SDK against a local Stripe double, which signs webhooks with the SDK's own helper and
 * delivers them to the server.
 */
import {
  ConsumeCreditsDocument,
  CreditLedgerDocument,
  CreditPurchasesDocument,
  CreditUsageDocument,
  GrantCreditsDocument,
  PaymentIssuesDocument,
  RefundCreditConsumptionDocument,
  RefundCreditPurchaseDocument,
  StartCreditPurchaseDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { expectData, expectError, headPosition } from '../support/graphql-client';
import { eventTypes } from '../support/event-log';
import { adminToken, freePort, startServer, tokenFor, type ServerProcess } from '../support/server-process';
import { startStripeDouble, type StripeDouble } from '../../tools/stripe-double';

const WEBHOOK_SECRET = 'whsec_test_credits_e2e';
let stripe: StripeDouble;
let server: ServerProcess;

beforeAll(async () => {
  const port = await freePort();
  // Events are sent when a test says so; test/e2e/money-path.test.ts lets the double send them by itself.
  stripe = await startStripeDouble({
    webhookSecret: WEBHOOK_SECRET,
    webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe`,
    automaticEvents: false,
  });
  server = await startServer({
    env: {
      PORT: String(port),
      STRIPE_SECRET_KEY: 'sk_test_credits_e2e',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE: stripe.url,
      CHECKOUT_SUCCESS_URL: 'http://localhost:4000/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}',
      CHECKOUT_CANCEL_URL: 'http://localhost:4000/billing?checkout=cancelled',
    },
  });
});
afterAll(async () => {
  await server.stop();
  await stripe.close();
});

let counter = 0;
const newWorkspace = () => `ws-stripe-${++counter}`;
const balanceOf = async (workspaceId: string) =>
  (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, adminToken())).workspaceCredits;
const purchasesOf = async (workspaceId: string) =>
  (await expectData(server.url, CreditPurchasesDocument, { workspaceId }, adminToken())).creditPurchases;

/** A billing manager starts a checkout for a package; returns the session. */
async function startCheckout(workspaceId: string, packageId = 'credits-2000') {
  const manager = tokenFor(workspaceId, 'BILLING_MANAGER', { subject: `manager-of-${workspaceId}` });
  return (await expectData(server.url, StartCreditPurchaseDocument, { workspaceId, packageId }, manager))
    .startCreditPurchase;
}

/** A workspace that bought `packageId` and paid by card. */
async function purchased(packageId = 'credits-2000') {
  const workspaceId = newWorkspace();
  const session = await startCheckout(workspaceId, packageId);
  const delivery = await stripe.completeCheckout(session.id);
  expect(delivery.status).toBe(200);
  const paymentIntentId = stripe.session(session.id)?.payment_intent as string;
  return { workspaceId, session, paymentIntentId };
}

describe('buying credits', () => {
  it('credits the package once Stripe confirms the payment', async () => {
    const workspaceId = newWorkspace();
    const session = await startCheckout(workspaceId);
    expect(session.url).toBe(`${stripe.url}/checkout/${session.id}`);
    expect(Date.parse(session.expiresAt)).toBeGreaterThan(Date.now());

    const [request] = stripe
      .requestsTo('/v1/checkout/sessions', 'POST')
      .filter((r) => r.body.client_reference_id === workspaceId);
    expect(request?.idempotencyKey).toMatch(/^checkout-/);
    expect(request?.body).toMatchObject({
      mode: 'payment',
      line_items: [
        {
          quantity: '1',
          price_data: { currency: 'usd', unit_amount: '18000', product_data: { name: '2,000 credits' } },
        },
      ],
      metadata: { workspaceId, packageId: 'credits-2000', credits: '2000', startedBy: `manager-of-${workspaceId}` },
      success_url: 'http://localhost:4000/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}',
    });
    expect((await balanceOf(workspaceId)).available).toBe(0); // nothing before the payment

    const delivery = await stripe.completeCheckout(session.id);
    expect(delivery.status).toBe(200);
    expect(await balanceOf(workspaceId)).toMatchObject({
      available: 2000,
      purchased: { granted: 2000, remaining: 2000 },
    });
    expect(await purchasesOf(workspaceId)).toEqual([
      expect.objectContaining({
        id: session.id,
        packageId: 'credits-2000',
        credits: 2000,
        creditsLeft: 2000,
        amountPaid: { amount: 18000, currency: 'USD' },
        refundedCredits: 0,
        status: 'PAID',
        provider: 'STRIPE',
        purchasedBy: `manager-of-${workspaceId}`,
      }),
    ]);
  });

  it('credits once however often and in whatever order the webhooks arrive', async () => {
    const workspaceId = newWorkspace();
    const session = await startCheckout(workspaceId, 'credits-500');
    // A delayed payment method: completed (unpaid), then succeeded. Deliver them backwards, twice.
    const completed = await stripe.completeCheckout(session.id, { paymentStatus: 'unpaid', deliver: false });
    const succeeded = await stripe.asyncPaymentSucceeded(session.id, { deliver: false });
    expect((await stripe.redeliver(succeeded)).status).toBe(200);
    expect((await stripe.redeliver(completed)).status).toBe(200);
    expect((await stripe.redeliver(succeeded)).status).toBe(200);
    expect((await stripe.redeliver(completed)).status).toBe(200);
    expect(await balanceOf(workspaceId)).toMatchObject({ available: 500, purchased: { granted: 500 } });
    expect(await purchasesOf(workspaceId)).toHaveLength(1);
  });

  it('credits nothing for a checkout still pending or whose delayed payment failed', async () => {
    const workspaceId = newWorkspace();
    const session = await startCheckout(workspaceId, 'credits-500');
    expect((await stripe.completeCheckout(session.id, { paymentStatus: 'unpaid' })).status).toBe(200);
    expect((await stripe.asyncPaymentFailed(session.id)).status).toBe(200);
    expect((await balanceOf(workspaceId)).available).toBe(0);
    expect(await purchasesOf(workspaceId)).toEqual([]);
    expect(await eventTypes(server.dataDir, workspaceId)).toEqual([
      'CheckoutStarted',
      'CheckoutSessionOpened',
      'CheckoutPaymentUpdated',
      'CheckoutPaymentUpdated',
    ]);
  });

  it('credits nothing when the amount paid does not match the offer, and says so to admins', async () => {
    const workspaceId = newWorkspace();
    const session = await startCheckout(workspaceId, 'credits-10000');
    const delivery = await stripe.completeCheckout(session.id, { amountTotal: 100 });
    expect(delivery.status).toBe(200); // acknowledged: retrying would not make it right
    expect((await stripe.redeliver(delivery)).status).toBe(200);
    expect(await purchasesOf(workspaceId)).toEqual([]);
    const issues = (await expectData(server.url, PaymentIssuesDocument, {}, adminToken())).uncreditedPayments;
    expect(issues.filter((issue) => issue.workspaceId === workspaceId)).toEqual([
      {
        id: `${workspaceId}:${session.id}`,
        workspaceId,
        sessionId: session.id,
        paymentIntentId: stripe.session(session.id)?.payment_intent,
        amount: { amount: 100, currency: 'USD' },
        reason: 'collected 100 USD for an offer of 80000 USD',
      },
    ]);
  });

  it('answers 400 and records nothing for a missing, forged or altered signature', async () => {
    const workspaceId = newWorkspace();
    const session = await startCheckout(workspaceId, 'credits-500');
    const delivery = await stripe.completeCheckout(session.id, { deliver: false });
    const head = await headPosition(server.url);
    const post = (body: string, signature?: string) =>
      fetch(`${server.url}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature && { 'stripe-signature': signature }) },
        body,
      });
    expect((await post(delivery.payload)).status).toBe(400);
    expect((await post(delivery.payload, stripe.sign(delivery.payload, { secret: 'whsec_someone_else' }))).status).toBe(
      400,
    );
    const altered = delivery.payload.replace(/"credits":(\s*)"500"/, '"credits":$1"5000"');
    expect(altered).not.toBe(delivery.payload);
    expect((await post(altered, delivery.signature)).status).toBe(400);
    const stale = stripe.sign(delivery.payload, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect((await post(delivery.payload, stale)).status).toBe(400);
    expect(await headPosition(server.url)).toBe(head);
    expect((await balanceOf(workspaceId)).available).toBe(0);
    // The genuine delivery still works afterwards.
    expect((await stripe.redeliver(delivery)).status).toBe(200);
    expect((await balanceOf(workspaceId)).available).toBe(500);
  });
});

describe('refunding purchases', () => {
  const refund = (input: { purchaseId: string; credits?: number; reason?: string; idempotencyKey?: string }) =>
    expectData(
      server.url,
      RefundCreditPurchaseDocument,
      { input: { reason: 'customer request', ...input } },
      adminToken(),
    );

  it('refunds part, then the rest of the unspent credits, capped at what is unspent', async () => {
    const { workspaceId, session, paymentIntentId } = await purchased('credits-2000'); // $180.00
    await expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'ORG_CHART_GENERATION', units: 5, idempotencyKey: 'spent' } },
      tokenFor(workspaceId, 'MEMBER'),
    ); // 500 of the 2,000 credits spent

    const first = (await refund({ purchaseId: session.id, credits: 1000 })).refundCreditPurchase;
    expect(first).toMatchObject({ purchaseId: session.id, credits: 1000, amount: { amount: 9000, currency: 'USD' } });
    const [stripeRefund] = stripe.refunds(paymentIntentId);
    expect(stripeRefund).toMatchObject({
      amount: 9000,
      metadata: { purchaseId: session.id, refundId: first.id, credits: '1000' },
    });
    expect(stripe.requestsTo('/v1/refunds', 'POST').at(-1)?.idempotencyKey).toBe(first.id);

    const tooMuch = await expectError(
      server.url,
      RefundCreditPurchaseDocument,
      { input: { purchaseId: session.id, credits: 501, reason: 'x' } },
      adminToken(),
    );
    expect(tooMuch.code).toBe('BAD_USER_INPUT');
    expect(stripe.refunds(paymentIntentId)).toHaveLength(1);

    const rest = (await refund({ purchaseId: session.id })).refundCreditPurchase;
    expect(rest).toMatchObject({ credits: 500, amount: { amount: 4500 } }); // 1,500 of 2,000 credits → $135.00 in all
    expect(stripe.refundedTotal(paymentIntentId)).toBe(13500);

    const nothingLeft = await expectError(
      server.url,
      RefundCreditPurchaseDocument,
      { input: { purchaseId: session.id, reason: 'x' } },
      adminToken(),
    );
    expect(nothingLeft.code).toBe('CONFLICT');
    expect(await balanceOf(workspaceId)).toMatchObject({
      available: 0,
      purchased: { granted: 2000, consumed: 500, refunded: 1500, remaining: 0 },
    });
    expect((await purchasesOf(workspaceId))[0]).toMatchObject({
      creditsLeft: 0,
      refundedCredits: 1500,
      refundedAmount: { amount: 13500 },
      status: 'PARTIALLY_REFUNDED',
    });
  });

  it('refunds an unspent purchase in full, and its charge.refunded webhook changes nothing', async () => {
    const { workspaceId, session, paymentIntentId } = await purchased('credits-500');
    const full = (await refund({ purchaseId: session.id, idempotencyKey: 'ticket-77' })).refundCreditPurchase;
    expect(full).toMatchObject({ credits: 500, amount: { amount: 5000 } });
    expect((await purchasesOf(workspaceId))[0]?.status).toBe('REFUNDED');

    const head = await headPosition(server.url);
    const [ours] = stripe.refunds(paymentIntentId);
    expect((await stripe.chargeRefundedFor(ours!.id, { listRefunds: false })).status).toBe(200);
    const again = (await refund({ purchaseId: session.id, idempotencyKey: 'ticket-77' })).refundCreditPurchase;
    expect(again).toEqual(full);
    expect(await headPosition(server.url)).toBe(head);
    expect(stripe.refunds(paymentIntentId)).toHaveLength(1);
  });

  it('refunds once when every answer from Stripe is lost: the reaction finds the refund Stripe made', async () => {
    const { workspaceId, session, paymentIntentId } = await purchased('credits-500');
    stripe.failNext('/v1/refunds', 'drop-after', 3); // the refund happens, every answer is lost
    const answered = (await refund({ purchaseId: session.id, reason: 'r' })).refundCreditPurchase;
    expect(answered).toMatchObject({ credits: 500, amount: { amount: 5000 }, status: 'SUCCEEDED' });
    expect(stripe.refunds(paymentIntentId)).toHaveLength(1);

    const repeated = (await refund({ purchaseId: session.id, reason: 'r' })).refundCreditPurchase;
    expect(repeated).toEqual(answered);
    expect(stripe.refunds(paymentIntentId)).toHaveLength(1);
    expect(stripe.refundedTotal(paymentIntentId)).toBe(5000);
    expect((await balanceOf(workspaceId)).purchased).toMatchObject({ refunded: 500, remaining: 0 });
  });

  it('gives the credits back when Stripe refuses the refund, and says why', async () => {
    const { workspaceId, session, paymentIntentId } = await purchased('credits-500');
    stripe.failNext('/v1/refunds', {
      status: 400,
      type: 'invalid_request_error',
      code: 'charge_disputed',
      message: 'The charge is disputed.',
    });
    const refused = (await refund({ purchaseId: session.id, reason: 'r' })).refundCreditPurchase;
    expect(refused).toMatchObject({
      status: 'FAILED',
      credits: 500,
      failure: expect.stringContaining('The charge is disputed.') as unknown,
    });
    expect(stripe.refunds(paymentIntentId)).toHaveLength(0);
    expect(await balanceOf(workspaceId)).toMatchObject({ available: 500, purchased: { refunded: 0, remaining: 500 } });
  });

  it('reflects a refund made in the Stripe dashboard in the ledger, once', async () => {
    const { workspaceId, session, paymentIntentId } = await purchased('credits-2000');
    const delivery = await stripe.refundFromDashboard(paymentIntentId, 4500, { listRefunds: false }); // a quarter
    expect(delivery.status).toBe(200);
    expect((await stripe.redeliver(delivery)).status).toBe(200);
    const ledger = (
      await expectData(server.url, CreditLedgerDocument, { workspaceId, types: ['PURCHASE_REFUND'] }, adminToken())
    ).creditLedger;
    expect(ledger.edges.map((edge) => edge.node)).toEqual([
      expect.objectContaining({ credits: -500, balanceAfter: 1500, reference: session.id, actorId: 'stripe' }),
    ]);
    expect((await purchasesOf(workspaceId))[0]).toMatchObject({
      refundedCredits: 500,
      refundedAmount: { amount: 4500 },
      creditsLeft: 1500,
    });
  });

  it('answers 500 when it cannot apply an event, so that Stripe delivers it again', async () => {
    const { workspaceId, paymentIntentId } = await purchased('credits-500');
    stripe.failNext('/v1/refunds', { status: 503, type: 'api_error', message: 'Stripe is down' }, 3);
    const failed = await stripe.refundFromDashboard(paymentIntentId, 5000, { listRefunds: false });
    expect(failed.status).toBe(500);
    expect((await balanceOf(workspaceId)).purchased.refunded).toBe(0);
    expect((await stripe.redeliver(failed)).status).toBe(200);
    expect((await balanceOf(workspaceId)).purchased).toMatchObject({ refunded: 500, remaining: 0 });
  });

  it('takes back nothing the workspace already spent when the dashboard refunds everything', async () => {
    const { workspaceId, paymentIntentId } = await purchased('credits-500');
    await expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'ORG_CHART_SYNC', units: 3, idempotencyKey: 'spent' } },
      adminToken(),
    );
    expect((await stripe.refundFromDashboard(paymentIntentId, 5000, { listRefunds: false })).status).toBe(200);
    expect(await balanceOf(workspaceId)).toMatchObject({
      available: 0,
      purchased: { consumed: 300, refunded: 200, remaining: 0 },
    });
  });
});

describe('refunding a spend', () => {
  it('gives the credits back to the grants that paid, once, and usage no longer counts it', async () => {
    const workspaceId = newWorkspace();
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 300, reason: 'trial', idempotencyKey: 't' } },
      adminToken(),
    );
    const from = new Date(Date.now() - 1000).toISOString();
    const spend = (
      await expectData(
        server.url,
        ConsumeCreditsDocument,
        { input: { workspaceId, action: 'ORG_CHART_GENERATION', units: 2, idempotencyKey: 'failed-run' } },
        tokenFor(workspaceId, 'MEMBER'),
      )
    ).consumeCredits;
    await expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: 'ok-run' } },
      tokenFor(workspaceId, 'MEMBER'),
    );
    const input = { consumptionId: spend.id, reason: 'org chart run failed' };
    const restored = (await expectData(server.url, RefundCreditConsumptionDocument, { input }, adminToken()))
      .refundCreditConsumption;
    expect(restored.available).toBe(293);
    const head = await headPosition(server.url);
    const twice = (await expectData(server.url, RefundCreditConsumptionDocument, { input }, adminToken()))
      .refundCreditConsumption;
    expect(twice.available).toBe(293);
    expect(await headPosition(server.url)).toBe(head);

    const to = new Date(Date.now() + 1000).toISOString();
    const usage = (
      await expectData(server.url, CreditUsageDocument, { workspaceId, from, to, groupBy: 'ACTION' }, adminToken())
    ).creditUsage;
    expect(usage.map(({ key, credits, count }) => [key, credits, count])).toEqual([['PERSON_ENRICHMENT', 7, 1]]);
    const ledger = (await expectData(server.url, CreditLedgerDocument, { workspaceId, first: 2 }, adminToken()))
      .creditLedger;
    expect(ledger.edges[0]?.node).toMatchObject({
      type: 'CONSUMPTION_REFUND',
      credits: 200,
      balanceAfter: 293,
      reference: spend.id,
    });

    const unknown = await expectError(
      server.url,
      RefundCreditConsumptionDocument,
      { input: { consumptionId: 'nope', reason: 'r' } },
      adminToken(),
    );
    expect(unknown.code).toBe('NOT_FOUND');
  });
});

describe('permissions', () => {
  it.each([
    ['OWNER', true],
    ['BILLING_MANAGER', true],
    ['MEMBER', false],
    ['SERVICE', false],
  ] as const)('a %s may start a purchase: %s', async (role, allowed) => {
    const workspaceId = newWorkspace();
    const response = await (allowed ? expectData : expectError)(
      server.url,
      StartCreditPurchaseDocument,
      { workspaceId, packageId: 'credits-500' },
      tokenFor(workspaceId, role),
    );
    if (!allowed) expect((response as { code: unknown }).code).toBe('FORBIDDEN');
  });

  it('lets an admin start a purchase for any workspace, and nobody for another workspace', async () => {
    await expectData(
      server.url,
      StartCreditPurchaseDocument,
      { workspaceId: newWorkspace(), packageId: 'credits-500' },
      adminToken(),
    );
    const other = await expectError(
      server.url,
      StartCreditPurchaseDocument,
      { workspaceId: 'ws-not-mine', packageId: 'credits-500' },
      tokenFor('ws-mine', 'OWNER'),
    );
    expect(other.code).toBe('FORBIDDEN');
  });

  it('keeps refunds to admins', async () => {
    const { workspaceId, session } = await purchased('credits-500');
    for (const role of ['OWNER', 'BILLING_MANAGER', 'MEMBER', 'SERVICE'] as const) {
      const purchase = await expectError(
        server.url,
        RefundCreditPurchaseDocument,
        { input: { purchaseId: session.id, reason: 'r' } },
        tokenFor(workspaceId, role),
      );
      expect(purchase.code).toBe('FORBIDDEN');
      const spend = await expectError(
        server.url,
        RefundCreditConsumptionDocument,
        { input: { consumptionId: 'c', reason: 'r' } },
        tokenFor(workspaceId, role),
      );
      expect(spend.code).toBe('FORBIDDEN');
    }
    expect((await purchasesOf(workspaceId))[0]?.status).toBe('PAID');
  });

  it('answers NOT_FOUND for an unknown package', async () => {
    const workspaceId = newWorkspace();
    const error = await expectError(
      server.url,
      StartCreditPurchaseDocument,
      { workspaceId, packageId: 'credits-1' },
      tokenFor(workspaceId, 'OWNER'),
    );
    expect(error.code).toBe('NOT_FOUND');
  });
});

describe('without Stripe configured', () => {
  it('serves everything else and answers PAYMENTS_NOT_CONFIGURED for checkout; the webhook answers 503', async () => {
    const plain = await startServer();
    try {
      const error = await expectError(
        plain.url,
        StartCreditPurchaseDocument,
        { workspaceId: 'w', packageId: 'credits-500' },
        tokenFor('w', 'OWNER'),
      );
      expect(error.code).toBe('PAYMENTS_NOT_CONFIGURED');
      const webhook = await fetch(`${plain.url}/webhooks/stripe`, { method: 'POST', body: '{}' });
      expect(webhook.status).toBe(503);
      expect(
        (await expectData(plain.url, WorkspaceCreditsDocument, { workspaceId: 'w' }, tokenFor('w', 'OWNER')))
          .workspaceCredits.available,
      ).toBe(0);
    } finally {
      await plain.stop();
    }
  });
});
