/**
 * What the read models make of a hold's life: the holds read model lists it by its status at the
 * instant of the read (expired from its expiresAt on, written or not) and pages newest first; the
 * ledger shows the reservation and its outcome with balanceAfter as the credits left to spend and
 * the real cost as `spentCredits`; usage counts a settled hold as a spend; the balance read model
 * keeps the active holds, what returning credits depend on, and which workspaces have a hold due.
 */
import BetterSqlite3 from 'better-sqlite3';
import { creditHoldsProjection } from '../../projections/credit-holds';
import { CreditHoldsReader } from '../../projections/credit-holds-reader';
import { creditLedgerProjection } from '../../projections/credit-ledger';
import { CreditLedgerReader } from '../../projections/credit-ledger-reader';
import { WorkspaceBalanceReader, workspaceBalanceProjection } from '../../projections/workspace-balance';
import type { WorkspaceCreditsEvent } from '../../src/domain/events';
import { currentSchemaVersion } from '../../src/events/upcasters';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { at, DAY, draw, HOUR, purchased, WORKSPACE } from '../domain/builders';
import { extended, holdExpired, released, reserved, settled } from '../domain/hold-builders';

const p = (credits: number) => [draw('purchase-1', 'PURCHASED', credits)];
const hold = (n: number, units: number, availableAfter: number) =>
  reserved({
    holdId: `hold-${n}`,
    idempotencyKey: `key-${n}`,
    units,
    drawdown: p(units * 100),
    availableAfter,
    reference: `run-${n}`,
    reservedAt: at(n * 1000),
  });
const history: WorkspaceCreditsEvent[] = [
  purchased({ credits: 2000 }),
  hold(1, 5, 1500),
  hold(2, 3, 1200),
  hold(3, 2, 1000),
  hold(4, 1, 900),
  settled({
    holdId: 'hold-1',
    units: 3,
    fromHold: p(300),
    returned: p(200),
    availableAfter: 1100,
    settledAt: at(10_000),
  }),
  released(p(300), { holdId: 'hold-2', reason: 'cancelled', at: at(11_000) }),
  holdExpired(p(200), at(HOUR), 'hold-3'),
  extended(at(5 * HOUR), at(HOUR + 4000), { holdId: 'hold-4', at: at(12_000) }),
];

function readModels(events: WorkspaceCreditsEvent[]) {
  const db = new BetterSqlite3(':memory:');
  const projections = [creditHoldsProjection, creditLedgerProjection, workspaceBalanceProjection];
  for (const projection of projections) projection.migrate(db);
  const handlers = projections.map((projection) => projection.prepare(db));
  events.forEach((event, i) => {
    const recorded = {
      id: `event-${i}`,
      streamName: workspaceStreamName(WORKSPACE),
      type: event.type,
      data: event.data,
      metadata: { actorId: 'hold-expiry' },
      schemaVersion: currentSchemaVersion(event.type),
      revision: BigInt(i),
      position: BigInt(i + 1),
      recordedAt: new Date(0),
    };
    for (const handler of handlers) handler.apply(recorded);
  });
  for (const handler of handlers) handler.endBatch?.();
  return {
    db,
    holds: new CreditHoldsReader(db),
    ledger: new CreditLedgerReader(db),
    balances: new WorkspaceBalanceReader(db),
  };
}

describe('the holds read model', () => {
  const { holds } = readModels(history);
  const statuses = (now: number, status?: 'ACTIVE' | 'SETTLED' | 'RELEASED' | 'EXPIRED') =>
    holds.page(WORKSPACE, { first: 10, now, ...(status && { status }) }).holds.map((view) => [view.id, view.status]);

  it('lists every hold newest first with its outcome', () => {
    expect(statuses(at(2 * HOUR).getTime())).toEqual([
      ['hold-4', 'ACTIVE'],
      ['hold-3', 'EXPIRED'],
      ['hold-2', 'RELEASED'],
      ['hold-1', 'SETTLED'],
    ]);
    expect(holds.hold('hold-1', at(2 * HOUR).getTime())).toMatchObject({
      credits: 500,
      settledUnits: 3,
      settledCredits: 300,
      consumptionId: 'settle-spend-1',
      reference: 'run-1',
      closedAt: at(10_000),
    });
    expect(holds.hold('hold-4', 0)?.expiresAt).toEqual(at(5 * HOUR));
  });

  it('reports a hold past its expiry as EXPIRED from that instant, before its expiry is written', () => {
    expect(statuses(at(5 * HOUR).getTime() - 1, 'ACTIVE')).toEqual([['hold-4', 'ACTIVE']]);
    expect(statuses(at(5 * HOUR).getTime(), 'ACTIVE')).toEqual([]);
    expect(statuses(at(5 * HOUR).getTime(), 'EXPIRED')).toEqual([
      ['hold-4', 'EXPIRED'],
      ['hold-3', 'EXPIRED'],
    ]);
    expect(holds.hold('hold-4', at(DAY).getTime())?.closedAt).toEqual(at(5 * HOUR));
  });

  it('pages by position, and says which workspace a hold belongs to', () => {
    const first = holds.page(WORKSPACE, { first: 2, now: 0 });
    expect(first.holds.map((view) => view.id)).toEqual(['hold-4', 'hold-3']);
    expect(first.hasNextPage).toBe(true);
    const second = holds.page(WORKSPACE, { first: 2, now: 0, before: first.holds[1]?.position });
    expect(second.holds.map((view) => view.id)).toEqual(['hold-2', 'hold-1']);
    expect(second.hasNextPage).toBe(false);
    expect(holds.workspaceOfHold('hold-2')).toBe(WORKSPACE);
    expect(holds.workspaceOfHold('no-such-hold')).toBeUndefined();
  });
});

