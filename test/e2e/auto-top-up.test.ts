/**
 * Auto top-up, black-box: the real server with the real Stripe SDK against the Stripe double. A
 * billing manager saves a card through Checkout in setup mode and consents to the terms; spends
 * that cross the threshold request one charge per crossing, which the payments reaction makes
 * off-session; declines, 3-D Secure, the monthly limit, a kill -9 between the PaymentIntent and
 * its webhook are each shown (two replicas: auto-top-up-replicas.test.ts) with the double misbehaving on demand.
 */
import {
  AutoTopUpDocument,
  AutoTopUpTermsDocument,
  ConfigureAutoTopUpDocument,
  ConsumeCreditsDocument,
  CreditPurchasesDocument,
  GrantCreditsDocument,
  PaymentIssuesDocument,
  RefundCreditPurchaseDocument,
  RemovePaymentMethodDocument,
  RetryReactionWorkDocument,
  SavePaymentMethodDocument,
} from '../generated/graphql';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execute, expectData, expectError } from '../support/graphql-client';
import { adminToken, freePort, newDataDir, startServer, tokenFor, type ServerProcess } from '../support/server-process';
import { startStripeDouble, type StripeDouble } from '../../tools/stripe-double';
import { eventually as poll } from '../support/eventually';

jest.setTimeout(90_000);
const WEBHOOK_SECRET = 'whsec_test_auto_top_up';
const DECLINES = '4000000000000341';
const NEEDS_3DS = '4000002760003184';
/** Reactions and webhooks take their time: wait up to 15 s. */
const eventually = <T>(probe: () => Promise<T> | T, accept: (value: T) => boolean, ms = 15_000) =>
  poll(probe, accept, ms);

let stripe: StripeDouble;
let server: ServerProcess;
let port: number;
const dataDir = newDataDir();
const admin = adminToken();

