/**
 * Buying credits through Stripe Checkout, end to end (test/support/stripe-testbed.ts): a checkout
 * credited once whatever the webhooks do, nothing credited for what was not paid as offered,
 * forged webhooks refused, who may buy, and the service without Stripe configured.
 */
import {
  PaymentIssuesDocument,
  PaymentSettingsDocument,
  RefundCreditConsumptionDocument,
  RefundCreditPurchaseDocument,
  StartCreditPurchaseDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { eventually } from '../support/eventually';
import { expectData, expectError, headPosition } from '../support/graphql-client';
import { eventTypes } from '../support/event-log';
import { adminToken, startServer, tokenFor } from '../support/server-process';
import { stripeTestbed } from '../support/stripe-testbed';

const testbed = stripeTestbed();
const { newWorkspace, balanceOf, purchasesOf, startCheckout, purchased } = testbed;

describe('buying credits', () => {
  it('says in paymentSettings that payments are on, to any signed-in caller', async () => {
    const workspaceId = newWorkspace();
    const { paymentSettings } = await expectData(
      testbed.server.url,
      PaymentSettingsDocument,
      {},
      tokenFor(workspaceId, 'MEMBER'),
    );
    expect(paymentSettings).toEqual({ id: 'payments', enabled: true });
  });

  it('credits the package once Stripe confirms the payment', async () => {
    const workspaceId = newWorkspace();
    const session = await startCheckout(workspaceId);
    expect(session.url).toBe(`${testbed.stripe.url}/checkout/${session.id}`);
    expect(Date.parse(session.expiresAt)).toBeGreaterThan(Date.now());

    const [request] = testbed.stripe
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

    const delivery = await testbed.stripe.completeCheckout(session.id);
    expect(delivery.status).toBe(200);
    expect(await balanceOf(workspaceId)).toMatchObject({
      available: 2000,
      purchased: { granted: 2000, remaining: 2000 },
    });
    expect(await purchasesOf(workspaceId)).toEqual([
      expect.objectContaining({
        id: `${workspaceId}/${session.id}`,
        purchaseId: session.id,
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
    const completed = await testbed.stripe.completeCheckout(session.id, { paymentStatus: 'unpaid', deliver: false });
    const succeeded = await testbed.stripe.asyncPaymentSucceeded(session.id, { deliver: false });
    expect((await testbed.stripe.redeliver(succeeded)).status).toBe(200);
    expect((await testbed.stripe.redeliver(completed)).status).toBe(200);
    expect((await testbed.stripe.redeliver(succeeded)).status).toBe(200);
    expect((await testbed.stripe.redeliver(completed)).status).toBe(200);
    expect(await balanceOf(workspaceId)).toMatchObject({ available: 500, purchased: { granted: 500 } });
    expect(await purchasesOf(workspaceId)).toHaveLength(1);
  });

  it('credits nothing for a checkout still pending or whose delayed payment failed', async () => {
    const workspaceId = newWorkspace();
    const session = await startCheckout(workspaceId, 'credits-500');
    expect((await testbed.stripe.completeCheckout(session.id, { paymentStatus: 'unpaid' })).status).toBe(200);
    expect((await testbed.stripe.asyncPaymentFailed(session.id)).status).toBe(200);
    expect((await balanceOf(workspaceId)).available).toBe(0);
    expect(await purchasesOf(workspaceId)).toEqual([]);
    expect(await eventTypes(testbed.server.dataDir, workspaceId)).toEqual([
      'CheckoutStarted',
      'CheckoutSessionOpened',
      'CheckoutPaymentUpdated',
      'CheckoutPaymentUpdated',
    ]);
  });

  it('credits nothing when the amount paid does not match the offer, and says so to admins', async () => {
    const workspaceId = newWorkspace();
    const session = await startCheckout(workspaceId, 'credits-10000');
    const delivery = await testbed.stripe.completeCheckout(session.id, { amountTotal: 100 });
    expect(delivery.status).toBe(200); // acknowledged: retrying would not make it right
    expect((await testbed.stripe.redeliver(delivery)).status).toBe(200);
    expect(await purchasesOf(workspaceId)).toEqual([]);
    const issues = (await expectData(testbed.server.url, PaymentIssuesDocument, {}, adminToken())).uncreditedPayments;
    expect(issues.filter((issue) => issue.workspaceId === workspaceId)).toEqual([
      {
        id: `${workspaceId}:${session.id}`,
        workspaceId,
        sessionId: session.id,
        paymentIntentId: testbed.stripe.session(session.id)?.payment_intent,
        amount: { amount: 100, currency: 'USD' },
        amountReturned: { amount: 0, currency: 'USD' },
        reason: 'collected 100 USD for an offer of 80000 USD',
      },
    ]);
    // An admin gives the money back in Stripe's Dashboard: the list shows it went back.
    const paymentIntentId = testbed.stripe.session(session.id)?.payment_intent ?? '';
    await testbed.stripe.refundFromDashboard(paymentIntentId, 100);
    const settled = await eventually(
      async () => (await expectData(testbed.server.url, PaymentIssuesDocument, {}, adminToken())).uncreditedPayments,
      (list) => list.some((issue) => issue.workspaceId === workspaceId && issue.amountReturned.amount === 100),
    );
    expect(settled.find((issue) => issue.workspaceId === workspaceId)?.amountReturned).toEqual({
      amount: 100,
      currency: 'USD',
    });
    expect(await purchasesOf(workspaceId)).toEqual([]);
  });

  it('answers 400 and records nothing for a missing, forged or altered signature', async () => {
    const workspaceId = newWorkspace();
    const session = await startCheckout(workspaceId, 'credits-500');
    const delivery = await testbed.stripe.completeCheckout(session.id, { deliver: false });
    const head = await headPosition(testbed.server.url);
    const post = (body: string, signature?: string) =>
      fetch(`${testbed.server.url}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature && { 'stripe-signature': signature }) },
        body,
      });
    expect((await post(delivery.payload)).status).toBe(400);
    expect(
      (await post(delivery.payload, testbed.stripe.sign(delivery.payload, { secret: 'whsec_someone_else' }))).status,
    ).toBe(400);
    const altered = delivery.payload.replace(/"credits":(\s*)"500"/, '"credits":$1"5000"');
    expect(altered).not.toBe(delivery.payload);
    expect((await post(altered, delivery.signature)).status).toBe(400);
    const stale = testbed.stripe.sign(delivery.payload, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect((await post(delivery.payload, stale)).status).toBe(400);
    expect(await headPosition(testbed.server.url)).toBe(head);
    expect((await balanceOf(workspaceId)).available).toBe(0);
    // The genuine delivery still works afterwards.
    expect((await testbed.stripe.redeliver(delivery)).status).toBe(200);
    expect((await balanceOf(workspaceId)).available).toBe(500);
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
      testbed.server.url,
      StartCreditPurchaseDocument,
      { workspaceId, packageId: 'credits-500' },
      tokenFor(workspaceId, role),
    );
    if (!allowed) expect((response as { code: unknown }).code).toBe('FORBIDDEN');
  });

  it('lets an admin start a purchase for any workspace, and nobody for another workspace', async () => {
    await expectData(
      testbed.server.url,
      StartCreditPurchaseDocument,
      { workspaceId: newWorkspace(), packageId: 'credits-500' },
      adminToken(),
    );
    const other = await expectError(
      testbed.server.url,
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
        testbed.server.url,
        RefundCreditPurchaseDocument,
        { input: { purchaseId: session.id, reason: 'r' } },
        tokenFor(workspaceId, role),
      );
      expect(purchase.code).toBe('FORBIDDEN');
      const spend = await expectError(
        testbed.server.url,
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
      testbed.server.url,
      StartCreditPurchaseDocument,
      { workspaceId, packageId: 'credits-1' },
      tokenFor(workspaceId, 'OWNER'),
    );
    expect(error.code).toBe('NOT_FOUND');
  });
});

describe('without Stripe configured', () => {
  it('says payments are off, serves everything else and answers PAYMENTS_NOT_CONFIGURED for checkout; the webhook answers 503', async () => {
    const plain = await startServer();
    try {
      const { paymentSettings } = await expectData(plain.url, PaymentSettingsDocument, {}, tokenFor('w', 'MEMBER'));
      expect(paymentSettings).toEqual({ id: 'payments', enabled: false });
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
