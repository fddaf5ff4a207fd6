/**
 * Alerts over HTTP against the real server: the rules a billing manager sets, the threshold the
 * balance shows, one CreditsLow for a burst of concurrent spends, and expiry notices written by the
 * sweeper.
 */
import {
  ConfigureCreditAlertsDocument,
  ConsumeCreditsDocument,
  CreditAlertRulesDocument,
  CreditAlertsDocument,
  GrantCreditsDocument,
  PurchaseCreditsDocument,
  WorkspaceCreditsDocument,
} from '../generated/graphql';
import { execute, expectData, expectError } from '../support/graphql-client';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({ env: { EXPIRY_SWEEP_INTERVAL_MS: '200' } });
});
afterAll(async () => {
  await server?.stop();
});

const DAY = 24 * 60 * 60 * 1000;
let counter = 0;
const newWorkspace = (): string => `ws-alerts-${process.pid}-${++counter}`;

async function buy(workspaceId: string, packageId = 'credits-500'): Promise<void> {
  await expectData(
    server.url,
    PurchaseCreditsDocument,
    { input: { workspaceId, packageId, paymentReference: `INV-${workspaceId}-${++counter}` } },
    adminToken(),
  );
}

const alertsOf = async (workspaceId: string) =>
  (await expectData(server.url, CreditAlertsDocument, { workspaceId }, tokenFor(workspaceId, 'MEMBER'))).creditAlerts;

describe('alert rules', () => {
  it('are the catalog defaults until a billing manager sets them, and then the balance uses them', async () => {
    const workspaceId = newWorkspace();
    await buy(workspaceId);
    const member = tokenFor(workspaceId, 'MEMBER');
    const defaults = await expectData(server.url, CreditAlertRulesDocument, { workspaceId }, member);
    expect(defaults.creditAlertRules).toMatchObject({
      lowBalanceCredits: null,
      lowBalancePercent: null,
      lowBalanceThreshold: 100,
      notifyLow: true,
      expiringSoonDays: 7,
      configuredBy: null,
    });

    const manager = tokenFor(workspaceId, 'BILLING_MANAGER', { subject: 'manager-7' });
    const set = await expectData(
      server.url,
      ConfigureCreditAlertsDocument,
      { input: { workspaceId, lowBalanceCredits: 600, notifyRecovered: false, expiringSoonDays: null } },
      manager,
    );
    expect(set.configureCreditAlerts).toMatchObject({
      lowBalanceCredits: 600,
      lowBalanceThreshold: 600,
      notifyLow: true,
      notifyRecovered: false,
      expiringSoonDays: null,
      configuredBy: 'manager-7',
    });
    const balance = await expectData(server.url, WorkspaceCreditsDocument, { workspaceId }, member);
    expect(balance.workspaceCredits).toMatchObject({ available: 500, lowBalance: true, lowBalanceThreshold: 600 });
    // The new threshold put the balance below the line: that crossing is recorded at once.
    expect((await alertsOf(workspaceId)).map((alert) => [alert.type, alert.available, alert.threshold])).toEqual([
      ['LOW', 500, 600],
    ]);
  });

  it('refuses rules that make no sense, and changes nothing', async () => {
    const workspaceId = newWorkspace();
    const owner = tokenFor(workspaceId, 'OWNER');
    for (const input of [
      { workspaceId, lowBalanceCredits: 10, lowBalancePercent: 10 },
      { workspaceId, lowBalancePercent: 101 },
      { workspaceId, lowBalanceCredits: -5 },
      { workspaceId, expiringSoonDays: 0 },
    ]) {
      const error = await expectError(server.url, ConfigureCreditAlertsDocument, { input }, owner);
      expect(error.code).toBe('BAD_USER_INPUT');
    }
    const rules = await expectData(server.url, CreditAlertRulesDocument, { workspaceId }, owner);
    expect(rules.creditAlertRules.configuredBy).toBeNull();
  });

  it('may not be set by a MEMBER or a SERVICE', async () => {
    const workspaceId = newWorkspace();
    for (const role of ['MEMBER', 'SERVICE'] as const) {
      const error = await expectError(
        server.url,
        ConfigureCreditAlertsDocument,
        { input: { workspaceId, lowBalanceCredits: 5 } },
        tokenFor(workspaceId, role),
      );
      expect(error.code).toBe('FORBIDDEN');
    }
  });
});

