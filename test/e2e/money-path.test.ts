/**
 * The money path when money moves sideways, black-box: the real server with the real Stripe SDK
 * against the Stripe double, which sends its own webhooks (refund.created, charge.refunded, status
 * changes) as Stripe does, and misbehaves on demand (lost answers, errors after acting, pending
 * refunds that fail, deliveries held back and reordered). One test per failure class of issue 11.
 */
import { writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ApplyPlanAllowanceDocument,
  ConsumeCreditsDocument,
  CreditLedgerDocument,
  CreditPurchasesDocument,
  PaymentIssuesDocument,
  PurchaseCreditsDocument,
  RefundCreditConsumptionDocument,
  RefundCreditPurchaseDocument,
  ReleaseCreditHoldDocument,
  ReserveCreditsDocument,
  RetryReactionWorkDocument,
  StartCreditPurchaseDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { execute, expectData, expectError } from '../support/graphql-client';
import { adminToken, freePort, newDataDir, startServer, tokenFor, type ServerProcess } from '../support/server-process';
import { startStripeDouble, type StripeDouble } from '../../tools/stripe-double';
import { LEASE_STREAM } from '../../reactions/lease';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import { eventually } from '../support/eventually';
import { spawnCreditsCli } from '../support/cli';

jest.setTimeout(60_000);
const WEBHOOK_SECRET = 'whsec_test_money_path';
const DAY = 24 * 60 * 60 * 1000;
let stripe: StripeDouble;
let server: ServerProcess;
let port: number;
const dataDir = newDataDir();

/** The server, with reaction retries quick enough for a test to see work parked. */
const start = (env: Record<string, string> = {}) =>
  startServer({
    dataDir,
    env: {
      PORT: String(port),
      STRIPE_SECRET_KEY: 'sk_test_money_path',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE: stripe.url,
      REACTION_MAX_ATTEMPTS: '3',
      REACTION_FIRST_RETRY_MS: '50',
      ...env,
    },
  });

beforeAll(async () => {
  port = await freePort();
  stripe = await startStripeDouble({
    webhookSecret: WEBHOOK_SECRET,
    webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe`,
  });
  server = await start();
});
afterAll(async () => {
  await server?.stop();
  await stripe?.close();
});

let counter = 0;
const newWorkspace = () => `ws-money-${++counter}`;
const admin = adminToken();
const balanceOf = async (workspaceId: string) =>
  (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, admin)).workspaceCredits;
const purchasesOf = async (workspaceId: string) =>
  (await expectData(server.url, CreditPurchasesDocument, { workspaceId }, admin)).creditPurchases;
const refund = (input: { purchaseId: string; credits?: number; reason?: string; workspaceId?: string }) =>
  execute(server.url, RefundCreditPurchaseDocument, { input: { reason: 'customer request', ...input } }, admin);
/** The workspace's PURCHASE_REFUND entries in the ledger, newest first. */
const refundEntries = async (workspaceId: string) =>
  (
    await expectData(server.url, CreditLedgerDocument, { workspaceId, types: ['PURCHASE_REFUND'] }, admin)
  ).creditLedger.edges.map((edge) => edge.node);
/** A spend of `orgCharts` × 100 credits. */
const spend = (workspaceId: string, orgCharts: number, key: string) =>
  execute(
    server.url,
    ConsumeCreditsDocument,
    { input: { workspaceId, action: 'ORG_CHART_SYNC', units: orgCharts, idempotencyKey: key } },
    tokenFor(workspaceId, 'MEMBER'),
  );

/** A new workspace whose billing manager opened a Checkout for `packageId`, not paid yet. */
async function checkoutStarted(packageId = 'credits-2000') {
  const workspaceId = newWorkspace();
  const manager = tokenFor(workspaceId, 'BILLING_MANAGER');
  const session = (await expectData(server.url, StartCreditPurchaseDocument, { workspaceId, packageId }, manager))
    .startCreditPurchase;
  return { workspaceId, session };
}

/** A workspace that bought `packageId` by card; its Checkout session and payment intent. */
async function bought(packageId = 'credits-2000') {
  const { workspaceId, session } = await checkoutStarted(packageId);
  expect((await stripe.completeCheckout(session.id)).status).toBe(200);
  return { workspaceId, sessionId: session.id, paymentIntentId: stripe.session(session.id)?.payment_intent ?? '' };
}

describe('refunds as recorded processes', () => {
  it('returns the same refund to a repeat without a key after its answer was lost and Stripe’s webhooks came in between', async () => {
    const { workspaceId, sessionId, paymentIntentId } = await bought();
    const first = await refund({ purchaseId: sessionId, credits: 500 }); // the client never reads this answer
    expect(first.errors).toBeUndefined();
    await eventually(
      async () => stripe.events.filter((event) => event.event.type === 'charge.refunded').length,
      (delivered) => delivered > 0,
    );
    const repeat = (await refund({ purchaseId: sessionId, credits: 500 })).data?.refundCreditPurchase;
    expect(repeat?.id).toBe(first.data?.refundCreditPurchase.id);
    expect(stripe.refunds(paymentIntentId)).toHaveLength(1);
    expect(stripe.refundedTotal(paymentIntentId)).toBe(4500);
    expect((await balanceOf(workspaceId)).purchased).toMatchObject({ refunded: 500, remaining: 1500 });
  });

  it('refunds credits a hold gave back when "all unspent" is asked again without a key, and repeats it after', async () => {
    const { workspaceId, sessionId, paymentIntentId } = await bought();
    const member = tokenFor(workspaceId, 'MEMBER');
    const hold = (
      await expectData(
        server.url,
        ReserveCreditsDocument,
        { input: { workspaceId, action: 'ORG_CHART_GENERATION', units: 15, idempotencyKey: 'long-run' } },
        member,
      )
    ).reserveCredits;
    const first = (await refund({ purchaseId: sessionId })).data?.refundCreditPurchase;
    expect(first).toMatchObject({ status: 'SUCCEEDED', credits: 500, amount: { amount: 4500 } });
    // A retry with nothing left to refund is the same refund.
    expect((await refund({ purchaseId: sessionId })).data?.refundCreditPurchase.id).toBe(first?.id);

    await expectData(server.url, ReleaseCreditHoldDocument, { input: { holdId: hold.id } }, member);
    const second = (await refund({ purchaseId: sessionId })).data?.refundCreditPurchase;
    expect(second).toMatchObject({ status: 'SUCCEEDED', credits: 1500, amount: { amount: 13500 } });
    expect(second?.id).not.toBe(first?.id);
    // And a retry of that one names it.
    expect((await refund({ purchaseId: sessionId })).data?.refundCreditPurchase.id).toBe(second?.id);
    expect(stripe.refunds(paymentIntentId)).toHaveLength(2);
    expect(stripe.refundedTotal(paymentIntentId)).toBe(18000);
    expect((await balanceOf(workspaceId)).available).toBe(0);
  });

  it('keeps a pending refund’s credits out of the balance, so no spend can use them meanwhile', async () => {
    const { workspaceId, sessionId, paymentIntentId } = await bought();
    stripe.setRefundStatus('pending');
    try {
      const pending = (await refund({ purchaseId: sessionId, credits: 1000 })).data?.refundCreditPurchase;
      expect(pending).toMatchObject({ status: 'PENDING', credits: 1000, amount: { amount: 9000 } });
    } finally {
      stripe.setRefundStatus('succeeded');
    }
    const tooMuch = await spend(workspaceId, 15, 'after-pending');
    expect(tooMuch.errors?.[0]?.extensions).toMatchObject({
      code: 'INSUFFICIENT_CREDITS',
      required: 1500,
      available: 1000,
    });
    // The ledger says which refund took the credits, why, and that it waits for Stripe.
    const [waiting] = await refundEntries(workspaceId);
    expect(waiting).toMatchObject({
      credits: -1000,
      purchaseId: sessionId,
      packageName: '2,000 credits',
      refundStatus: 'PENDING',
      reason: 'customer request',
    });
    const [made] = stripe.refunds(paymentIntentId);
    await stripe.settleRefund(made?.id ?? '', 'succeeded');
    const [purchase] = await eventually(
      () => purchasesOf(workspaceId),
      (purchases) => purchases[0]?.refunds[0]?.status === 'SUCCEEDED',
    );
    expect(purchase).toMatchObject({ refundedCredits: 1000, refundedAmount: { amount: 9000 }, creditsLeft: 1000 });
    expect((await balanceOf(workspaceId)).available).toBe(1000);
    // The same entry follows the refund: one entry, now settled.
    expect(await refundEntries(workspaceId)).toEqual([
      { ...waiting, refundId: purchase?.refunds[0]?.id, refundStatus: 'SUCCEEDED' },
    ]);
  });

  it('gives a pending refund’s credits back when Stripe later reports it failed', async () => {
    const { workspaceId, sessionId, paymentIntentId } = await bought();
    stripe.setRefundStatus('pending');
    try {
      expect((await refund({ purchaseId: sessionId })).data?.refundCreditPurchase.status).toBe('PENDING');
    } finally {
      stripe.setRefundStatus('succeeded');
    }
    expect((await balanceOf(workspaceId)).available).toBe(0);
    const [made] = stripe.refunds(paymentIntentId);
    await stripe.settleRefund(made?.id ?? '', 'failed');
    const balance = await eventually(
      () => balanceOf(workspaceId),
      (value) => value.available === 2000,
    );
    expect(balance.purchased).toMatchObject({ granted: 2000, refunded: 0, remaining: 2000 });
    const [purchase] = await purchasesOf(workspaceId);
    expect(purchase?.refunds[0]).toMatchObject({
      status: 'FAILED',
      failure: expect.stringContaining('lost_or_stolen_card') as unknown,
    });
    expect(purchase).toMatchObject({ status: 'PAID', refundedAmount: { amount: 0 } });
    const ledger = (await expectData(server.url, CreditLedgerDocument, { workspaceId, first: 10 }, admin)).creditLedger;
    expect(ledger.edges.map((edge) => [edge.node.type, edge.node.credits, edge.node.refundStatus])).toEqual([
      ['PURCHASE_REFUND_REVERSAL', 2000, 'FAILED'],
      ['PURCHASE_REFUND', -2000, 'FAILED'],
      ['PURCHASE', 2000, null],
    ]);
    const [reversal, refunded] = ledger.edges.map((edge) => edge.node);
    expect(reversal?.refundId).toBe(refunded?.refundId);
    expect(reversal?.reason).toEqual(expect.stringContaining('lost_or_stolen_card'));
    expect(refunded?.reason).toBe('customer request');
    // The same request again, without a key: the failed refund is not the answer; a new one is made.
    const again = (await refund({ purchaseId: sessionId })).data?.refundCreditPurchase;
    expect(again).toMatchObject({ status: 'SUCCEEDED', credits: 2000 });
    expect(again?.id).not.toBe(refunded?.refundId);
    expect(stripe.refunds(paymentIntentId).map((each) => each.status)).toEqual(['failed', 'succeeded']);
    expect((await balanceOf(workspaceId)).available).toBe(0);
  });

  it('refunds once when Stripe answers an error after making the refund', async () => {
    const { workspaceId, sessionId, paymentIntentId } = await bought();
    stripe.failNext('POST /v1/refunds', 'error-after', 3); // made, then 500 for that key on every retry
    const answered = (await refund({ purchaseId: sessionId })).data?.refundCreditPurchase;
    expect(answered).toMatchObject({ status: 'SUCCEEDED', credits: 2000, amount: { amount: 18000 } });
    expect(stripe.refunds(paymentIntentId)).toHaveLength(1);
    expect((await balanceOf(workspaceId)).purchased).toMatchObject({ refunded: 2000, remaining: 0 });
  });

  it('parks a refund Stripe keeps failing, shows it to admins and at /readyz, and retries it on request', async () => {
    const { workspaceId, sessionId, paymentIntentId } = await bought();
    stripe.failNext('/v1/refunds', { status: 503, message: 'Stripe is down' }, 20);
    const requested = (await refund({ purchaseId: sessionId, credits: 100 })).data?.refundCreditPurchase;
    expect(requested?.status).toBe('REQUESTED');
    const issues = await eventually(
      () => expectData(server.url, PaymentIssuesDocument, {}, admin),
      (value) => value.parkedReactionWork.some((work) => work.key.includes(requested?.id ?? '?')),
      30_000,
    );
    const parked = issues.parkedReactionWork.find((work) => work.key.includes(requested?.id ?? '?'));
    expect(parked).toMatchObject({
      reaction: 'payments',
      attempts: 3,
      lastError: expect.stringContaining('Stripe is down') as unknown,
    });
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as {
      status: string;
      reactions: { parked: number }[];
    };
    expect(ready.status).toBe('degraded');
    expect(ready.reactions[0]?.parked).toBeGreaterThan(0);
    expect(stripe.refunds(paymentIntentId)).toHaveLength(0);

    // A mistyped key is refused, over GraphQL and the CLI, rather than recorded while the work stays parked.
    const mistyped = await execute(
      server.url,
      RetryReactionWorkDocument,
      { input: { reaction: 'payments', key: `${parked?.key ?? ''}-typo` } },
      admin,
    );
    expect(mistyped.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const cli = spawnCreditsCli(dataDir, ['reactions', '--retry', `payment:${parked?.key ?? ''}`]);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(`No work "payment:${parked?.key ?? ''}" waits`);
    expect((await expectData(server.url, PaymentIssuesDocument, {}, admin)).parkedReactionWork).toHaveLength(
      issues.parkedReactionWork.length,
    );

    stripe.clearFaults(); // Stripe is back
    expect(
      (
        await expectData(
          server.url,
          RetryReactionWorkDocument,
          { input: { reaction: 'payments', key: parked?.key ?? '' } },
          admin,
        )
      ).retryReactionWork,
    ).toBe(true);
    const [purchase] = await eventually(
      () => purchasesOf(workspaceId),
      (purchases) => purchases[0]?.refunds[0]?.status === 'SUCCEEDED',
    );
    expect(purchase?.refunds[0]).toMatchObject({ id: requested?.id, credits: 100 });
    expect(stripe.refunds(paymentIntentId)).toHaveLength(1);
  });
});

describe('a crash with work in flight', () => {
  it('takes over the killed server’s reactor lease at once, rather than wait for it to lapse', async () => {
    const first = await bought();
    expect((await refund({ purchaseId: first.sessionId, credits: 500 })).data?.refundCreditPurchase).toMatchObject({
      status: 'SUCCEEDED',
    });
    await server.stop('SIGKILL'); // dies holding the lease for up to 15 s more
    server = await start();
    const second = await bought();
    expect((await refund({ purchaseId: second.sessionId, credits: 500 })).data?.refundCreditPurchase).toMatchObject({
      status: 'SUCCEEDED',
    });
    await server.stop();

    const store = openSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
    try {
      const leases: { holder: string; until: number }[] = [];
      for await (const event of store.readStream(LEASE_STREAM)) {
        leases.push({ holder: String(event.data.holder), until: Date.parse(String(event.data.until)) });
      }
      // The restarted server's first lease was taken while the killed one's still ran (15 s each).
      const restarted = leases[leases.length - 1]!.holder;
      const taken = leases.findIndex((lease) => lease.holder === restarted);
      const killed = leases[taken - 1];
      expect(killed?.holder).not.toBe(restarted);
      expect(leases[taken]!.until - 15_000).toBeLessThan(killed!.until);
    } finally {
      await store.close();
      server = await start();
    }
  });
});

describe('Stripe’s messages in any order', () => {
  it('applies a Dashboard refund delivered before the payment’s checkout.session.completed', async () => {
    const { workspaceId, session } = await checkoutStarted();
    stripe.holdDeliveries();
    await stripe.completeCheckout(session.id);
    const paymentIntentId = stripe.session(session.id)?.payment_intent ?? '';
    await stripe.refundFromDashboard(paymentIntentId, 4500, { listRefunds: false });
    await new Promise((resolve) => setTimeout(resolve, 50)); // refund.created is sent after charge.refunded
    const delivered = await stripe.releaseDeliveries((held) => [...held].reverse());
    expect(delivered.map((delivery) => [delivery.event.type, delivery.status])).toEqual([
      ['refund.created', 200],
      ['charge.refunded', 200],
      ['checkout.session.completed', 200],
    ]);
    expect(await balanceOf(workspaceId)).toMatchObject({
      available: 1500,
      purchased: { granted: 2000, refunded: 500, remaining: 1500 },
    });
    const [purchase] = await purchasesOf(workspaceId);
    expect(purchase).toMatchObject({ status: 'PARTIALLY_REFUNDED', refundedAmount: { amount: 4500 } });
    expect(purchase?.refunds).toEqual([
      expect.objectContaining({ origin: 'PROVIDER', status: 'SUCCEEDED', credits: 500 }),
    ]);
    // Delivered again, in the other order, nothing changes.
    for (const delivery of delivered) expect((await stripe.redeliver(delivery)).status).toBe(200);
    expect((await balanceOf(workspaceId)).available).toBe(1500);
  });

  it('holds a disputed purchase’s credits, records what was spent as owed when lost, and returns them when won', async () => {
    const lost = await bought();
    expect((await spend(lost.workspaceId, 5, 'before-dispute')).errors).toBeUndefined();
    const { dispute } = await stripe.openDispute(lost.paymentIntentId);
    const frozen = await balanceOf(lost.workspaceId);
    expect(frozen).toMatchObject({ available: 0, purchased: { disputed: 1500, remaining: 0 } });
    expect((await purchasesOf(lost.workspaceId))[0]).toMatchObject({ status: 'DISPUTED' });
    await stripe.closeDispute(dispute.id, 'lost');
    expect(await balanceOf(lost.workspaceId)).toMatchObject({
      available: 0,
      purchased: { refunded: 1500, disputed: 0, consumed: 500, remaining: 0 },
    });
    const [chargedBack] = await purchasesOf(lost.workspaceId);
    expect(chargedBack).toMatchObject({ status: 'CHARGED_BACK', creditsOwed: 500, refundedAmount: { amount: 18000 } });
    expect(chargedBack?.disputes[0]).toMatchObject({
      status: 'LOST',
      creditsHeld: 1500,
      creditsSpent: 500,
      creditsOwed: 500,
    });

    const won = await bought();
    const { dispute: second } = await stripe.openDispute(won.paymentIntentId);
    expect((await balanceOf(won.workspaceId)).available).toBe(0);
    await stripe.closeDispute(second.id, 'won');
    expect(await balanceOf(won.workspaceId)).toMatchObject({
      available: 2000,
      purchased: { disputed: 0, remaining: 2000 },
    });
  });

  it('fails a refund Stripe refuses for a dispute whose webhook has not come, then freezes and charges back the purchase', async () => {
    const { workspaceId, paymentIntentId, sessionId } = await bought();
    expect((await spend(workspaceId, 5, 'before-refund')).errors).toBeUndefined();
    const { dispute, delivery } = await stripe.openDispute(paymentIntentId, { deliver: false }); // its webhook is late
    const refused = (await refund({ purchaseId: sessionId })).data?.refundCreditPurchase;
    expect(refused).toMatchObject({ status: 'FAILED', credits: 1500 });
    expect(refused?.failure).toContain('charged back');
    expect(stripe.refunds(paymentIntentId)).toHaveLength(0);
    expect(await balanceOf(workspaceId)).toMatchObject({
      available: 1500,
      purchased: { refunded: 0, remaining: 1500 },
    });

    expect((await stripe.redeliver(delivery)).status).toBe(200);
    expect(await balanceOf(workspaceId)).toMatchObject({ available: 0, purchased: { disputed: 1500, remaining: 0 } });
    expect((await refund({ purchaseId: sessionId })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    await stripe.closeDispute(dispute.id, 'lost');
    expect(await balanceOf(workspaceId)).toMatchObject({
      available: 0,
      purchased: { refunded: 1500, disputed: 0, consumed: 500, remaining: 0 },
    });
    expect((await purchasesOf(workspaceId))[0]).toMatchObject({
      status: 'CHARGED_BACK',
      creditsOwed: 500,
      refundedAmount: { amount: 18000 },
    });
    expect(stripe.refundedTotal(paymentIntentId)).toBe(0); // the money went back once, by the chargeback
  });

  it('refuses a signed webhook whose workspaceId breaks the API’s rules, records it once, and acknowledges it', async () => {
    const payload = JSON.stringify({
      id: 'evt_test_bad_workspace',
      object: 'event',
      type: 'checkout.session.completed',
      data: {
        object: {
          id: 'cs_test_forged',
          object: 'checkout.session',
          payment_status: 'paid',
          payment_intent: 'pi_test_forged',
          amount_total: 18000,
          currency: 'usd',
          metadata: { workspaceId: '../../all workspaces', checkoutId: 'x', packageId: 'credits-2000' },
        },
      },
    });
    const post = () =>
      fetch(`${server.url}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': stripe.sign(payload) },
        body: payload,
      });
    const first = await post();
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      received: true,
      applied: false,
      reason: expect.stringContaining('workspaceId') as unknown,
    });
    expect((await post()).status).toBe(200);
    const refused = (await expectData(server.url, PaymentIssuesDocument, {}, admin)).refusedPaymentEvents;
    expect(refused.filter((event) => event.id === 'evt_test_bad_workspace')).toEqual([
      {
        id: 'evt_test_bad_workspace',
        type: 'checkout_paid',
        reason: expect.stringContaining('workspaceId') as unknown,
      },
    ]);
  });
});