const start = (env: Record<string, string> = {}) =>
  startServer({
    dataDir,
    env: {
      PORT: String(port),
      STRIPE_SECRET_KEY: 'sk_test_auto_top_up',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE: stripe.url,
      REACTION_FIRST_RETRY_MS: '50',
      AUTO_TOP_UP_MAX_ATTEMPTS: '3',
      AUTO_TOP_UP_RETRY_MS: '200',
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
const newWorkspace = () => `ws-topup-${++counter}`;
const manager = (workspaceId: string) => tokenFor(workspaceId, 'BILLING_MANAGER');

const autoTopUpOf = async (workspaceId: string, url = server.url) =>
  (await expectData(url, AutoTopUpDocument, { workspaceId }, manager(workspaceId))).workspaceCredits;

/** The latest top-up paid, and its credits in the balance of the same answer. */
const credited = (view: Awaited<ReturnType<typeof autoTopUpOf>>): boolean =>
  view.autoTopUp.recentTopUps[0]?.status === 'SUCCEEDED' && view.available >= 300;

/** The workspace's off-session charges at the double (Checkout's payment intents have no topUpId). */
const chargesOf = (workspaceId: string) =>
  stripe.paymentIntents().filter((intent) => intent.metadata.workspaceId === workspaceId && intent.metadata.topUpId);

/** A spend of `orgCharts` × 100 credits. */
const spend = (workspaceId: string, orgCharts: number, key: string, url = server.url) =>
  execute(
    url,
    ConsumeCreditsDocument,
    { input: { workspaceId, action: 'ORG_CHART_SYNC', units: orgCharts, idempotencyKey: key } },
    tokenFor(workspaceId, 'MEMBER'),
  );

async function grant(workspaceId: string, credits: number) {
  await expectData(
    server.url,
    GrantCreditsDocument,
    { input: { workspaceId, credits, reason: 'auto top-up test', idempotencyKey: `grant-${workspaceId}-${credits}` } },
    admin,
  );
}

/** Saves a card the way a billing manager does: the setup page, then the card typed on it. */
async function saveCard(workspaceId: string, card = '4242424242424242', url = server.url) {
  const setup = (await expectData(url, SavePaymentMethodDocument, { input: { workspaceId } }, manager(workspaceId)))
    .savePaymentMethod;
  expect(setup.status).toBe('OPEN');
  expect(setup.url).toMatch(/^http/);
  const session = stripe.sessions().find((each) => each.mode === 'setup' && each.metadata.setupId === setup.id);
  expect(session).toBeDefined();
  expect((await stripe.completeSetup(session!.id, { card })).status).toBe(200);
  return setup;
}

/** Saves a card, then waits until the workspace shows it (Stripe's webhook recorded). */
async function cardShown(workspaceId: string, card?: string) {
  await saveCard(workspaceId, card);
  await eventually(
    () => autoTopUpOf(workspaceId),
    (view) => view.autoTopUp.card !== null,
  );
}

const settings = (workspaceId: string, overrides: Record<string, unknown> = {}) => ({
  workspaceId,
  enabled: true,
  thresholdCredits: 300,
  packageId: 'credits-500',
  monthlyLimit: 20_000,
  ...overrides,
});

/** Shows the terms, then turns auto top-up on with them, as the Billing page does. */
async function turnOn(workspaceId: string, overrides: Record<string, unknown> = {}, url = server.url) {
  const input = settings(workspaceId, overrides);
  const { terms } = (await expectData(url, AutoTopUpTermsDocument, { input }, manager(workspaceId))).autoTopUpTerms;
  return (
    await expectData(
      url,
      ConfigureAutoTopUpDocument,
      { input: { ...input, acceptedTerms: terms } },
      manager(workspaceId),
    )
  ).configureAutoTopUp;
}

/** Turns auto top-up off: no terms needed to withdraw consent. */
const turnOff = async (workspaceId: string) =>
  (
    await expectData(
      server.url,
      ConfigureAutoTopUpDocument,
      { input: settings(workspaceId, { enabled: false }) },
      manager(workspaceId),
    )
  ).configureAutoTopUp;

/** A workspace with `credits` to spend, a saved card and auto top-up on. */
async function ready(credits = 1_000, card?: string, overrides: Record<string, unknown> = {}) {
  const workspaceId = newWorkspace();
  await grant(workspaceId, credits);
  await cardShown(workspaceId, card);
  await turnOn(workspaceId, overrides);
  return workspaceId;
}

describe('the saved card and the consent', () => {
  it('saves a card on one Stripe customer per workspace, shows it, replaces and removes it', async () => {
    const workspaceId = newWorkspace();
    await saveCard(workspaceId);
    const saved = await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.autoTopUp.card !== null,
    );
    expect(saved.autoTopUp.card).toMatchObject({ brand: 'visa', last4: '4242', expMonth: 12 });
    const first = saved.autoTopUp.card!.id;

    await saveCard(workspaceId, '5555555555554444');
    const replaced = await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.autoTopUp.card?.last4 === '4444',
    );
    expect(replaced.autoTopUp.card).toMatchObject({ brand: 'mastercard', last4: '4444' });
    expect(stripe.customers().filter((customer) => customer.metadata.workspaceId === workspaceId)).toHaveLength(1);
    // The replaced card is forgotten at Stripe too.
    await eventually(
      () => stripe.paymentMethod(first)?.customer,
      (customer) => customer === null,
    );
    expect(stripe.paymentMethod(first)?.customer).toBeNull();

    const removed = (
      await expectData(server.url, RemovePaymentMethodDocument, { input: { workspaceId } }, manager(workspaceId))
    ).removePaymentMethod;
    expect(removed.card).toBeNull();
    const second = replaced.autoTopUp.card!.id;
    await eventually(
      () => stripe.paymentMethod(second)?.customer,
      (customer) => customer === null,
    );
    expect(stripe.paymentMethod(second)?.customer).toBeNull();
  });

  it('records who consented to which terms, and refuses terms that are no longer the terms', async () => {
    const workspaceId = newWorkspace();
    await cardShown(workspaceId);
    // No terms sent back: nobody was shown what would be charged, so no consent is recorded.
    const unseen = await expectError(
      server.url,
      ConfigureAutoTopUpDocument,
      { input: settings(workspaceId) },
      manager(workspaceId),
    );
    expect(unseen.code).toBe('BAD_USER_INPUT');
    expect(unseen.message).toContain('send them back as acceptedTerms');
    expect((await autoTopUpOf(workspaceId)).autoTopUp).toMatchObject({ enabled: false, consent: null });
    const stale = await expectError(
      server.url,
      ConfigureAutoTopUpDocument,
      { input: { ...settings(workspaceId), acceptedTerms: 'Charge me whatever.' } },
      manager(workspaceId),
    );
    expect(stale.code).toBe('CONFLICT');
    expect(stale.message).toContain('The terms now: When available credits fall below 300');
    const on = await turnOn(workspaceId, { targetCredits: 1_000 });
    expect(on).toMatchObject({
      enabled: true,
      paused: false,
      thresholdCredits: 300,
      targetCredits: 1_000,
      monthlyLimit: { amount: 20_000, currency: 'USD' },
      // Turned on below the threshold (the workspace has no credits): the gap to 1,000 is bought at once.
      chargedThisMonth: { amount: 10_000, currency: 'USD' },
    });
    expect(on.recentTopUps[0]).toMatchObject({ credits: 1_000, amount: { amount: 10_000 } });
    expect(on.consent?.acceptedBy).toBe(`user-of-${workspaceId}`);
    expect(on.consent?.terms).toContain('When available credits fall below 300');
    expect(on.consent?.terms).toContain('$200.00');
    // The terms name the amounts, and the consent who accepted them: money fields, not a member's to read.
    const asMember = await execute(server.url, AutoTopUpDocument, { workspaceId }, tokenFor(workspaceId, 'MEMBER'));
    const forbidden = (asMember.errors ?? []).filter((error) => error.extensions?.code === 'FORBIDDEN');
    expect(forbidden.map((error) => error.path?.at(-1))).toEqual(
      expect.arrayContaining(['monthlyLimit', 'chargedThisMonth', 'card', 'consent']),
    );
    expect(JSON.stringify(asMember.data)).not.toContain('When available credits fall below');
  });

  it('refuses auto top-up without a card, bad settings, and callers who do not manage billing', async () => {
    const workspaceId = newWorkspace();
    const refusal = async (input: Record<string, unknown>, token = manager(workspaceId)) =>
      (
        await expectError(
          server.url,
          ConfigureAutoTopUpDocument,
          { input: { ...settings(workspaceId), ...input } },
          token,
        )
      ).code;
    expect(await refusal({})).toBe('CONFLICT'); // no card saved
    expect(await refusal({ thresholdCredits: 0 })).toBe('BAD_USER_INPUT');
    expect(await refusal({ monthlyLimit: 100 })).toBe('BAD_USER_INPUT'); // below one charge
    // Nor are terms shown for settings the save would refuse: they could never be accepted.
    const terms = await expectError(
      server.url,
      AutoTopUpTermsDocument,
      { input: { ...settings(workspaceId), targetCredits: 7_000, thresholdCredits: 6_000 } },
      manager(workspaceId),
    );
    expect(terms.code).toBe('BAD_USER_INPUT');
    expect(terms.message).toMatch(/monthlyLimit \(20000\) is below a single top-up \(70000\)/);
    expect(await refusal({ enabled: false, packageId: 'no-such-package' })).toBe('NOT_FOUND');
    expect(await refusal({ enabled: false }, tokenFor(workspaceId, 'MEMBER'))).toBe('FORBIDDEN');
    const memberSave = await expectError(
      server.url,
      SavePaymentMethodDocument,
      { input: { workspaceId } },
      tokenFor(workspaceId, 'MEMBER'),
    );
    expect(memberSave.code).toBe('FORBIDDEN');
    expect((await autoTopUpOf(workspaceId)).autoTopUp).toMatchObject({ enabled: false, card: null, consent: null });
  });
});

describe('explicit nulls mean what leaving the field out means', () => {
  it('turns auto top-up off with acceptedTerms: null, and refuses to turn it on with them', async () => {
    const workspaceId = newWorkspace();
    await cardShown(workspaceId);
    const withoutTerms = await expectError(
      server.url,
      ConfigureAutoTopUpDocument,
      { input: { ...settings(workspaceId), acceptedTerms: null } },
      manager(workspaceId),
    );
    expect(withoutTerms.code).toBe('BAD_USER_INPUT');
    await turnOn(workspaceId);
    const off = await expectData(
      server.url,
      ConfigureAutoTopUpDocument,
      { input: { ...settings(workspaceId, { enabled: false }), acceptedTerms: null } },
      manager(workspaceId),
    );
    expect(off.configureAutoTopUp.enabled).toBe(false);
    expect((await autoTopUpOf(workspaceId)).autoTopUp.enabled).toBe(false);
  });

  it('opens a new card setup page for each savePaymentMethod with idempotencyKey: null', async () => {
    const workspaceId = newWorkspace();
    const open = async () =>
      (
        await expectData(
          server.url,
          SavePaymentMethodDocument,
          { input: { workspaceId, idempotencyKey: null } },
          manager(workspaceId),
        )
      ).savePaymentMethod;
    const [first, second] = [await open(), await open()];
    expect(first.status).toBe('OPEN');
    expect(second.status).toBe('OPEN');
    expect(second.id).not.toBe(first.id);
  });
});

describe('one charge per crossing', () => {
  it('charges once for a burst of spends below the threshold, and credits it once as a purchase', async () => {
    const workspaceId = await ready(1_000);
    // 1,000 → 800 → 600 → 400 → 200 (crossing) → 0: the threshold is crossed once.
    const spends = await Promise.all([1, 2, 3, 4, 5].map((n) => spend(workspaceId, 2, `burst-${n}`)));
    expect(spends.filter((answer) => answer.errors === undefined).length).toBeGreaterThanOrEqual(4);
    const topped = await eventually(() => autoTopUpOf(workspaceId), credited);
    expect(chargesOf(workspaceId)).toHaveLength(1);
    expect(chargesOf(workspaceId)[0]).toMatchObject({ amount: 5_000, status: 'succeeded', metadata: { attempt: '1' } });
    expect(topped.autoTopUp.recentTopUps).toHaveLength(1);
    expect(topped.autoTopUp.recentTopUps[0]).toMatchObject({
      credits: 500,
      amount: { amount: 5_000, currency: 'USD' },
    });
    expect(topped.autoTopUp.chargedThisMonth).toEqual({ amount: 5_000, currency: 'USD' });
    const purchases = (await expectData(server.url, CreditPurchasesDocument, { workspaceId }, admin)).creditPurchases;
    expect(purchases).toHaveLength(1);
    expect(purchases[0]).toMatchObject({ purchaseId: chargesOf(workspaceId)[0]!.id, credits: 500, status: 'PAID' });
    // The webhook came too (payment_intent.succeeded): nothing credited twice.
    await eventually(
      () =>
        stripe.events.filter((event) => event.event.type === 'payment_intent.succeeded' && event.status === 200).length,
      (delivered) => delivered > 0,
    );
    expect((await autoTopUpOf(workspaceId)).available).toBe(topped.available);
  });

  it('closes the gap to the target in one charge, at the package’s price per credit', async () => {
    const workspaceId = await ready(1_000, undefined, { targetCredits: 2_000 });
    expect((await spend(workspaceId, 9, 'to-100')).errors).toBeUndefined(); // 1,000 → 100
    const topped = await eventually(() => autoTopUpOf(workspaceId), credited);
    // 1,900 credits at $50 per 500: $190.00, one payment.
    expect(topped.autoTopUp.recentTopUps[0]).toMatchObject({ credits: 1_900, amount: { amount: 19_000 } });
    expect(chargesOf(workspaceId)).toHaveLength(1);
    expect(topped.available).toBe(2_000);
  });

  it('never passes the monthly limit: a crossing that would is skipped', async () => {
    const workspaceId = await ready(500, undefined, { monthlyLimit: 10_000 }); // two packages a month
    for (const [round, orgCharts] of [3, 5, 5].entries()) {
      expect((await spend(workspaceId, orgCharts, `limit-${round}`)).errors).toBeUndefined(); // down to 200
      await eventually(
        () => autoTopUpOf(workspaceId),
        (view) => view.autoTopUp.recentTopUps.every((topUp) => topUp.status !== 'REQUESTED'),
      );
    }
    const view = await autoTopUpOf(workspaceId);
    expect(chargesOf(workspaceId)).toHaveLength(2);
    expect(view.autoTopUp.chargedThisMonth).toEqual({ amount: 10_000, currency: 'USD' });
    expect(view.autoTopUp.lastSkip).toMatchObject({ reason: 'MONTHLY_LIMIT', available: 200 });
    expect(view.available).toBe(200);
  });
});

describe('a top-up is a purchase', () => {
  it('is refunded at Stripe and disputed like any purchase, and a dispute pauses auto top-up', async () => {
    const workspaceId = await ready(1_000);
    expect((await spend(workspaceId, 8, 'to-refund')).errors).toBeUndefined(); // 1,000 → 200
    const topped = await eventually(() => autoTopUpOf(workspaceId), credited);
    const purchaseId = topped.autoTopUp.recentTopUps[0]!.purchaseId!;
    const refund = (
      await expectData(
        server.url,
        RefundCreditPurchaseDocument,
        { input: { purchaseId, credits: 100, reason: 'top-up too large' } },
        admin,
      )
    ).refundCreditPurchase;
    expect(refund).toMatchObject({ credits: 100, amount: { amount: 1_000, currency: 'USD' } });
    await eventually(
      () => stripe.refundedTotal(purchaseId),
      (refunded) => refunded === 1_000,
    );
    expect(stripe.refundedTotal(purchaseId)).toBe(1_000);

    const { dispute } = await stripe.openDispute(purchaseId);
    const disputed = await eventually(
      async () => (await expectData(server.url, CreditPurchasesDocument, { workspaceId }, admin)).creditPurchases,
      (purchases) => purchases[0]?.status === 'DISPUTED',
    );
    expect(disputed[0]).toMatchObject({ purchaseId, status: 'DISPUTED' });
    // The card's holder contests an automatic charge: auto top-up stops charging that card.
    const paused = await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.autoTopUp.paused,
    );
    expect(paused.autoTopUp.pauseReason).toContain(`disputed the charge of top-up`);
    expect(paused.autoTopUp.pauseReason).toContain(dispute.id);
    const charges = chargesOf(workspaceId).length;
    // 200 available (the dispute holds what is left of the top-up): a spend below the threshold.
    const below = await spend(workspaceId, 1, 'while-disputed');
    expect(below.errors).toBeUndefined();
    expect(below.data?.consumeCredits.available).toBe(100);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(chargesOf(workspaceId)).toHaveLength(charges);
    await stripe.closeDispute(dispute.id, 'won');
  });
});

