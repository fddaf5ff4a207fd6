/**
 * Auto top-up across two replicas on one EventStoreDB (the gRPC test server): spends taken by both
 * replicas cross the threshold once, so one top-up is requested and, with both replicas deriving
 * the payments reaction's work, one PaymentIntent is created at Stripe.
 */
import {
  AutoTopUpDocument,
  AutoTopUpTermsDocument,
  ConfigureAutoTopUpDocument,
  ConsumeCreditsDocument,
  GrantCreditsDocument,
  SavePaymentMethodDocument,
} from '../generated/graphql';
import { execute, expectData } from '../support/graphql-client';
import { adminToken, tokenFor } from '../support/server-process';
import { stripeReplicas } from '../support/stripe-replicas';
import { eventually as poll } from '../support/eventually';

jest.setTimeout(90_000);
const testbed = stripeReplicas('auto_top_up_replicas');

/** Reactions and webhooks take their time: wait up to 20 s. */
const eventually = <T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, ms = 20_000) =>
  poll(probe, accept, ms);

it('requests and charges one top-up for spends on both replicas that cross the threshold together', async () => {
  const { stripe, replicas } = testbed();
  const [a, b] = replicas;
  const workspaceId = 'ws-topup-replicas';
  const manager = tokenFor(workspaceId, 'BILLING_MANAGER');
  await expectData(
    a.url,
    GrantCreditsDocument,
    { input: { workspaceId, credits: 1_000, reason: 'replicas', idempotencyKey: 'replicas-grant' } },
    adminToken(),
  );
  const setup = (await expectData(b.url, SavePaymentMethodDocument, { input: { workspaceId } }, manager))
    .savePaymentMethod;
  const session = stripe.sessions().find((each) => each.metadata.setupId === setup.id);
  expect((await stripe.completeSetup(session!.id)).status).toBe(200);
  await eventually(
    async () => (await expectData(b.url, AutoTopUpDocument, { workspaceId }, manager)).workspaceCredits.autoTopUp.card,
    (card) => card !== null,
  );
  const input = { workspaceId, enabled: true, thresholdCredits: 300, packageId: 'credits-500', monthlyLimit: 20_000 };
  const { terms } = (await expectData(b.url, AutoTopUpTermsDocument, { input }, manager)).autoTopUpTerms;
  await expectData(b.url, ConfigureAutoTopUpDocument, { input: { ...input, acceptedTerms: terms } }, manager);

  const answers = await Promise.all(
    [1, 2, 3, 4].map((n) =>
      execute(
        n % 2 === 0 ? a.url : b.url,
        ConsumeCreditsDocument,
        { input: { workspaceId, action: 'ORG_CHART_SYNC', units: 2, idempotencyKey: `replica-${n}` } },
        tokenFor(workspaceId, 'MEMBER'),
      ),
    ),
  );
  expect(answers.every((answer) => answer.errors === undefined)).toBe(true); // 1,000 → 200: one crossing
  const view = await eventually(
    async () => (await expectData(a.url, AutoTopUpDocument, { workspaceId }, manager)).workspaceCredits,
    (credits) => credits.autoTopUp.recentTopUps[0]?.status === 'SUCCEEDED' && credits.available === 700,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // time for a second charge, were there one
  const charges = stripe.paymentIntents().filter((intent) => intent.metadata.topUpId !== undefined);
  expect(charges).toHaveLength(1);
  expect(view.autoTopUp.recentTopUps).toHaveLength(1);
  expect(view.available).toBe(700);
});
