/**
 * The ledger read model: one entry per event that moves credits, with its signed credits and the
 * balance after it; pages newest first; usage net of refunded spends.
 */
import type { Database } from 'better-sqlite3';
import { creditLedgerProjection, type LedgerEntryType } from '../../projections/credit-ledger';
import { CreditLedgerReader } from '../../projections/credit-ledger-reader';
import { allowance, at, consumed, DAY, draw, expired, granted, HOUR, purchased, WORKSPACE } from '../domain/builders';
import {
  checkoutStarted,
  disputeClosed,
  disputeOpened,
  legacyRefunded,
  refundFailed,
  refundFailingAfterLapse,
  refundPending,
  refundRequested,
  refundSucceeded,
  spendRefunded,
} from '../domain/payment-builders';
import { released, reserved, settled } from '../domain/hold-builders';
import { by, inWorkspace, projection } from './spec';

const ledger = projection(creditLedgerProjection);
const ENTRY_COLUMNS = 'SELECT position, type, credits, balance_after, source, reference FROM ledger_entries';
const reader = (db: Database) => new CreditLedgerReader(db);

const spent = (consumptionId: string, credits: number, f: { action?: 'ORG_CHART_SYNC'; hour?: number } = {}) =>
  consumed({
    consumptionId,
    idempotencyKey: consumptionId,
    credits,
    drawdown: [draw('allowance-1', 'INCLUDED', credits)],
    availableAfter: 0,
    ...(f.action && { action: f.action }),
    consumedAt: at((f.hour ?? 1) * HOUR),
  });