describe('failed charges', () => {
  it('records a decline, retries it on schedule with a new key, and pauses after the last attempt', async () => {
    const workspaceId = await ready(1_000, DECLINES);
    expect((await spend(workspaceId, 8, 'decline')).errors).toBeUndefined(); // 1,000 → 200
    const failing = await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.autoTopUp.lastFailure !== null,
    );
    expect(failing.autoTopUp.lastFailure).toMatchObject({ attempt: 1, reason: 'DECLINED', code: 'generic_decline' });
    expect(failing.autoTopUp.lastFailure?.retryAt).not.toBeNull();
    const paused = await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.autoTopUp.paused,
    );
    expect(paused.autoTopUp).toMatchObject({ paused: true, enabled: true });
    expect(paused.autoTopUp.pauseReason).toContain('3 attempts failed');
    expect(paused.autoTopUp.recentTopUps[0]).toMatchObject({ status: 'FAILED', failedAttempts: 3 });
    expect(paused.autoTopUp.chargedThisMonth).toEqual({ amount: 0, currency: 'USD' });
    expect(paused.available).toBe(200);
    const attempts = chargesOf(workspaceId);
    expect(attempts.map((intent) => intent.metadata.attempt)).toEqual(['1', '2', '3']);
    // Paused: another crossing charges nothing until a billing manager acts.
    await spend(workspaceId, 1, 'while-paused');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(chargesOf(workspaceId)).toHaveLength(3);

    // The card recovers; saving the settings again resumes auto top-up.
    stripe.setCardBehaviour(paused.autoTopUp.card!.id, 'succeed');
    await turnOn(workspaceId);
    expect((await spend(workspaceId, 1, 'after-resume')).errors).toBeUndefined();
    await eventually(() => autoTopUpOf(workspaceId), credited);
    expect(chargesOf(workspaceId)).toHaveLength(4);
  });

  it('pauses at once when the card needs its holder (3-D Secure), after one attempt', async () => {
    const workspaceId = await ready(1_000, NEEDS_3DS);
    expect((await spend(workspaceId, 8, 'needs-3ds')).errors).toBeUndefined();
    const paused = await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.autoTopUp.paused,
    );
    expect(paused.autoTopUp.lastFailure).toMatchObject({ attempt: 1, reason: 'REQUIRES_ACTION', retryAt: null });
    expect(paused.autoTopUp.pauseReason).toContain('3-D Secure');
    expect(chargesOf(workspaceId)).toHaveLength(1);
  });

  it('pauses at once when the issuer declines for want of authentication (decline code, not error code)', async () => {
    const workspaceId = await ready(1_000);
    const customer = stripe
      .sessions()
      .find((each) => each.mode === 'setup' && each.metadata.workspaceId === workspaceId)?.customer as string;
    expect(stripe.setCardBehaviour(customer, 'authentication_declined')).toHaveLength(1);
    expect((await spend(workspaceId, 8, 'soft-decline-3ds')).errors).toBeUndefined();
    const paused = await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.autoTopUp.paused,
    );
    expect(paused.autoTopUp.lastFailure).toMatchObject({ attempt: 1, reason: 'REQUIRES_ACTION', retryAt: null });
    expect(chargesOf(workspaceId)).toHaveLength(1);
  });

  it('pauses at once for a card that needs its holder when the charge’s answer was lost and it is looked up', async () => {
    const workspaceId = await ready(1_000, NEEDS_3DS);
    stripe.holdDeliveries();
    // Stripe refuses the charge for 3-D Secure; its answer, and the SDK's two retries', are lost.
    stripe.failNext('POST /v1/payment_intents', 'drop-after', 3);
    expect((await spend(workspaceId, 8, 'needs-3ds-lost')).errors).toBeUndefined();
    // The next try finds the PaymentIntent (requires_payment_method) and reads why it failed.
    const paused = await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.autoTopUp.lastFailure !== null,
    );
    expect(paused.autoTopUp.lastFailure).toMatchObject({ attempt: 1, reason: 'REQUIRES_ACTION', retryAt: null });
    expect(paused.autoTopUp.paused).toBe(true);
    await stripe.releaseDeliveries();
    expect(chargesOf(workspaceId)).toHaveLength(1);
  });
});