describe('the ledger of holds', () => {
  const { ledger } = readModels(history);
  const entries = [...ledger.entries(WORKSPACE)];

  it('shows each reservation and outcome, with balanceAfter the credits left to spend', () => {
    expect(
      entries.map((entry) => [entry.type, entry.credits, entry.balanceAfter, entry.holdId, entry.spentCredits]),
    ).toEqual([
      ['PURCHASE', 2000, 2000, undefined, 0],
      ['HOLD', -500, 1500, 'hold-1', 0],
      ['HOLD', -300, 1200, 'hold-2', 0],
      ['HOLD', -200, 1000, 'hold-3', 0],
      ['HOLD', -100, 900, 'hold-4', 0],
      ['HOLD_SETTLED', 200, 1100, 'hold-1', 300],
      ['HOLD_RELEASED', 300, 1400, 'hold-2', 0],
      ['HOLD_EXPIRED', 200, 1600, 'hold-3', 0],
    ]);
  });

  it('records who settled and the grants each entry changed, and the release’s reason', () => {
    const byType = (type: string) => entries.find((entry) => entry.type === type);
    // Of the 500 held, 300 paid for the action (the HOLD entry's grants) and 200 went back.
    expect(byType('HOLD_SETTLED')).toMatchObject({
      action: 'ORG_CHART_GENERATION',
      units: 3,
      actorId: 'service-1',
      spentCredits: 300,
      grants: p(200),
    });
    expect(byType('HOLD_RELEASED')).toMatchObject({ reference: 'cancelled', actorId: 'service-1', grants: p(300) });
    expect(byType('HOLD_EXPIRED')).toMatchObject({ actorId: 'hold-expiry', grants: p(200) });
  });

  it('names the grant the rest went back to, not the one that paid, when they differ', () => {
    const included = [draw('allowance-1', 'INCLUDED', 300)];
    const purchasedPart = [draw('purchase-1', 'PURCHASED', 200)];
    const mixed = readModels([
      purchased({ credits: 2000 }),
      reserved({
        holdId: 'hold-9',
        idempotencyKey: 'key-9',
        units: 5,
        drawdown: [...included, ...purchasedPart],
        availableAfter: 1500,
      }),
      settled({ holdId: 'hold-9', units: 3, fromHold: included, returned: purchasedPart, availableAfter: 1700 }),
    ]).ledger;
    const entry = [...mixed.entries(WORKSPACE)].find((each) => each.type === 'HOLD_SETTLED');
    expect(entry).toMatchObject({ credits: 200, source: 'PURCHASED', grants: purchasedPart, spentCredits: 300 });
    // Past the hold, the difference came from the balance: that grant is the one it changed.
    const excess = [draw('purchase-1', 'PURCHASED', 100)];
    const beyond = readModels([
      purchased({ credits: 2000 }),
      reserved({ holdId: 'hold-9', idempotencyKey: 'key-9', units: 5, drawdown: p(500), availableAfter: 1500 }),
      settled({
        holdId: 'hold-9',
        units: 6,
        fromHold: p(500),
        fromBalance: excess,
        returned: [],
        availableAfter: 1400,
      }),
    ]).ledger;
    expect([...beyond.entries(WORKSPACE)].find((each) => each.type === 'HOLD_SETTLED')).toMatchObject({
      credits: -100,
      source: 'PURCHASED',
      grants: excess,
      spentCredits: 600,
    });
  });

  it('counts a settled hold’s real cost as a spend in usage, and its reservation not at all', () => {
    expect(ledger.usage(WORKSPACE, at(0), at(DAY), 'ACTION')).toEqual([
      { key: 'ORG_CHART_GENERATION', credits: 300, count: 1 },
    ]);
  });
});

describe('the balance read model of holds', () => {
  const { balances } = readModels(history);

  it('keeps the holds still reserving, with where their credits are held, and held per grant', () => {
    expect(balances.holds(WORKSPACE)).toEqual([
      { holdId: 'hold-4', expiresAt: at(5 * HOUR).getTime(), drawdown: p(100) },
    ]);
    expect(balances.grants(WORKSPACE)).toMatchObject([{ id: 'purchase-1', held: 100, consumed: 300, remaining: 1600 }]);
  });

  it('keeps what a returning credit depends on: the purchase’s money', () => {
    expect(balances.returnTerms(WORKSPACE).get('purchase-1')).toEqual({
      replaced: false,
      money: { price: { amount: 4900, currency: 'USD' }, amountReturned: 0, creditsOwed: 0 },
    });
  });

  it('names the workspace for the expiry sweeper once a hold is due, not before', () => {
    expect(balances.workspacesWithDueExpiries(at(5 * HOUR).getTime() - 1, 10)).toEqual([]);
    expect(balances.workspacesWithDueExpiries(at(5 * HOUR).getTime(), 10)).toEqual([WORKSPACE]);
  });
});
