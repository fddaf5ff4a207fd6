/**
 * Refunds through Stripe, end to end (test/support/stripe-testbed.ts): refunds of purchases asked
 * here or made in the Stripe dashboard, answered or lost or refused by Stripe, and a spend's
 * credits given back.
 */
import {
  ConsumeCreditsDocument,
  CreditLedgerDocument,
  CreditUsageDocument,
  GrantCreditsDocument,
  RefundCreditConsumptionDocument,
  RefundCreditPurchaseDocument,
} from '../generated/graphql';
import { execute, expectData, expectError, headPosition } from '../support/graphql-client';
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { eventTypes } from '../support/event-log';
import { adminToken, tokenFor } from '../support/server-process';
import { stripeTestbed } from '../support/stripe-testbed';

const testbed = stripeTestbed();
const { newWorkspace, balanceOf, purchasesOf, purchased } = testbed;

describe('refunding purchases', () => {
  const refund = (input: { purchaseId: string; credits?: number; reason?: string; idempotencyKey?: string }) =>
    expectData(
      testbed.server.url,
      RefundCreditPurchaseDocument,
      { input: { reason: 'customer request', ...input } },
      adminToken(),
    );

  it('refunds part, then the rest of the unspent credits, capped at what is unspent', async () => {
    const { workspaceId, session, paymentIntentId } = await purchased('credits-2000'); // $180.00
    await expectData(
      testbed.server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'ORG_CHART_GENERATION', units: 5, idempotencyKey: 'spent' } },
      tokenFor(workspaceId, 'MEMBER'),
    ); // 500 of the 2,000 credits spent

    const first = (await refund({ purchaseId: session.id, credits: 1000 })).refundCreditPurchase;
    expect(first).toMatchObject({ purchaseId: session.id, credits: 1000, amount: { amount: 9000, currency: 'USD' } });
    const [stripeRefund] = testbed.stripe.refunds(paymentIntentId);
    expect(stripeRefund).toMatchObject({
      amount: 9000,
      metadata: { purchaseId: session.id, refundId: first.id, credits: '1000' },
    });
    expect(testbed.stripe.requestsTo('/v1/refunds', 'POST').at(-1)?.idempotencyKey).toBe(first.id);

    const tooMuch = await expectError(
      testbed.server.url,
      RefundCreditPurchaseDocument,
      { input: { purchaseId: session.id, credits: 501, reason: 'x' } },
      adminToken(),
    );
    expect(tooMuch.code).toBe('BAD_USER_INPUT');
    expect(testbed.stripe.refunds(paymentIntentId)).toHaveLength(1);

    const rest = (await refund({ purchaseId: session.id })).refundCreditPurchase;
    expect(rest).toMatchObject({ credits: 500, amount: { amount: 4500 } }); // 1,500 of 2,000 credits → $135.00 in all
    expect(testbed.stripe.refundedTotal(paymentIntentId)).toBe(13500);

    const nothingLeft = await expectError(
      testbed.server.url,
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

    const head = await headPosition(testbed.server.url);
    const [ours] = testbed.stripe.refunds(paymentIntentId);
    expect((await testbed.stripe.chargeRefundedFor(ours!.id, { listRefunds: false })).status).toBe(200);
    const again = (await refund({ purchaseId: session.id, idempotencyKey: 'ticket-77' })).refundCreditPurchase;
    expect(again).toEqual(full);
    expect(await headPosition(testbed.server.url)).toBe(head);
    expect(testbed.stripe.refunds(paymentIntentId)).toHaveLength(1);
  });

  it('refunds once when every answer from Stripe is lost: the reaction finds the refund Stripe made', async () => {
    const { workspaceId, session, paymentIntentId } = await purchased('credits-500');
    testbed.stripe.failNext('POST /v1/refunds', 'drop-after', 3); // the refund happens, every answer is lost
    const answered = (await refund({ purchaseId: session.id, reason: 'r' })).refundCreditPurchase;
    expect(answered).toMatchObject({ credits: 500, amount: { amount: 5000 }, status: 'SUCCEEDED' });
    expect(testbed.stripe.refunds(paymentIntentId)).toHaveLength(1);

    const repeated = (await refund({ purchaseId: session.id, reason: 'r' })).refundCreditPurchase;
    expect(repeated).toEqual(answered);
    expect(testbed.stripe.refunds(paymentIntentId)).toHaveLength(1);
    expect(testbed.stripe.refundedTotal(paymentIntentId)).toBe(5000);
    expect((await balanceOf(workspaceId)).purchased).toMatchObject({ refunded: 500, remaining: 0 });
  });

  it('gives the credits back when Stripe refuses the refund, and says why', async () => {
    const { workspaceId, session, paymentIntentId } = await purchased('credits-500');
    testbed.stripe.failNext('POST /v1/refunds', {
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
    expect(testbed.stripe.refunds(paymentIntentId)).toHaveLength(0);
    expect(await balanceOf(workspaceId)).toMatchObject({ available: 500, purchased: { refunded: 0, remaining: 500 } });
  });

  it('reflects a refund made in the Stripe dashboard in the ledger, once', async () => {
    const { workspaceId, session, paymentIntentId } = await purchased('credits-2000');
    const delivery = await testbed.stripe.refundFromDashboard(paymentIntentId, 4500, { listRefunds: false }); // a quarter
    expect(delivery.status).toBe(200);
    expect((await testbed.stripe.redeliver(delivery)).status).toBe(200);
    const ledger = (
      await expectData(
        testbed.server.url,
        CreditLedgerDocument,
        { workspaceId, types: ['PURCHASE_REFUND'] },
        adminToken(),
      )
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

  /** A signed refund.updated for a Dashboard refund whose metadata someone filled in with `workspaceId`. */
  const refundNaming = async (paymentIntentId: string, workspaceId: string, id: string) => {
    const payload = JSON.stringify({
      id: `evt_${id}`,
      object: 'event',
      api_version: '2025-01-27.acacia',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'refund.updated',
      data: {
        object: {
          id,
          object: 'refund',
          amount: 4500,
          charge: `ch_${id}`,
          created: Math.floor(Date.now() / 1000),
          currency: 'usd',
          metadata: { workspaceId },
          payment_intent: paymentIntentId,
          reason: null,
          status: 'succeeded',
          failure_reason: null,
        },
      },
    });
    const answer = await fetch(`${testbed.server.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': testbed.stripe.sign(payload) },
      body: payload,
    });
    return answer.status;
  };

  it('files a refund under the workspace whose purchase it refunds, whatever workspace its metadata names', async () => {
    const { workspaceId, paymentIntentId } = await purchased('credits-2000'); // $180.00
    const other = testbed.newWorkspace();
    expect(await refundNaming(paymentIntentId, other, 're_foreign_metadata')).toBe(200);
    expect((await purchasesOf(workspaceId))[0]).toMatchObject({ refundedCredits: 500, creditsLeft: 1500 });
    expect(await eventTypes(testbed.server.dataDir, other)).toEqual([]);
  });

  it('files it so too when it comes before the payment is recorded: by the payment as Stripe keeps it', async () => {
    const workspaceId = testbed.newWorkspace();
    const other = testbed.newWorkspace();
    const session = await testbed.startCheckout(workspaceId, 'credits-2000');
    testbed.stripe.holdDeliveries();
    await testbed.stripe.completeCheckout(session.id);
    const paymentIntentId = testbed.stripe.session(session.id)?.payment_intent as string;
    expect(await refundNaming(paymentIntentId, other, 're_foreign_early')).toBe(200);
    await testbed.stripe.releaseDeliveries();
    expect((await purchasesOf(workspaceId))[0]).toMatchObject({ refundedCredits: 500, creditsLeft: 1500 });
    expect(await eventTypes(testbed.server.dataDir, other)).toEqual([]);
  });

  it('answers a repeated delivery at once, even while the read models cannot be written', async () => {
    const { workspaceId, paymentIntentId } = await purchased('credits-2000');
    const delivery = await testbed.stripe.refundFromDashboard(paymentIntentId, 4500, { listRefunds: false });
    expect(delivery.status).toBe(200);
    expect((await purchasesOf(workspaceId))[0]).toMatchObject({ refundedCredits: 500 });
    // Another process holds the read models' write lock: nothing new can be shown.
    const intruder = new BetterSqlite3(join(testbed.server.dataDir, 'read-models.sqlite'));
    intruder.exec('BEGIN IMMEDIATE');
    let elsewhere: Promise<{ data?: { grantCredits: { available: number } } | null }> | undefined;
    try {
      // Meanwhile the log moves on (a grant elsewhere, recorded, not yet shown): the read models lag.
      elsewhere = execute(
        testbed.server.url,
        GrantCreditsDocument,
        { input: { workspaceId: testbed.newWorkspace(), credits: 10, reason: 'lag', idempotencyKey: 'lag' } },
        adminToken(),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const started = Date.now();
      // Stripe delivers at least once: the repeat records nothing, and shows no balance to wait for.
      expect((await testbed.stripe.redeliver(delivery)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      intruder.exec('ROLLBACK');
      intruder.close();
    }
    // The grant, waiting for the read models all along, is answered once they catch up.
    expect((await elsewhere)?.data?.grantCredits.available).toBe(10);
  });

  it('answers 500 when it cannot apply an event, so that Stripe delivers it again', async () => {
    const { workspaceId, paymentIntentId } = await purchased('credits-500');
    testbed.stripe.failNext('/v1/refunds', { status: 503, type: 'api_error', message: 'Stripe is down' }, 3);
    const failed = await testbed.stripe.refundFromDashboard(paymentIntentId, 5000, { listRefunds: false });
    expect(failed.status).toBe(500);
    expect((await balanceOf(workspaceId)).purchased.refunded).toBe(0);
    expect((await testbed.stripe.redeliver(failed)).status).toBe(200);
    expect((await balanceOf(workspaceId)).purchased).toMatchObject({ refunded: 500, remaining: 0 });
  });

  it('takes back nothing the workspace already spent when the dashboard refunds everything', async () => {
    const { workspaceId, paymentIntentId } = await purchased('credits-500');
    await expectData(
      testbed.server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'ORG_CHART_SYNC', units: 3, idempotencyKey: 'spent' } },
      adminToken(),
    );
    expect((await testbed.stripe.refundFromDashboard(paymentIntentId, 5000, { listRefunds: false })).status).toBe(200);
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
      testbed.server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 300, reason: 'trial', idempotencyKey: 't' } },
      adminToken(),
    );
    const from = new Date(Date.now() - 1000).toISOString();
    const spend = (
      await expectData(
        testbed.server.url,
        ConsumeCreditsDocument,
        { input: { workspaceId, action: 'ORG_CHART_GENERATION', units: 2, idempotencyKey: 'failed-run' } },
        tokenFor(workspaceId, 'MEMBER'),
      )
    ).consumeCredits;
    await expectData(
      testbed.server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: 'ok-run' } },
      tokenFor(workspaceId, 'MEMBER'),
    );
    const input = { consumptionId: spend.id, reason: 'org chart run failed' };
    const restored = (await expectData(testbed.server.url, RefundCreditConsumptionDocument, { input }, adminToken()))
      .refundCreditConsumption;
    expect(restored.available).toBe(293);
    const head = await headPosition(testbed.server.url);
    const twice = (await expectData(testbed.server.url, RefundCreditConsumptionDocument, { input }, adminToken()))
      .refundCreditConsumption;
    expect(twice.available).toBe(293);
    expect(await headPosition(testbed.server.url)).toBe(head);

    const to = new Date(Date.now() + 1000).toISOString();
    const usage = (
      await expectData(
        testbed.server.url,
        CreditUsageDocument,
        { workspaceId, from, to, groupBy: 'ACTION' },
        adminToken(),
      )
    ).creditUsage;
    expect(usage.map(({ key, credits, count }) => [key, credits, count])).toEqual([['PERSON_ENRICHMENT', 7, 1]]);
    const ledger = (await expectData(testbed.server.url, CreditLedgerDocument, { workspaceId, first: 2 }, adminToken()))
      .creditLedger;
    expect(ledger.edges[0]?.node).toMatchObject({
      type: 'CONSUMPTION_REFUND',
      credits: 200,
      balanceAfter: 293,
      reference: spend.id,
    });

    const unknown = await expectError(
      testbed.server.url,
      RefundCreditConsumptionDocument,
      { input: { consumptionId: 'nope', reason: 'r' } },
      adminToken(),
    );
    expect(unknown.code).toBe('NOT_FOUND');
  });
});
