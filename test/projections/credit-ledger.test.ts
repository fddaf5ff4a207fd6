/**
 * The ledger read model: one entry per event that moves credits, with its signed credits and the
 * balance after it; pages newest first; usage net of refunded spends.
 */
import type { Database } from 'better-sqlite3';
import { creditLedgerProjection } from '../../projections/credit-ledger';
import { CreditLedgerReader } from '../../projections/credit-ledger-reader';
import { allowance, at, consumed, DAY, draw, expired, granted, HOUR, purchased, WORKSPACE } from '../domain/builders';
import {
  checkoutStarted,
  disputeClosed,
  disputeOpened,
  refundFailed,
  refundPending,
  refundRequested,
  spendRefunded,
} from '../domain/payment-builders';
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
          money: undefined,
        },
      ],
      hasNextPage: true,
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

describe('credit ledger: pages', () => {
  const history = [allowance(), spent('spend-1', 10, { hour: 1 }), spent('spend-2', 20, { hour: 2 }), granted()];
  const page = (options: Parameters<CreditLedgerReader['page']>[1]) => (db: Database) => {
    const { entries, hasNextPage } = reader(db).page(WORKSPACE, options);
    return { positions: entries.map((entry) => entry.position), hasNextPage };
  };

  it('runs newest first and says whether older entries follow', () => {
    ledger.given(...history).then(page({ first: 2 }), { positions: [4n, 3n], hasNextPage: true });
    ledger.given(...history).then(page({ first: 2, before: 3n }), { positions: [2n, 1n], hasNextPage: false });
  });

  it('filters by entry type and by time, from inclusive and to exclusive', () => {
    ledger.given(...history).then(page({ first: 10, types: ['CONSUMPTION'] }), {
      positions: [3n, 2n],
      hasNextPage: false,
    });
    ledger.given(...history).then(page({ first: 10, from: at(HOUR), to: at(2 * HOUR) }), {
      positions: [2n],
      hasNextPage: false,
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
