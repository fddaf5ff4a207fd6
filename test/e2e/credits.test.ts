/**
 * The walking skeleton over HTTP against the real server process: allowance, recorded purchase,
 * promotional grant and spends, as the Billing page and other services see them.
 */
import {
  ApplyPlanAllowanceDocument,
  CatalogDocument,
  ConsumeCreditsDocument,
  EstimateCreditsDocument,
  GrantCreditsDocument,
  PurchaseCreditsDocument,
  WorkspaceCreditsDocument,
  type CreditAction,
} from '../generated/graphql';
import { execute, expectData, expectError, headPosition } from '../support/graphql-client';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

const DAY = 24 * 60 * 60 * 1000;
/** A billing period around now, so its allowance is spendable during the test. */
const currentPeriod = () => ({
  periodStart: new Date(Date.now() - DAY).toISOString(),
  periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
});
let workspaceCounter = 0;
const newWorkspace = (): string => `ws-credits-${process.pid}-${++workspaceCounter}`;

async function workspaceWithAllowance(planId = 'growth'): Promise<string> {
  const workspaceId = newWorkspace();
  await expectData(
    server.url,
    ApplyPlanAllowanceDocument,
    { input: { workspaceId, planId, ...currentPeriod() } },
    adminToken(),
  );
  return workspaceId;
}

const spend = (
  workspaceId: string,
  idempotencyKey: string,
  action: CreditAction = 'ORG_CHART_GENERATION',
  units = 1,
) => ({
  input: { workspaceId, action, units, idempotencyKey },
});