describe('credit ledger: entries', () => {
  it('records each event that moves credits as an entry, signed, with the balance after it', () => {
    ledger
      .given(
        allowance({ credits: 1000 }),
        purchased({ credits: 500 }),
        granted({ credits: 100 }),
        spent('spend-1', 120),
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: at(DAY) }),
      )
      .thenRows(`${ENTRY_COLUMNS} ORDER BY position`, [
        {
          position: 1,
          type: 'PLAN_ALLOWANCE',
          credits: 1000,
          balance_after: 1000,
          source: 'INCLUDED',
          reference: 'pro',
        },
        {
          position: 2,
          type: 'PURCHASE',
          credits: 500,
          balance_after: 1500,
          source: 'PURCHASED',
          reference: 'cs_pay_1',
        },
        {
          position: 3,
          type: 'PROMOTIONAL_GRANT',
          credits: 100,
          balance_after: 1600,
          source: 'PROMOTIONAL',
          reference: 'Goodwill for a failed org chart run',
        },
        { position: 4, type: 'CONSUMPTION', credits: -120, balance_after: 1480, source: 'INCLUDED', reference: null },
        {
          position: 5,
          type: 'EXPIRY',
          credits: -100,
          balance_after: 1380,
          source: 'PROMOTIONAL',
          reference: 'EXPIRED',
        },
      ]);
  });

  it('records a spend with its action, who spent, the caller’s reference and every grant that paid', () => {
    const spend = consumed({
      credits: 120,
      drawdown: [draw('allowance-1', 'INCLUDED', 100), draw('promo-1', 'PROMOTIONAL', 20)],
      availableAfter: 980,
      actorId: 'user-7',
      reference: 'run-42',
      units: 2,
      creditsPerUnit: 60,
    });
    ledger.given(by('admin-1', allowance()), granted(), spend).then((db) => reader(db).page(WORKSPACE, { first: 1 }), {
      entries: [
        {
          id: 'event-3',
          position: 3n,
          workspaceId: WORKSPACE,
          type: 'CONSUMPTION',
          occurredAt: at(0),
          credits: -120,
          balanceAfter: 980,
          source: undefined,
          action: 'ACTION_PLAN_GENERATION',
          units: 2,
          actorId: 'user-7',
          reference: 'run-42',
          grants: [
            { grantId: 'allowance-1', source: 'INCLUDED', credits: 100 },
            { grantId: 'promo-1', source: 'PROMOTIONAL', credits: 20 },
          ],
          refundedCredits: 0,
          holdId: undefined,
          spentCredits: 120,
          money: undefined,
          consumptionId: 'spend-1',
          purchaseId: undefined,
          packageId: undefined,
          packageName: undefined,
          refundId: undefined,
          refundStatus: undefined,
          disputeId: undefined,
          planId: undefined,
          planName: undefined,
          reason: undefined,
        },
      ],
      hasNextPage: true,
      hasPreviousPage: false,
    });
  });

  it('takes who caused a grant from the metadata the command side recorded', () => {
    ledger
      .given(by('admin-1', allowance()), granted())
      .thenRows('SELECT type, actor_id FROM ledger_entries ORDER BY position', [
        { type: 'PLAN_ALLOWANCE', actor_id: 'admin-1' },
        { type: 'PROMOTIONAL_GRANT', actor_id: null },
      ]);
  });

  it('records refunds, their reversal and disputes against the purchase’s grant', () => {
    ledger
      .given(
        purchased({ credits: 2000 }),
        refundRequested({ credits: 500 }),
        refundFailed({ credits: 500 }),
        disputeOpened(),
        disputeClosed({ outcome: 'LOST', creditsTakenBack: 2000 }),
      )
      .thenRows(`${ENTRY_COLUMNS} ORDER BY position`, [
        {
          position: 1,
          type: 'PURCHASE',
          credits: 2000,
          balance_after: 2000,
          source: 'PURCHASED',
          reference: 'cs_pay_1',
        },
        {
          position: 2,
          type: 'PURCHASE_REFUND',
          credits: -500,
          balance_after: 1500,
          source: 'PURCHASED',
          reference: 'cs_pay_1',
        },
        {
          position: 3,
          type: 'PURCHASE_REFUND_REVERSAL',
          credits: 500,
          balance_after: 2000,
          source: 'PURCHASED',
          reference: 'cs_pay_1',
        },
        {
          position: 4,
          type: 'DISPUTE_OPENED',
          credits: 0,
          balance_after: 2000,
          source: 'PURCHASED',
          reference: 'cs_pay_1',
        },
        {
          position: 5,
          type: 'DISPUTE_CLOSED',
          credits: -2000,
          balance_after: 0,
          source: 'PURCHASED',
          reference: 'cs_pay_1',
        },
      ]);
  });

  it('gives back, in a failed refund’s reversal, the credits that had lapsed for its money too', () => {
    ledger
      .given(...refundFailingAfterLapse({ credits: 100, spent: 60, price: 1000 }))
      .thenRows(`SELECT type, credits, balance_after FROM ledger_entries ORDER BY position`, [
        { type: 'PURCHASE', credits: 100, balance_after: 100 },
        { type: 'CONSUMPTION', credits: -60, balance_after: 40 },
        { type: 'PURCHASE_REFUND', credits: -40, balance_after: 0 },
        { type: 'CONSUMPTION_REFUND', credits: 60, balance_after: 60 },
        { type: 'EXPIRY', credits: -60, balance_after: 0 },
        { type: 'PURCHASE_REFUND_REVERSAL', credits: 100, balance_after: 100 },
      ]);
  });

  it('carries the money of a purchase, its refunds, a failed refund and a lost dispute, signed as credits are', () => {
    const USD = (amount: number) => ({ amount, currency: 'USD' });
    ledger
      .given(
        allowance(),
        purchased({ credits: 2000, price: USD(18000) }),
        refundRequested({ credits: 500, amount: USD(4500) }),
        refundFailed({ credits: 500, amount: USD(4500) }),
        refundRequested({ refundId: 'refund-2', credits: 1000, amount: USD(9000) }),
        disputeOpened(),
        disputeClosed({ outcome: 'LOST', creditsTakenBack: 1000, amountLost: USD(9000) }),
        purchased({ grantId: 'purchase-2', purchaseId: 'cs_pay_2', credits: 500, price: USD(5000) }),
        disputeClosed({ disputeId: 'dp_2', purchaseId: 'cs_pay_2', grantId: 'purchase-2' }),
      )
      .thenRows('SELECT type, credits, amount, currency FROM ledger_entries ORDER BY position', [
        { type: 'PLAN_ALLOWANCE', credits: 1000, amount: null, currency: null },
        { type: 'PURCHASE', credits: 2000, amount: 18000, currency: 'USD' },
        { type: 'PURCHASE_REFUND', credits: -500, amount: -4500, currency: 'USD' },
        { type: 'PURCHASE_REFUND_REVERSAL', credits: 500, amount: 4500, currency: 'USD' },
        { type: 'PURCHASE_REFUND', credits: -1000, amount: -9000, currency: 'USD' },
        { type: 'DISPUTE_OPENED', credits: 0, amount: null, currency: null },
        { type: 'DISPUTE_CLOSED', credits: -1000, amount: -9000, currency: 'USD' },
        { type: 'PURCHASE', credits: 500, amount: 5000, currency: 'USD' },
        { type: 'DISPUTE_CLOSED', credits: 0, amount: 0, currency: 'USD' },
      ]);
  });

  it('reads an entry’s money back as the domain’s Money', () => {
    ledger
      .given(purchased({ price: { amount: 5000, currency: 'USD' } }), granted())
      .then(
        (db) => [...reader(db).entries(WORKSPACE)].map((entry) => entry.money),
        [{ amount: 5000, currency: 'USD' }, undefined],
      );
  });

  it('records a spend given back as an entry of its own, and marks the spend with what was given back', () => {
    ledger
      .given(allowance(), spent('spend-1', 40), spendRefunded([draw('allowance-1', 'INCLUDED', 40)]))
      .thenRows(
        'SELECT type, credits, balance_after, reference, refunded_credits FROM ledger_entries ORDER BY position',
        [
          { type: 'PLAN_ALLOWANCE', credits: 1000, balance_after: 1000, reference: 'pro', refunded_credits: 0 },
          { type: 'CONSUMPTION', credits: -40, balance_after: 960, reference: null, refunded_credits: 40 },
          { type: 'CONSUMPTION_REFUND', credits: 40, balance_after: 1000, reference: 'spend-1', refunded_credits: 0 },
        ],
      );
  });

  it('keeps where each spend sits in its stream, for the command side’s lookups', () => {
    ledger
      .given(allowance(), granted(), spent('spend-1', 40))
      .thenRows("SELECT consumption_id, stream_revision FROM ledger_entries WHERE type = 'CONSUMPTION'", [
        { consumption_id: 'spend-1', stream_revision: 2 },
      ]);
  });

  it('runs a balance per workspace, and makes no entry of events that move no credits', () => {
    ledger
      .given(
        allowance({ credits: 1000 }),
        inWorkspace('ws-2', granted({ credits: 10 })),
        checkoutStarted(),
        refundPending(),
        spent('spend-1', 100),
      )
      .thenRows('SELECT workspace_id, type, balance_after FROM ledger_entries ORDER BY position', [
        { workspace_id: WORKSPACE, type: 'PLAN_ALLOWANCE', balance_after: 1000 },
        { workspace_id: 'ws-2', type: 'PROMOTIONAL_GRANT', balance_after: 10 },
        { workspace_id: WORKSPACE, type: 'CONSUMPTION', balance_after: 900 },
      ]);
  });
});

