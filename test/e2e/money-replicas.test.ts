/**
 * The money path across two replicas on one EventStoreDB (the gRPC test server): a refund is
 * priced on the workspace's stream at the revision it is appended at, so a spend taken by the
 * other replica a moment before is never refunded; and the payments reaction, which both replicas
 * derive, makes each refund at Stripe once. A spend taken through one replica can be given back
 * through the other at once, before the other's read models may have it.
 */
import {
  ConsumeCreditsDocument,
  CreditPurchasesDocument,
  GrantCreditsDocument,
  RefundCreditConsumptionDocument,
  RefundCreditPurchaseDocument,
  StartCreditPurchaseDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { execute, expectData } from '../support/graphql-client';
import { adminToken, tokenFor } from '../support/server-process';
import { stripeReplicas } from '../support/stripe-replicas';

const testbed = stripeReplicas('money_replicas');

it('prices a refund on one replica on the spend the other replica took just before, and refunds once at Stripe', async () => {
  const { stripe, replicas } = testbed();
  const [a, b] = replicas;
  const workspaceId = 'ws-money-replicas';
  const manager = tokenFor(workspaceId, 'BILLING_MANAGER');
  const session = (
    await expectData(a.url, StartCreditPurchaseDocument, { workspaceId, packageId: 'credits-2000' }, manager)
  ).startCreditPurchase;
  expect((await stripe.completeCheckout(session.id)).status).toBe(200);
  const paymentIntentId = stripe.session(session.id)?.payment_intent ?? '';

  // B takes a spend; A refunds right after, before its own read models may have it.
  const spent = await execute(
    b.url,
    ConsumeCreditsDocument,
    { input: { workspaceId, action: 'ORG_CHART_SYNC', units: 5, idempotencyKey: 'on-b' } },
    tokenFor(workspaceId, 'MEMBER'),
  );
  expect(spent.errors).toBeUndefined();
  const refund = (
    await expectData(
      a.url,
      RefundCreditPurchaseDocument,
      { input: { purchaseId: session.id, reason: 'churned' } },
      adminToken(),
    )
  ).refundCreditPurchase;
  expect(refund).toMatchObject({ credits: 1500, amount: { amount: 13500 } });

  // Whichever replica holds the reactor lease made it; Stripe has one refund, for that amount.
  const deadline = Date.now() + 10_000;
  while (stripe.refunds(paymentIntentId).length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // time for a second replica to (wrongly) try
  expect(stripe.refunds(paymentIntentId).map((made) => made.amount)).toEqual([13500]);
  const keys = new Set(stripe.requestsTo('/v1/refunds', 'POST').map((request) => request.idempotencyKey));
  expect([...keys]).toEqual([refund.id]);
  for (const replica of replicas) {
    const balance = (await expectData(replica.url, WorkspaceCreditsDocument, { workspaceId }, adminToken()))
      .workspaceCredits;
    expect(balance).toMatchObject({ available: 0, purchased: { consumed: 500, refunded: 1500, remaining: 0 } });
    const [purchase] = (await expectData(replica.url, CreditPurchasesDocument, { workspaceId }, adminToken()))
      .creditPurchases;
    expect(purchase?.refundedAmount).toEqual({ amount: 13500, currency: 'USD' });
  }
});

it('gives back through one replica a spend the other took a moment before, every time', async () => {
  const { replicas } = testbed();
  const [a, b] = replicas;
  const workspaceId = 'ws-spend-refund-replicas';
  await expectData(
    a.url,
    GrantCreditsDocument,
    { input: { workspaceId, credits: 10_000, reason: 'trial', idempotencyKey: 'trial' } },
    adminToken(),
  );
  const member = tokenFor(workspaceId, 'MEMBER');
  for (let round = 0; round < 40; round++) {
    const input = { workspaceId, action: 'PERSON_ENRICHMENT' as const, units: 1, idempotencyKey: `spend-${round}` };
    const spent = (await expectData(b.url, ConsumeCreditsDocument, { input }, member)).consumeCredits;
    const refunded = await execute(
      a.url,
      RefundCreditConsumptionDocument,
      { input: { consumptionId: spent.id, reason: 'enrichment failed' } },
      adminToken(),
    );
    expect(refunded.errors).toBeUndefined();
  }
  const balance = (await expectData(a.url, WorkspaceCreditsDocument, { workspaceId }, adminToken())).workspaceCredits;
  expect(balance.available).toBe(10_000);
});