describe('Stripe refusing our own key', () => {
  it('parks the charge for an operator, without blaming the card or pausing auto top-up, and charges once retried', async () => {
    const workspaceId = await ready(1_000);
    // A revoked or mistyped secret key: Stripe answers 401 before doing anything.
    stripe.failNext(
      'POST /v1/payment_intents',
      { status: 401, type: 'invalid_request_error', message: 'Invalid API Key provided: sk_test_****' },
      1,
    );
    expect((await spend(workspaceId, 8, 'our-key-refused')).errors).toBeUndefined();
    const issues = await eventually(
      () => expectData(server.url, PaymentIssuesDocument, {}, admin),
      (value) => value.parkedReactionWork.some((work) => work.key.includes(workspaceId)),
    );
    const parked = issues.parkedReactionWork.find((work) => work.key.includes(workspaceId));
    expect(parked?.lastError).toContain('Invalid API Key');
    const view = await autoTopUpOf(workspaceId);
    expect(view.autoTopUp.lastFailure).toBeNull();
    expect(view.autoTopUp.paused).toBe(false);
    expect(chargesOf(workspaceId)).toHaveLength(0);

    // The operator mends the key and retries the parked work: the same top-up is charged, once.
    await expectData(
      server.url,
      RetryReactionWorkDocument,
      { input: { reaction: parked?.reaction ?? '', key: parked?.key ?? '' } },
      admin,
    );
    const topped = await eventually(() => autoTopUpOf(workspaceId), credited);
    expect(topped.available).toBe(700);
    expect(chargesOf(workspaceId)).toHaveLength(1);
  });
});