describe('credit ledger: what an entry is about', () => {
  const LINKS =
    'SELECT type, consumption_id, purchase_id, package_id, package_name, refund_id, refund_status, dispute_id, plan_id, plan_name, reason FROM ledger_entries ORDER BY position';
  const none = {
    consumption_id: null,
    purchase_id: null,
    package_id: null,
    package_name: null,
    refund_id: null,
    refund_status: null,
    dispute_id: null,
    plan_id: null,
    plan_name: null,
    reason: null,
  };

  it('names the plan, the spend, the grant’s reason, the expiry’s reason and the spend given back', () => {
    ledger
      .given(
        allowance({ planId: 'growth', planName: 'Growth' }),
        granted({ reason: 'Goodwill for a failed org chart run' }),
        spent('spend-1', 40),
        spendRefunded([draw('allowance-1', 'INCLUDED', 40)]),
        expired({
          grantId: 'promo-1',
          source: 'PROMOTIONAL',
          credits: 100,
          expiredAt: at(DAY),
          reason: 'PERIOD_REPLACED',
        }),
      )
      .thenRows(LINKS, [
        { ...none, type: 'PLAN_ALLOWANCE', plan_id: 'growth', plan_name: 'Growth' },
        { ...none, type: 'PROMOTIONAL_GRANT', reason: 'Goodwill for a failed org chart run' },
        { ...none, type: 'CONSUMPTION', consumption_id: 'spend-1' },
        { ...none, type: 'CONSUMPTION_REFUND', consumption_id: 'spend-1', reason: 'org chart run failed' },
        { ...none, type: 'EXPIRY', reason: 'PERIOD_REPLACED' },
      ]);
  });

  it('names the purchase and its package on the purchase and on every later entry of it', () => {
    const pack = { purchase_id: 'cs_pay_1', package_id: 'credits-2000', package_name: '2,000 credits' };
    ledger
      .given(
        purchased({ credits: 2000, packageId: 'credits-2000', packageName: '2,000 credits' }),
        refundRequested({ credits: 500, reason: 'bought twice' }),
        refundFailed({ credits: 500, status: 'CANCELED', reason: 'the card was closed' }),
        disputeOpened({ reason: 'fraudulent' }),
        disputeClosed({ outcome: 'WON' }),
      )
      .thenRows(LINKS, [
        { ...none, ...pack, type: 'PURCHASE' },
        {
          ...none,
          ...pack,
          type: 'PURCHASE_REFUND',
          refund_id: 'refund-1',
          refund_status: 'CANCELED',
          reason: 'bought twice',
        },
        {
          ...none,
          ...pack,
          type: 'PURCHASE_REFUND_REVERSAL',
          refund_id: 'refund-1',
          refund_status: 'CANCELED',
          reason: 'the card was closed',
        },
        { ...none, ...pack, type: 'DISPUTE_OPENED', dispute_id: 'dp_1', reason: 'fraudulent' },
        { ...none, ...pack, type: 'DISPUTE_CLOSED', dispute_id: 'dp_1' },
      ]);
  });

  it('keeps a refund entry’s status where the refund stands, refund by refund and workspace by workspace', () => {
    ledger
      .given(
        purchased({ credits: 2000 }),
        refundRequested({ credits: 500 }),
        refundRequested({ refundId: 'refund-2', credits: 500 }),
        inWorkspace('ws-2', purchased({ credits: 2000 })),
        inWorkspace('ws-2', refundRequested({ credits: 500 })),
        refundPending({ status: 'REQUIRES_ACTION' }),
        refundPending({ refundId: 'refund-2' }),
        refundSucceeded({ refundId: 'refund-2' }),
      )
      .thenRows(
        "SELECT workspace_id, refund_id, refund_status FROM ledger_entries WHERE type = 'PURCHASE_REFUND' ORDER BY position",
        [
          { workspace_id: WORKSPACE, refund_id: 'refund-1', refund_status: 'REQUIRES_ACTION' },
          { workspace_id: WORKSPACE, refund_id: 'refund-2', refund_status: 'SUCCEEDED' },
          { workspace_id: 'ws-2', refund_id: 'refund-1', refund_status: 'REQUESTED' },
        ],
      );
  });

  it('reads a release 0.x refund, already made at the provider, as a refund that succeeded', () => {
    ledger
      .given(purchased(), legacyRefunded({ refundId: 'refund-0', reason: 'duplicate' }))
      .thenRows(
        "SELECT package_name, refund_id, refund_status, reason FROM ledger_entries WHERE type = 'PURCHASE_REFUND'",
        [{ package_name: '500 credits', refund_id: 'refund-0', refund_status: 'SUCCEEDED', reason: 'duplicate' }],
      );
  });

  it('gives back a spend once, however many entries name it', () => {
    ledger
      .given(allowance(), spent('spend-1', 40), spendRefunded([draw('allowance-1', 'INCLUDED', 40)]))
      .thenRows('SELECT type, consumption_id, refunded_credits FROM ledger_entries WHERE consumption_id IS NOT NULL', [
        { type: 'CONSUMPTION', consumption_id: 'spend-1', refunded_credits: 40 },
        { type: 'CONSUMPTION_REFUND', consumption_id: 'spend-1', refunded_credits: 0 },
      ]);
  });

  it('names the spend a settled hold was recorded as, gives it back once, and says why a hold was released', () => {
    const a = (credits: number) => [draw('allowance-1', 'INCLUDED', credits)];
    ledger
      .given(
        allowance(),
        reserved({ drawdown: a(500), availableAfter: 500 }),
        settled({ fromHold: a(300), returned: a(200), availableAfter: 700, consumptionId: 'settle-1' }),
        spendRefunded(a(300), { consumptionId: 'settle-1' }),
        reserved({ holdId: 'hold-2', idempotencyKey: 'k2', drawdown: a(100), availableAfter: 900 }),
        released(a(100), { holdId: 'hold-2', reason: 'the run was cancelled' }),
      )
      .thenRows('SELECT type, consumption_id, refunded_credits, reason FROM ledger_entries ORDER BY position', [
        { type: 'PLAN_ALLOWANCE', consumption_id: null, refunded_credits: 0, reason: null },
        { type: 'HOLD', consumption_id: null, refunded_credits: 0, reason: null },
        { type: 'HOLD_SETTLED', consumption_id: 'settle-1', refunded_credits: 300, reason: null },
        { type: 'CONSUMPTION_REFUND', consumption_id: 'settle-1', refunded_credits: 0, reason: 'org chart run failed' },
        { type: 'HOLD', consumption_id: null, refunded_credits: 0, reason: null },
        { type: 'HOLD_RELEASED', consumption_id: null, refunded_credits: 0, reason: 'the run was cancelled' },
      ]);
  });

  it('reads the links back as the entry’s', () => {
    ledger.given(allowance({ planId: 'growth', planName: 'Growth' }), purchased(), refundRequested()).then(
      (db) =>
        [...reader(db).entries(WORKSPACE)].map(
          ({ type, planName, purchaseId, packageName, refundId, refundStatus, reason }) => ({
            type,
            planName,
            purchaseId,
            packageName,
            refundId,
            refundStatus,
            reason,
          }),
        ),
      [
        {
          type: 'PLAN_ALLOWANCE',
          planName: 'Growth',
          purchaseId: undefined,
          packageName: undefined,
          refundId: undefined,
          refundStatus: undefined,
          reason: undefined,
        },
        {
          type: 'PURCHASE',
          planName: undefined,
          purchaseId: 'cs_pay_1',
          packageName: '500 credits',
          refundId: undefined,
          refundStatus: undefined,
          reason: undefined,
        },
        {
          type: 'PURCHASE_REFUND',
          planName: undefined,
          purchaseId: 'cs_pay_1',
          packageName: '500 credits',
          refundId: 'refund-1',
          refundStatus: 'REQUESTED',
          reason: 'customer request',
        },
      ],
    );
  });
});