describe('credits that come back', () => {
  it('gives a refunded spend’s credits back only to grants that can still be spent', async () => {
    const workspaceId = newWorkspace();
    const period = (from: number, to: number) => ({
      workspaceId,
      planId: 'starter',
      periodStart: new Date(Date.now() + from).toISOString(),
      periodEnd: new Date(Date.now() + to).toISOString(),
    });
    await expectData(server.url, ApplyPlanAllowanceDocument, { input: period(-DAY, 29 * DAY) }, admin);
    const spent = (await spend(workspaceId, 3, 'old-period')).data?.consumeCredits; // 700 of the old allowance left
    await expectData(server.url, ApplyPlanAllowanceDocument, { input: period(0, 30 * DAY) }, admin);
    const given = (
      await expectData(
        server.url,
        RefundCreditConsumptionDocument,
        { input: { consumptionId: spent?.id ?? '', reason: 'run failed' } },
        admin,
      )
    ).refundCreditConsumption;
    expect(given.available).toBe(1000); // the new allowance only: the old one was replaced
    const again = { consumptionId: spent?.id ?? '', reason: 'run failed' };
    const repeated = await expectData(server.url, RefundCreditConsumptionDocument, { input: again }, admin);
    expect(repeated.refundCreditConsumption.available).toBe(1000);
    const otherReason = { input: { ...again, reason: 'goodwill' } };
    const refused = await expectError(server.url, RefundCreditConsumptionDocument, otherReason, admin);
    expect(refused.code).toBe('CONFLICT');
    expect(refused.message).toContain('"run failed"');
    const balance = await balanceOf(workspaceId);
    expect(balance.included.remaining + balance.purchased.remaining + balance.promotional.remaining).toBe(
      balance.available,
    );
  });

  it('never makes credits of a purchase whose money was all returned spendable again', async () => {
    const { workspaceId, paymentIntentId } = await bought('credits-500');
    const spent = (await spend(workspaceId, 3, 'before-refund')).data?.consumeCredits; // 300 credits
    await stripe.refundFromDashboard(paymentIntentId, 5000, { listRefunds: false }); // every cent
    await eventually(
      () => balanceOf(workspaceId),
      (balance) => balance.purchased.refunded === 200,
    );
    const given = (
      await expectData(
        server.url,
        RefundCreditConsumptionDocument,
        { input: { consumptionId: spent?.id ?? '', reason: 'run failed' } },
        admin,
      )
    ).refundCreditConsumption;
    expect(given).toMatchObject({ available: 0, purchased: { remaining: 0, consumed: 0 } });
    expect((await balanceOf(workspaceId)).purchased).toMatchObject({ expired: 300, refunded: 200, remaining: 0 });
  });

  it('never works out a negative amount after a capped Dashboard refund', async () => {
    const capped = await bought();
    expect((await spend(capped.workspaceId, 18, 'most')).errors).toBeUndefined();
    await stripe.refundFromDashboard(capped.paymentIntentId, 9000, { listRefunds: false }); // pays for 1,000; 200 unspent
    await eventually(
      () => purchasesOf(capped.workspaceId),
      (purchases) => purchases[0]?.creditsOwed === 800,
    );
    const nothingLeft = await refund({ purchaseId: capped.sessionId, credits: 100 });
    expect(nothingLeft.errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const quarter = await bought();
    await stripe.refundFromDashboard(quarter.paymentIntentId, 4500, { listRefunds: false }); // pays for 500
    await eventually(
      () => balanceOf(quarter.workspaceId),
      (balance) => balance.purchased.refunded === 500,
    );
    const more = (await refund({ purchaseId: quarter.sessionId, credits: 100 })).data?.refundCreditPurchase;
    expect(more).toMatchObject({ credits: 100, amount: { amount: 900 }, status: 'SUCCEEDED' });
  });
});

describe('ids, and what the catalog says meanwhile', () => {
  it('records the same payment reference in two workspaces, keeps every read model going, and asks which a refund means', async () => {
    const [a, b] = [newWorkspace(), newWorkspace()];
    for (const workspaceId of [a, b]) {
      await expectData(
        server.url,
        PurchaseCreditsDocument,
        { input: { workspaceId, packageId: 'credits-500', paymentReference: 'INV-SAME-1' } },
        admin,
      );
    }
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { status: string };
    expect(ready.status).not.toBe('projection-failed');
    // The same purchase id, but ids of their own: a client cache keyed by type and id keeps both.
    expect((await purchasesOf(a))[0]).toMatchObject({ id: `${a}/INV-SAME-1`, purchaseId: 'INV-SAME-1' });
    expect((await purchasesOf(b))[0]).toMatchObject({ id: `${b}/INV-SAME-1`, purchaseId: 'INV-SAME-1' });
    const ambiguous = await expectError(
      server.url,
      RefundCreditPurchaseDocument,
      { input: { purchaseId: 'INV-SAME-1', reason: 'r' } },
      admin,
    );
    expect(ambiguous).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('workspaceId') as unknown,
    });
    const refunded = (await refund({ purchaseId: 'INV-SAME-1', workspaceId: b, reason: 'r' })).data
      ?.refundCreditPurchase;
    expect(refunded).toMatchObject({ workspaceId: b, status: 'SUCCEEDED', credits: 500 });
    expect((await balanceOf(a)).available).toBe(500);
    expect((await balanceOf(b)).available).toBe(0);
    // The purchase's id in this API names its workspace too: a refund needs nothing else.
    const byId = (await refund({ purchaseId: `${a}/INV-SAME-1`, credits: 200, reason: 'r' })).data
      ?.refundCreditPurchase;
    expect(byId).toMatchObject({ workspaceId: a, purchaseId: 'INV-SAME-1', status: 'SUCCEEDED', credits: 200 });
    expect((await balanceOf(a)).available).toBe(300);
    // A payment reference may hold a "/": one that is also a GraphQL id of another purchase.
    await expectData(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId: b, packageId: 'credits-500', paymentReference: `${a}/INV-SAME-1` } },
      admin,
    );
    const both = await expectError(
      server.url,
      RefundCreditPurchaseDocument,
      { input: { purchaseId: `${a}/INV-SAME-1`, credits: 1, reason: 'r' } },
      admin,
    );
    expect(both).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('give workspaceId') as unknown,
    });
    // With its workspace, the purchase of that very id is the one meant.
    const slashed = (await refund({ purchaseId: `${a}/INV-SAME-1`, workspaceId: b, credits: 1, reason: 'r' })).data
      ?.refundCreditPurchase;
    expect(slashed).toMatchObject({ workspaceId: b, purchaseId: `${a}/INV-SAME-1`, credits: 1 });
    expect((await balanceOf(a)).available).toBe(300);
  });

  it('refuses a manual purchase under a Checkout session’s id, so the card payment is still credited', async () => {
    const { workspaceId, session } = await checkoutStarted();
    // Support sees the Checkout and records it by hand, before Stripe reports the payment.
    const manual = await expectError(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId, packageId: 'credits-500', paymentReference: session.id } },
      admin,
    );
    expect(manual.code).toBe('CONFLICT');
    expect((await balanceOf(workspaceId)).available).toBe(0);
    expect((await stripe.completeCheckout(session.id)).status).toBe(200);
    expect(await balanceOf(workspaceId)).toMatchObject({ available: 2000 });
    expect((await purchasesOf(workspaceId))[0]).toMatchObject({
      id: `${workspaceId}/${session.id}`,
      purchaseId: session.id,
      amountPaid: { amount: 18000 },
    });
  });

  it('credits a Checkout at the price it was opened with, after the catalog changed and the server restarted', async () => {
    const { workspaceId, session } = await checkoutStarted();
    await server.stop();
    const catalog = JSON.parse(readFileSync(resolve(__dirname, '../../config/catalog.json'), 'utf8')) as {
      packages: { id: string; credits: number; price: { amount: number } }[];
    };
    for (const pkg of catalog.packages) {
      if (pkg.id === 'credits-2000') Object.assign(pkg, { credits: 2500, price: { amount: 20000, currency: 'USD' } });
    }
    const changed = join(mkdtempSync(join(tmpdir(), 'credits-catalog-')), 'catalog.json');
    writeFileSync(changed, JSON.stringify(catalog));
    server = await start({ CATALOG_FILE: changed });
    try {
      expect((await stripe.completeCheckout(session.id)).status).toBe(200);
      expect(await balanceOf(workspaceId)).toMatchObject({ available: 2000, purchased: { granted: 2000 } });
      expect((await purchasesOf(workspaceId))[0]).toMatchObject({ credits: 2000, amountPaid: { amount: 18000 } });
    } finally {
      await server.stop();
      server = await start();
    }
  });
});