describe('consent and card in force, or no charge', () => {
  // A retry 3 s after a decline: time to turn auto top-up off, or save another card, before it.
  beforeAll(async () => {
    await server.stop();
    server = await start({ AUTO_TOP_UP_RETRY_MS: '3000' });
  });
  afterAll(async () => {
    await server.stop();
    server = await start();
  });
  const pastTheRetry = () => new Promise((resolve) => setTimeout(resolve, 4_000));
  const declinedOnce = async (workspaceId: string) => {
    expect((await spend(workspaceId, 8, `below-${workspaceId}`)).errors).toBeUndefined(); // 1,000 → 200
    const failing = await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.autoTopUp.lastFailure !== null,
    );
    expect(failing.autoTopUp.lastFailure).toMatchObject({ attempt: 1, reason: 'DECLINED' });
    expect(failing.autoTopUp.lastFailure?.retryAt).not.toBeNull();
    return failing;
  };

  it('charges nothing more once auto top-up is turned off while a declined top-up waits for its retry', async () => {
    const workspaceId = await ready(1_000, DECLINES);
    const failing = await declinedOnce(workspaceId);
    // The card would be charged now: only the withdrawn consent stands in the way.
    stripe.setCardBehaviour(failing.autoTopUp.card!.id, 'succeed');
    const off = await turnOff(workspaceId);
    expect(off.enabled).toBe(false);
    expect((await autoTopUpOf(workspaceId)).autoTopUp.recentTopUps[0]?.status).toBe('CANCELED');
    await pastTheRetry();
    // The retry was looked at, found canceled, and recorded as not charged: Stripe saw attempt 1 only.
    expect(chargesOf(workspaceId).map((intent) => intent.metadata.attempt)).toEqual(['1']);
    const after = await autoTopUpOf(workspaceId);
    expect(after.autoTopUp.recentTopUps[0]).toMatchObject({ status: 'CANCELED', failedAttempts: 2 });
    expect(after.available).toBe(200);
    expect(after.autoTopUp.chargedThisMonth).toEqual({ amount: 0, currency: 'USD' });
    expect(after.autoTopUp.paused).toBe(false);
  });

  it('charges nothing under the old terms once the settings change while a declined top-up waits for its retry', async () => {
    // Limit $100: one top-up paid ($50), then a second crossing declined, waiting for its retry.
    const workspaceId = await ready(1_000, undefined, { monthlyLimit: 10_000 });
    expect((await spend(workspaceId, 8, 'first-crossing')).errors).toBeUndefined(); // 1,000 → 200
    const paid = await eventually(() => autoTopUpOf(workspaceId), credited);
    stripe.setCardBehaviour(paid.autoTopUp.card!.id, 'generic_decline');
    expect((await spend(workspaceId, 5, 'second-crossing')).errors).toBeUndefined(); // 700 → 200
    await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.autoTopUp.lastFailure?.reason === 'DECLINED',
    );
    // The billing manager lowers the limit to $50: a second $50 this month would pass it.
    const lowered = await turnOn(workspaceId, { monthlyLimit: 5_000 });
    expect(lowered.recentTopUps.map((topUp) => topUp.status)).toEqual(['CANCELED', 'SUCCEEDED']);
    stripe.setCardBehaviour(paid.autoTopUp.card!.id, 'succeed');
    await pastTheRetry();
    // The declined attempt and the first charge, nothing more: the crossing is skipped for the limit.
    expect(chargesOf(workspaceId).map((intent) => intent.status)).toEqual(['succeeded', 'requires_payment_method']);
    const after = await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.autoTopUp.lastSkip !== null,
    );
    expect(after.autoTopUp).toMatchObject({
      chargedThisMonth: { amount: 5_000 },
      lastSkip: { reason: 'MONTHLY_LIMIT', available: 200 },
    });
  });

  it('charges the new card, not the replaced one, when a card is saved after a decline', async () => {
    const workspaceId = await ready(1_000, DECLINES);
    const failing = await declinedOnce(workspaceId);
    const declining = failing.autoTopUp.card!.id;
    await saveCard(workspaceId);
    // The declined top-up is canceled and the crossing charged again at once, on the new card.
    const topped = await eventually(() => autoTopUpOf(workspaceId), credited);
    expect(topped.autoTopUp.card!.id).not.toBe(declining);
    expect(topped.autoTopUp.recentTopUps.map((topUp) => topUp.status)).toEqual(['SUCCEEDED', 'CANCELED']);
    expect(topped.available).toBe(700);
    await pastTheRetry();
    const charges = chargesOf(workspaceId);
    // The declined one (Stripe clears a failed intent's card), then one on the new card, and no retry.
    expect(charges.map((intent) => [intent.metadata.topUpId, intent.status])).toEqual([
      ['topup-1', 'requires_payment_method'],
      ['topup-2', 'succeeded'],
    ]);
    expect(charges[1]?.payment_method).toBe(topped.autoTopUp.card!.id);
    expect((await autoTopUpOf(workspaceId)).autoTopUp).toMatchObject({ paused: false, lastSkip: null });
  });

  it('tops up again when spends made while a top-up was being charged leave the balance below the threshold', async () => {
    // Threshold 600: a spend to 200 requests 500 credits, which would bring it back to 700.
    const workspaceId = await ready(1_000, DECLINES, { thresholdCredits: 600 });
    const failing = await declinedOnce(workspaceId);
    // While its retry waits, the team spends the rest: 200 → 0.
    expect((await spend(workspaceId, 2, 'meanwhile')).errors).toBeUndefined();
    stripe.setCardBehaviour(failing.autoTopUp.card!.id, 'succeed');
    // The retry pays 500 (0 → 500, still below 600): a new fall below the line, topped up at once.
    const topped = await eventually(
      () => autoTopUpOf(workspaceId),
      (view) => view.available === 1_000,
    );
    expect(topped.autoTopUp.recentTopUps.map((topUp) => topUp.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(topped.autoTopUp.chargedThisMonth).toEqual({ amount: 10_000, currency: 'USD' });
    expect(chargesOf(workspaceId).map((intent) => intent.status)).toEqual([
      'requires_payment_method',
      'succeeded',
      'succeeded',
    ]);
  });
});