describe('credit ledger: pages', () => {
  const history = [allowance(), spent('spend-1', 10, { hour: 1 }), spent('spend-2', 20, { hour: 2 }), granted()];
  const page = (options: Parameters<CreditLedgerReader['page']>[1]) => (db: Database) => {
    const { entries, hasNextPage, hasPreviousPage } = reader(db).page(WORKSPACE, options);
    return { positions: entries.map((entry) => entry.position), hasNextPage, hasPreviousPage };
  };

  it('runs newest first and says whether older entries follow, and newer ones come before', () => {
    ledger
      .given(...history)
      .then(page({ first: 2 }), { positions: [4n, 3n], hasNextPage: true, hasPreviousPage: false });
    ledger.given(...history).then(page({ first: 2, olderThan: 3n }), {
      positions: [2n, 1n],
      hasNextPage: false,
      hasPreviousPage: true,
    });
  });

  it('pages backwards: the last entries before a position, still newest first', () => {
    ledger
      .given(...history)
      .then(page({ last: 2 }), { positions: [2n, 1n], hasNextPage: false, hasPreviousPage: true });
    ledger.given(...history).then(page({ last: 2, newerThan: 1n }), {
      positions: [3n, 2n],
      hasNextPage: true,
      hasPreviousPage: true,
    });
    ledger.given(...history).then(page({ last: 5, newerThan: 2n }), {
      positions: [4n, 3n],
      hasNextPage: true,
      hasPreviousPage: false,
    });
  });

  it('pages between two positions from either end', () => {
    ledger.given(...history).then(page({ first: 1, olderThan: 4n, newerThan: 1n }), {
      positions: [3n],
      hasNextPage: true,
      hasPreviousPage: true,
    });
    ledger.given(...history).then(page({ last: 1, olderThan: 4n, newerThan: 1n }), {
      positions: [2n],
      hasNextPage: true,
      hasPreviousPage: true,
    });
  });

  it('says on each side whether entries lie beyond, whichever cursors bound the page', () => {
    // Between two cursors, the whole window on the page: older and newer entries lie outside it.
    ledger.given(...history).then(page({ first: 5, olderThan: 4n, newerThan: 1n }), {
      positions: [3n, 2n],
      hasNextPage: true,
      hasPreviousPage: true,
    });
    ledger.given(...history).then(page({ last: 5, olderThan: 4n, newerThan: 1n }), {
      positions: [3n, 2n],
      hasNextPage: true,
      hasPreviousPage: true,
    });
    // `first` with `before`: the older entries past `before` follow the page.
    ledger.given(...history).then(page({ first: 5, newerThan: 2n }), {
      positions: [4n, 3n],
      hasNextPage: true,
      hasPreviousPage: false,
    });
    // `last` with `after`: the newer entries past `after` come before the page.
    ledger.given(...history).then(page({ last: 5, olderThan: 3n }), {
      positions: [2n, 1n],
      hasNextPage: false,
      hasPreviousPage: true,
    });
  });

  it('says there is nothing beyond a cursor when no entry of the filter lies there', () => {
    // Position 4 is a grant: past it, in the newer direction, no CONSUMPTION entry lies.
    ledger.given(...history).then(page({ first: 5, olderThan: 4n, types: ['CONSUMPTION'] }), {
      positions: [3n, 2n],
      hasNextPage: false,
      hasPreviousPage: false,
    });
    ledger.given(...history).then(page({ last: 5, newerThan: 1n, types: ['CONSUMPTION'] }), {
      positions: [3n, 2n],
      hasNextPage: false,
      hasPreviousPage: false,
    });
  });

  it('merges the entries of several types in the log’s order, paging both ways and within a time window', () => {
    const types: LedgerEntryType[] = ['PLAN_ALLOWANCE', 'CONSUMPTION'];
    ledger.given(...history).then(page({ first: 2, types }), {
      positions: [3n, 2n],
      hasNextPage: true,
      hasPreviousPage: false,
    });
    ledger.given(...history).then(page({ first: 2, olderThan: 3n, types }), {
      positions: [2n, 1n],
      hasNextPage: false,
      hasPreviousPage: true,
    });
    ledger.given(...history).then(page({ last: 2, types }), {
      positions: [2n, 1n],
      hasNextPage: false,
      hasPreviousPage: true,
    });
    // The grant and the allowance were recorded before the first hour: only the two spends are in it.
    ledger.given(...history).then(page({ first: 5, types: [...types, 'PROMOTIONAL_GRANT'], from: at(HOUR) }), {
      positions: [3n, 2n],
      hasNextPage: false,
      hasPreviousPage: false,
    });
  });

  it('filters by entry type and by time, from inclusive and to exclusive', () => {
    ledger.given(...history).then(page({ first: 10, types: ['CONSUMPTION'] }), {
      positions: [3n, 2n],
      hasNextPage: false,
      hasPreviousPage: false,
    });
    // Named 40,000 times, past SQLite's limit on variables: asked for once.
    ledger.given(...history).then(page({ first: 10, types: Array<'CONSUMPTION'>(40_000).fill('CONSUMPTION') }), {
      positions: [3n, 2n],
      hasNextPage: false,
      hasPreviousPage: false,
    });
    ledger.given(...history).then(page({ first: 10, from: at(HOUR), to: at(2 * HOUR) }), {
      positions: [2n],
      hasNextPage: false,
      hasPreviousPage: false,
    });
  });

  it('streams every entry oldest first, of one workspace or of all', () => {
    ledger.given(allowance(), inWorkspace('ws-2', granted()), spent('spend-1', 10)).then(
      (db) => ({
        one: [...reader(db).entries(WORKSPACE)].map((entry) => entry.position),
        all: [...reader(db).entries(undefined)].map((entry) => entry.position),
      }),
      { one: [1n, 3n], all: [1n, 2n, 3n] },
    );
  });
});