describe('the balance breakdown', () => {
  it('shows included, purchased and promotional credits after an allowance, a purchase, a grant and spends', async () => {
    const workspaceId = await workspaceWithAllowance('growth');
    const owner = tokenFor(workspaceId, 'OWNER');
    await expectData(
      server.url,
      PurchaseCreditsDocument,
      { input: { workspaceId, packageId: 'credits-2000', paymentReference: `inv-${workspaceId}` } },
      adminToken(),
    );
    await expectData(
      server.url,
      GrantCreditsDocument,
      {
        input: { workspaceId, credits: 150, reason: 'failed org chart run', idempotencyKey: `goodwill-${workspaceId}` },
      },
      adminToken(),
    );

    // 60 × 100 = 6,000 credits: all 5,000 included first (it expires), then 150 promotional, then 850 purchased.
    const consumption = (
      await expectData(
        server.url,
        ConsumeCreditsDocument,
        spend(workspaceId, 'big-run', 'ORG_CHART_GENERATION', 60),
        owner,
      )
    ).consumeCredits;
    expect(consumption).toMatchObject({ credits: 6000, units: 60, available: 1150, workspaceId });
    expect(consumption.drawdown.map(({ source, credits }) => [source, credits])).toEqual([
      ['INCLUDED', 5000],
      ['PROMOTIONAL', 150],
      ['PURCHASED', 850],
    ]);
    await expectData(server.url, ConsumeCreditsDocument, spend(workspaceId, 'people', 'PERSON_ENRICHMENT', 3), owner);

    const { workspaceCredits } = await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, owner);
    expect(workspaceCredits).toMatchObject({
      workspaceId,
      plan: { id: 'growth', name: 'Growth', includedCredits: 5000 },
      available: 1129,
      included: { granted: 5000, consumed: 5000, expired: 0, refunded: 0, remaining: 0 },
      promotional: { granted: 150, consumed: 150, expired: 0, refunded: 0, remaining: 0 },
      purchased: { granted: 2000, consumed: 871, expired: 0, refunded: 0, remaining: 1129 },
      lowBalance: false,
    });
    expect(workspaceCredits.grants).toHaveLength(1);
    expect(workspaceCredits.grants[0]).toMatchObject({
      source: 'PURCHASED',
      granted: 2000,
      remaining: 1129,
      expiresAt: null,
    });
  });

  it('gives an unknown workspace an all-zero balance and flags it as low', async () => {
    const workspaceId = newWorkspace();
    const { workspaceCredits } = await expectData(
      server.url,
      WorkspaceCreditsDocument,
      { workspaceId },
      tokenFor(workspaceId, 'MEMBER'),
    );
    const zero = { granted: 0, consumed: 0, expired: 0, refunded: 0, remaining: 0 };
    expect(workspaceCredits).toMatchObject({
      available: 0,
      plan: null,
      included: zero,
      purchased: zero,
      promotional: zero,
      grants: [],
      lowBalance: true,
    });
  });

  it('warns about a low balance below 10% of the allowance', async () => {
    const workspaceId = await workspaceWithAllowance('starter'); // 1,000 included: threshold 100
    const member = tokenFor(workspaceId, 'MEMBER');
    await expectData(server.url, ConsumeCreditsDocument, spend(workspaceId, 'a', 'ORG_CHART_GENERATION', 9), member);
    let balance = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, member)).workspaceCredits;
    expect(balance).toMatchObject({ available: 100, lowBalance: false, lowBalanceThreshold: 100 });
    await expectData(server.url, ConsumeCreditsDocument, spend(workspaceId, 'b', 'PERSON_ENRICHMENT', 1), member);
    balance = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, member)).workspaceCredits;
    expect(balance).toMatchObject({ available: 93, lowBalance: true });
  });

  it('serves the catalog and estimates the cost of an action against the balance', async () => {
    const workspaceId = await workspaceWithAllowance('starter');
    const member = tokenFor(workspaceId, 'MEMBER');
    const catalog = await expectData(server.url, CatalogDocument, {}, member);
    expect(catalog.creditRates).toEqual(
      expect.arrayContaining([
        { id: 'ORG_CHART_GENERATION', action: 'ORG_CHART_GENERATION', creditsPerUnit: 100, unit: 'org chart' },
        {
          id: 'BUYING_COMMITTEE_MAPPING',
          action: 'BUYING_COMMITTEE_MAPPING',
          creditsPerUnit: 21,
          unit: 'buying committee',
        },
        { id: 'ACTION_PLAN_GENERATION', action: 'ACTION_PLAN_GENERATION', creditsPerUnit: 8, unit: 'action plan' },
        { id: 'PERSON_ENRICHMENT', action: 'PERSON_ENRICHMENT', creditsPerUnit: 7, unit: 'person' },
      ]),
    );
    expect(catalog.plans.map((plan) => plan.id)).toEqual(['starter', 'growth', 'scale']);
    expect(catalog.creditPackages[0]).toEqual({
      id: 'credits-500',
      name: '500 credits',
      credits: 500,
      price: { amount: 5000, currency: 'USD' },
    });

    const fits = await expectData(
      server.url,
      EstimateCreditsDocument,
      { workspaceId, action: 'PERSON_ENRICHMENT', units: 20 },
      member,
    );
    expect(fits.estimateCredits).toEqual({
      id: `${workspaceId}/PERSON_ENRICHMENT/20`,
      action: 'PERSON_ENRICHMENT',
      units: 20,
      credits: 140,
      available: 1000,
      sufficient: true,
    });
    const tooMuch = await expectData(
      server.url,
      EstimateCreditsDocument,
      { workspaceId, action: 'ORG_CHART_SYNC', units: 11 },
      member,
    );
    expect(tooMuch.estimateCredits).toMatchObject({ credits: 1100, available: 1000, sufficient: false });
  });
});