describe('a package the catalog no longer sells', () => {
  afterAll(async () => {
    await server.stop();
    server = await start();
  });

  it('can still be turned off (consent withdrawn), but not turned on again', async () => {
    const workspaceId = await ready(1_000);
    await server.stop();
    const catalog = JSON.parse(readFileSync(resolve(__dirname, '../../config/catalog.json'), 'utf8')) as {
      packages: { id: string }[];
    };
    catalog.packages = catalog.packages.filter((pkg) => pkg.id !== 'credits-500');
    const withoutIt = join(mkdtempSync(join(tmpdir(), 'credits-catalog-')), 'catalog.json');
    writeFileSync(withoutIt, JSON.stringify(catalog));
    server = await start({ CATALOG_FILE: withoutIt });

    const off = await turnOff(workspaceId);
    expect(off).toMatchObject({ enabled: false, packageId: 'credits-500', thresholdCredits: 300 });
    // The package is gone: no new consent to it.
    const again = await expectError(
      server.url,
      ConfigureAutoTopUpDocument,
      { input: { ...settings(workspaceId), acceptedTerms: off.consent!.terms } },
      manager(workspaceId),
    );
    expect(again.code).toBe('NOT_FOUND');
    expect(again.message).toContain('credits-500');
    // Off: a crossing charges nothing.
    expect((await spend(workspaceId, 8, 'after-off')).errors).toBeUndefined();
    await new Promise((done) => setTimeout(done, 1_000));
    expect(chargesOf(workspaceId)).toHaveLength(0);
    expect((await autoTopUpOf(workspaceId)).autoTopUp).toMatchObject({ enabled: false, recentTopUps: [] });
  });
});