describe('one alert per crossing', () => {
  it('raises one LOW for a burst of concurrent spends that crosses the threshold, and one per crossing after', async () => {
    const workspaceId = newWorkspace();
    await buy(workspaceId); // 500 credits; the catalog's threshold is 100
    const member = tokenFor(workspaceId, 'MEMBER');
    const spends = Array.from({ length: 40 }, (_, i) =>
      execute(
        server.url,
        ConsumeCreditsDocument,
        { input: { workspaceId, action: 'BUYING_COMMITTEE_MAPPING', units: 1, idempotencyKey: `burst-${i}` } },
        member,
      ),
    );
    const answers = await Promise.all(spends);
    const accepted = answers.filter((answer) => !answer.errors).length;
    expect(accepted).toBe(23); // 23 × 21 = 483 of 500 credits
    const alerts = await alertsOf(workspaceId);
    expect(alerts.map((alert) => alert.type)).toEqual(['LOW']);
    expect(alerts[0]?.available).toBeLessThan(100);

    // Back above the line, then down again: one RECOVERED, then a second LOW.
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 1000, reason: 'goodwill', idempotencyKey: `grant-${workspaceId}` } },
      adminToken(),
    );
    await expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'ORG_CHART_GENERATION', units: 10, idempotencyKey: 'big' } },
      member,
    );
    expect((await alertsOf(workspaceId)).map((alert) => alert.type)).toEqual(['LOW', 'RECOVERED', 'LOW']);
  });
});

describe('depletion and recovery', () => {
  it('tells a second depletion after a refill that stayed low, and pages the history with after', async () => {
    const workspaceId = newWorkspace();
    await buy(workspaceId); // 500 credits
    await expectData(
      server.url,
      ConfigureCreditAlertsDocument,
      { input: { workspaceId, lowBalanceCredits: 500 } },
      tokenFor(workspaceId, 'OWNER'),
    );
    const member = tokenFor(workspaceId, 'MEMBER');
    const spendAll = (key: string) =>
      expectData(
        server.url,
        ConsumeCreditsDocument,
        { input: { workspaceId, action: 'ORG_CHART_GENERATION', units: 5, idempotencyKey: key } },
        member,
      );
    await spendAll('all-1');
    await buy(workspaceId); // back to 500: out of depletion, still inside the band over 500
    await spendAll('all-2');

    const alerts = await alertsOf(workspaceId);
    expect(alerts.map((alert) => [alert.type, alert.available, alert.stillLow])).toEqual([
      ['DEPLETED', 0, null],
      ['RECOVERED', 500, true],
      ['DEPLETED', 0, null],
      ['LOW', 0, null],
    ]);

    // Two at a time, each page after the last id of the one before, until an empty page.
    const paged: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 4; page++) {
      const { creditAlerts }: { creditAlerts: { id: string; type: string }[] } = await expectData(
        server.url,
        CreditAlertsDocument,
        { workspaceId, first: 2, after },
        member,
      );
      if (creditAlerts.length === 0) break;
      paged.push(...creditAlerts.map((alert) => alert.type));
      after = creditAlerts[creditAlerts.length - 1]!.id;
    }
    expect(paged).toEqual(alerts.map((alert) => alert.type));

    for (const bad of [
      '',
      'not-an-id',
      `other-workspace:${alerts[1]!.id.split(':')[1]}`,
      `${workspaceId}:-1`,
      `${workspaceId}:99999999999999999999`,
      `${workspaceId}:9223372036854775808`,
    ]) {
      const error = await expectError(server.url, CreditAlertsDocument, { workspaceId, after: bad }, member);
      expect(error.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('credits expiring soon', () => {
  it('are noticed by the sweeper once, with the grant and its credits left', async () => {
    const workspaceId = newWorkspace();
    const expiresAt = new Date(Date.now() + 3 * DAY).toISOString();
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 700, reason: 'trial', expiresAt, idempotencyKey: `trial-${workspaceId}` } },
      adminToken(),
    );
    const deadline = Date.now() + 10_000;
    let alerts = await alertsOf(workspaceId);
    while (alerts.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      alerts = await alertsOf(workspaceId);
    }
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ type: 'EXPIRING_SOON', source: 'PROMOTIONAL', credits: 700, expiresAt });
    await new Promise((resolve) => setTimeout(resolve, 600)); // three more sweeps
    expect(await alertsOf(workspaceId)).toHaveLength(1);
  });
});