describe('refusals change nothing', () => {
  it('refuses an overspend with the required and available credits, appending nothing', async () => {
    const workspaceId = await workspaceWithAllowance('starter');
    const member = tokenFor(workspaceId, 'MEMBER');
    const before = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, member)).workspaceCredits;
    const head = await headPosition(server.url);

    const error = await expectError(
      server.url,
      ConsumeCreditsDocument,
      spend(workspaceId, 'too-big', 'ORG_CHART_GENERATION', 11),
      member,
    );
    expect(error).toMatchObject({ code: 'INSUFFICIENT_CREDITS', extensions: { required: 1100, available: 1000 } });

    expect(await headPosition(server.url)).toBe(head);
    const after = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, member)).workspaceCredits;
    expect(after).toEqual(before);
    // The refused key was not used up: the same key can pay for an affordable spend.
    const ok = await expectData(
      server.url,
      ConsumeCreditsDocument,
      spend(workspaceId, 'too-big', 'ORG_CHART_GENERATION', 10),
      member,
    );
    expect(ok.consumeCredits.available).toBe(0);
  });

  it.each([
    ['zero units', { units: 0 }, 'units'],
    ['too many units', { units: 1_000_000 }, 'units'],
    ['a blank idempotency key', { idempotencyKey: '   ' }, 'idempotencyKey'],
    ['an over-long idempotency key', { idempotencyKey: 'k'.repeat(201) }, 'idempotencyKey'],
    ['a workspace id with spaces', { workspaceId: 'has spaces' }, 'workspaceId'],
  ])('answers BAD_USER_INPUT for %s, appending nothing', async (_name, override, field) => {
    const workspaceId = await workspaceWithAllowance('starter');
    const head = await headPosition(server.url);
    const input = {
      workspaceId,
      action: 'ACTION_PLAN_GENERATION' as const,
      units: 1,
      idempotencyKey: 'k',
      ...override,
    };
    const error = await expectError(server.url, ConsumeCreditsDocument, { input }, adminToken());
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.extensions?.invalidFields).toEqual([expect.objectContaining({ field })]);
    expect(await headPosition(server.url)).toBe(head);
  });

  it('answers BAD_USER_INPUT for an unknown action or a malformed date without running anything', async () => {
    const workspaceId = newWorkspace();
    const badAction = await execute(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'TELEPORT' as never, units: 1, idempotencyKey: 'k' } },
      adminToken(),
    );
    expect(badAction.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badDate = await execute(
      server.url,
      ApplyPlanAllowanceDocument,
      { input: { workspaceId, planId: 'growth', periodStart: 'yesterday', periodEnd: '2030-01-01T00:00:00Z' } },
      adminToken(),
    );
    expect(badDate.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses control characters in free text (a NUL, an escape sequence), appending nothing', async () => {
    const workspaceId = newWorkspace();
    const head = await headPosition(server.url);
    const grant = (reason: string) =>
      expectError(
        server.url,
        GrantCreditsDocument,
        { input: { workspaceId, credits: 10, reason, idempotencyKey: `grant-${reason.length}` } },
        adminToken(),
      );
    for (const reason of [
      'goodwill\u0000',
      '\u001b[31mred',
      'c1 \u009b31m',
      'bell\u0007',
      'approved\rREFUSED',
      // Characters that change how the text around them reads, unseen.
      'refund \u202Efdp.exe',
      'isolated \u2066x\u2069',
      'line\u2028separator',
      '\uFEFFbom',
      'non\uFFFF',
    ]) {
      const refused = await grant(reason);
      expect(refused.code).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(refused.extensions)).toMatch(
        /reason must not contain control or text-direction characters/,
      );
    }
    const reference = await expectError(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: 'k', reference: 'run\u0000' } },
      adminToken(),
    );
    expect(reference.code).toBe('BAD_USER_INPUT');
    expect(await headPosition(server.url)).toBe(head);
    // Tabs and line breaks are text, not controls: a reason on two lines (as Windows sends it) is kept.
    const twoLines = await expectData(
      server.url,
      GrantCreditsDocument,
      {
        input: {
          workspaceId,
          credits: 10,
          reason: 'goodwill\r\nafter\tthe outage 🙂 👩‍💻 مرحبا',
          idempotencyKey: 'two-lines',
        },
      },
      adminToken(),
    );
    expect(twoLines.grantCredits.available).toBe(10);
  });

  it('answers NOT_FOUND for an unknown plan or package and CONFLICT for a stale period', async () => {
    const workspaceId = await workspaceWithAllowance('growth');
    const admin = adminToken();
    const head = await headPosition(server.url);
    expect(
      (
        await expectError(
          server.url,
          ApplyPlanAllowanceDocument,
          { input: { workspaceId, planId: 'platinum', ...currentPeriod() } },
          admin,
        )
      ).code,
    ).toBe('NOT_FOUND');
    expect(
      (
        await expectError(
          server.url,
          PurchaseCreditsDocument,
          { input: { workspaceId, packageId: 'credits-7', paymentReference: 'x' } },
          admin,
        )
      ).code,
    ).toBe('NOT_FOUND');
    const older = {
      periodStart: new Date(Date.now() - 40 * DAY).toISOString(),
      periodEnd: new Date(Date.now() + DAY).toISOString(),
    };
    expect(
      (
        await expectError(
          server.url,
          ApplyPlanAllowanceDocument,
          { input: { workspaceId, planId: 'growth', ...older } },
          admin,
        )
      ).code,
    ).toBe('CONFLICT');
    expect(await headPosition(server.url)).toBe(head);
  });
});