describe('Stripe charged, and the answer was of no use', () => {
  it('credits a charge Stripe made before answering 500, without waiting for its webhook', async () => {
    const workspaceId = await ready(1_000);
    stripe.holdDeliveries();
    // Stripe charges, then answers 500, and replays that 500 for the key from then on.
    stripe.failNext('POST /v1/payment_intents', 'error-after', 1);
    expect((await spend(workspaceId, 8, 'error-after')).errors).toBeUndefined();
    // The next try looks for the charge before making one, finds it paid, and records it.
    const topped = await eventually(() => autoTopUpOf(workspaceId), credited);
    expect(topped.available).toBe(700);
    expect(chargesOf(workspaceId)).toHaveLength(1);
    await stripe.releaseDeliveries();
    expect(
      (await expectData(server.url, CreditPurchasesDocument, { workspaceId }, admin)).creditPurchases,
    ).toHaveLength(1);
  });

  it('charges once when a try whose answer was lost is retried after Stripe forgot its key (24 hours on)', async () => {
    const workspaceId = await ready(1_000);
    stripe.holdDeliveries();
    stripe.failNext('POST /v1/payment_intents', 'drop-after', 50);
    expect((await spend(workspaceId, 8, 'forgotten-key')).errors).toBeUndefined();
    await eventually(
      () => chargesOf(workspaceId).length,
      (made) => made === 1,
    );
    // That try over (the SDK's two retries with the key made too, their answers lost as well)...
    await eventually(
      () =>
        stripe.requestsTo('/v1/payment_intents', 'POST').filter((request) => request.rawBody.includes(workspaceId))
          .length,
      (posts) => posts >= 3,
    );
    // ...and as a day later (a weekend parked, a server down): the same create would be a new charge.
    stripe.forgetIdempotencyKeys();
    stripe.clearFaults();
    const topped = await eventually(() => autoTopUpOf(workspaceId), credited);
    expect(topped.available).toBe(700);
    expect(topped.autoTopUp.chargedThisMonth?.amount).toBe(5000);
    expect(chargesOf(workspaceId)).toHaveLength(1);
    await stripe.releaseDeliveries();
    expect(
      (await expectData(server.url, CreditPurchasesDocument, { workspaceId }, admin)).creditPurchases,
    ).toHaveLength(1);
  });
});