describe('credit ledger: usage', () => {
  const history = [
    allowance(),
    spent('spend-1', 10, { hour: 1 }),
    spent('spend-2', 20, { hour: 2, action: 'ORG_CHART_SYNC' }),
    spent('spend-3', 30, { hour: 3 }),
    spendRefunded([draw('allowance-1', 'INCLUDED', 30)], { consumptionId: 'spend-3', at: at(4 * HOUR) }),
  ];

  it('adds up spends per action, net of spends given back', () => {
    ledger.given(...history).then(
      (db) => reader(db).usage(WORKSPACE, at(0), at(DAY), 'ACTION'),
      [
        { key: 'ACTION_PLAN_GENERATION', credits: 10, count: 1 },
        { key: 'ORG_CHART_SYNC', credits: 20, count: 1 },
      ],
    );
  });

  it('adds up spends per member and per UTC day, within [from, to)', () => {
    ledger
      .given(...history)
      .then((db) => reader(db).usage(WORKSPACE, at(0), at(DAY), 'MEMBER'), [{ key: 'user-1', credits: 30, count: 2 }]);
    ledger
      .given(...history)
      .then(
        (db) => reader(db).usage(WORKSPACE, at(HOUR), at(2 * HOUR), 'DAY'),
        [{ key: '2025-01-01', credits: 10, count: 1 }],
      );
  });
});