describe('idempotency', () => {
  it('returns the first result for a retried spend and charges once', async () => {
    const workspaceId = await workspaceWithAllowance('starter');
    const service = tokenFor(workspaceId, 'SERVICE');
    const first = (
      await expectData(
        server.url,
        ConsumeCreditsDocument,
        spend(workspaceId, 'run-42', 'BUYING_COMMITTEE_MAPPING'),
        service,
      )
    ).consumeCredits;
    const head = await headPosition(server.url);
    const retry = (
      await expectData(
        server.url,
        ConsumeCreditsDocument,
        spend(workspaceId, 'run-42', 'BUYING_COMMITTEE_MAPPING'),
        service,
      )
    ).consumeCredits;
    expect(retry).toEqual(first);
    expect(await headPosition(server.url)).toBe(head);
    const { workspaceCredits } = await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, service);
    expect(workspaceCredits.available).toBe(1000 - 21);
  });

  it('refuses the same key with a different payload', async () => {
    const workspaceId = await workspaceWithAllowance('starter');
    const service = tokenFor(workspaceId, 'SERVICE');
    await expectData(server.url, ConsumeCreditsDocument, spend(workspaceId, 'run-43', 'PERSON_ENRICHMENT', 2), service);
    const error = await expectError(
      server.url,
      ConsumeCreditsDocument,
      spend(workspaceId, 'run-43', 'PERSON_ENRICHMENT', 3),
      service,
    );
    expect(error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', extensions: { idempotencyKey: 'run-43' } });
  });

  it('grants a plan period, a purchase and a promotional grant once however often they are sent', async () => {
    const workspaceId = newWorkspace();
    const admin = adminToken();
    const period = currentPeriod();
    const purchase = { workspaceId, packageId: 'credits-500', paymentReference: `wire-${workspaceId}` };
    const grant = { workspaceId, credits: 40, reason: 'welcome', idempotencyKey: `welcome-${workspaceId}` };
    for (let attempt = 0; attempt < 3; attempt++) {
      await expectData(
        server.url,
        ApplyPlanAllowanceDocument,
        { input: { workspaceId, planId: 'starter', ...period } },
        admin,
      );
      await expectData(server.url, PurchaseCreditsDocument, { input: purchase }, admin);
      await expectData(server.url, GrantCreditsDocument, { input: grant }, admin);
    }
    const { workspaceCredits } = await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, admin);
    expect(workspaceCredits).toMatchObject({
      available: 1540,
      included: { granted: 1000 },
      purchased: { granted: 500 },
      promotional: { granted: 40 },
    });
    expect(
      (
        await expectError(
          server.url,
          PurchaseCreditsDocument,
          { input: { ...purchase, packageId: 'credits-2000' } },
          admin,
        )
      ).code,
    ).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});

describe('concurrency', () => {
  it('accepts exactly as many concurrent spends as the balance covers and loses none', async () => {
    const workspaceId = await workspaceWithAllowance('starter'); // 1,000 credits
    const member = tokenFor(workspaceId, 'MEMBER');
    const attempts = 40; // 40 × 100 credits requested, 10 can be paid
    const responses = await Promise.all(
      Array.from({ length: attempts }, (_, i) =>
        execute(server.url, ConsumeCreditsDocument, spend(workspaceId, `burst-${i}`, 'ORG_CHART_SYNC'), member),
      ),
    );
    const accepted = responses.filter((response) => response.data?.consumeCredits);
    const refused = responses.filter((response) => response.errors?.[0]?.extensions?.code === 'INSUFFICIENT_CREDITS');
    expect(accepted).toHaveLength(10);
    expect(refused).toHaveLength(attempts - 10);
    const remainingAfterEach = accepted
      .map((response) => response.data?.consumeCredits.available)
      .sort((a, b) => (a ?? 0) - (b ?? 0));
    expect(remainingAfterEach).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    const { workspaceCredits } = await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, member);
    expect(workspaceCredits).toMatchObject({ available: 0, included: { consumed: 1000, remaining: 0 } });
  });
});