describe('crashes', () => {
  it('makes one charge when the server is killed after Stripe created the PaymentIntent and before its answer was recorded', async () => {
    const workspaceId = await ready(1_000);
    stripe.holdDeliveries();
    // Stripe charges, and no answer ever arrives (nor to the SDK's own retries with the same key).
    stripe.failNext('/v1/payment_intents', 'drop-after', 50);
    expect((await spend(workspaceId, 8, 'before-kill')).errors).toBeUndefined();
    await eventually(
      () => chargesOf(workspaceId).length,
      (made) => made === 1,
    );
    await server.stop('SIGKILL');
    stripe.clearFaults();
    server = await start();
    // Once the dead process's reactor lease runs out (15 s), the reaction charges again with the
    // same key, and Stripe replays the first PaymentIntent.
    const topped = await eventually(() => autoTopUpOf(workspaceId), credited, 40_000);
    expect(topped.autoTopUp.recentTopUps[0]?.status).toBe('SUCCEEDED');
    expect(chargesOf(workspaceId)).toHaveLength(1);
    await stripe.releaseDeliveries((held) => [...held].reverse());
    await stripe.retryFailedDeliveries();
    const purchases = (await expectData(server.url, CreditPurchasesDocument, { workspaceId }, admin)).creditPurchases;
    expect(purchases).toHaveLength(1);
    expect((await autoTopUpOf(workspaceId)).available).toBe(topped.available);
    expect(topped.available).toBe(700);
  });
});
