/**
 * The balance read model: each grant of a workspace with its counters, and the current plan period,
 * from the workspace's events. The breakdown itself is the domain's (test/domain); this is what it
 * is computed from.
 */
import type { Database } from 'better-sqlite3';
import { workspaceBalanceProjection, WorkspaceBalanceReader } from '../../projections/workspace-balance';
import type { Grant } from '../../src/domain/credits';
import { allowance, at, consumed, DAY, draw, expired, granted, purchased, WORKSPACE } from '../domain/builders';
import {
  disputeClosed,
  disputeOpened,
  legacyRefunded,
  refundFailed,
  refundFailingAfterLapse,
  refundRequested,
  spendRefunded,
} from '../domain/payment-builders';
import { openReadModelDb } from '../../projections/read-model-db';
import { inWorkspace, projection, recorded, toLog, type Given } from './spec';

const balance = projection(workspaceBalanceProjection);
const grantsOf = (workspaceId: string) => (db: Database) => new WorkspaceBalanceReader(db).grants(workspaceId);

/** A grant as the reader returns it: untouched unless said otherwise. */
const grant = (fields: Pick<Grant, 'id' | 'source' | 'granted' | 'seq'> & Partial<Grant>): Grant => ({
  remaining: fields.granted,
  consumed: 0,
  expired: 0,
  refunded: 0,
  held: 0,
  frozen: false,
  expiresAt: undefined,
  grantedAt: at(0).getTime(),
  ...fields,
});

describe('workspace balance: grants', () => {
  it('holds every grant with what it granted, in the order they were made', () => {
    balance
      .given(allowance({ credits: 1000 }), purchased({ credits: 500, expiresAt: at(365 * DAY) }), granted())
      .then(grantsOf(WORKSPACE), [
        grant({ id: 'allowance-1', source: 'INCLUDED', granted: 1000, seq: 1, expiresAt: at(30 * DAY).getTime() }),
        grant({ id: 'purchase-1', source: 'PURCHASED', granted: 500, seq: 2, expiresAt: at(365 * DAY).getTime() }),
        grant({ id: 'promo-1', source: 'PROMOTIONAL', granted: 100, seq: 3 }),
      ]);
  });

  it('takes a spend from each grant that paid for it, and gives it back when the spend is refunded', () => {
    const drawdown = [draw('allowance-1', 'INCLUDED', 100), draw('promo-1', 'PROMOTIONAL', 20)];
    const spent = consumed({ credits: 120, drawdown, availableAfter: 980 });
    const allowanceGrant = { id: 'allowance-1', source: 'INCLUDED', granted: 1000, seq: 1 } as const;
    const promoGrant = { id: 'promo-1', source: 'PROMOTIONAL', granted: 100, seq: 2 } as const;
    const allowanceExpiry = at(30 * DAY).getTime();
    balance
      .given(allowance(), granted(), spent)
      .then(grantsOf(WORKSPACE), [
        grant({ ...allowanceGrant, remaining: 900, consumed: 100, expiresAt: allowanceExpiry }),
        grant({ ...promoGrant, remaining: 80, consumed: 20 }),
      ]);
    balance
      .given(allowance(), granted(), spent, spendRefunded(drawdown))
      .then(grantsOf(WORKSPACE), [grant({ ...allowanceGrant, expiresAt: allowanceExpiry }), grant(promoGrant)]);
  });

  it('counts what expired apart from what was spent', () => {
    balance
      .given(
        granted({ credits: 100, expiresAt: at(DAY) }),
        consumed({ credits: 30, drawdown: [draw('promo-1', 'PROMOTIONAL', 30)], availableAfter: 70 }),
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 70, expiredAt: at(DAY) }),
      )
      .then(grantsOf(WORKSPACE), [
        grant({
          id: 'promo-1',
          source: 'PROMOTIONAL',
          granted: 100,
          seq: 1,
          remaining: 0,
          consumed: 30,
          expired: 70,
          expiresAt: at(DAY).getTime(),
        }),
      ]);
  });

  it('puts back, when a refund fails, the spent credits given back meanwhile that had lapsed for its money', () => {
    const purchase = { id: 'purchase-1', source: 'PURCHASED', granted: 100, seq: 1 } as const;
    balance
      .given(...refundFailingAfterLapse({ credits: 100, spent: 60, price: 1000 }))
      .then(grantsOf(WORKSPACE), [grant(purchase)]);
  });

  it('takes refunded credits out of the purchase at the request, and puts them back when the refund fails', () => {
    const purchase = { id: 'purchase-1', source: 'PURCHASED', granted: 2000, seq: 1 } as const;
    balance
      .given(purchased({ credits: 2000 }), refundRequested({ credits: 1500 }))
      .then(grantsOf(WORKSPACE), [grant({ ...purchase, remaining: 500, refunded: 1500 })]);
    balance
      .given(purchased({ credits: 2000 }), refundRequested({ credits: 1500 }), refundFailed({ credits: 1500 }))
      .then(grantsOf(WORKSPACE), [grant(purchase)]);
  });

  it('reads release 0.x refunds (CreditPurchaseRefunded) like a refund requested', () => {
    balance
      .given(purchased(), legacyRefunded())
      .then(grantsOf(WORKSPACE), [
        grant({ id: 'purchase-1', source: 'PURCHASED', granted: 500, seq: 1, remaining: 300, refunded: 200 }),
      ]);
  });

  it('freezes a purchase under dispute, and unfreezes it with what a lost dispute took back', () => {
    const purchase = { id: 'purchase-1', source: 'PURCHASED', granted: 2000, seq: 1 } as const;
    balance
      .given(purchased({ credits: 2000 }), disputeOpened())
      .then(grantsOf(WORKSPACE), [grant({ ...purchase, frozen: true })]);
    balance
      .given(purchased({ credits: 2000 }), disputeOpened(), disputeClosed({ outcome: 'LOST', creditsTakenBack: 2000 }))
      .then(grantsOf(WORKSPACE), [grant({ ...purchase, remaining: 0, refunded: 2000 })]);
    balance
      .given(purchased({ credits: 2000 }), disputeOpened(), disputeClosed({ outcome: 'WON' }))
      .then(grantsOf(WORKSPACE), [grant(purchase)]);
  });

  it('keeps workspaces apart, and reads nothing from streams that are not a workspace', () => {
    balance
      .given(
        granted(),
        inWorkspace('ws-2', granted({ credits: 7 })),
        recorded('reactions-payments', 'CreditsGranted', { ...granted().data, grantId: 'not-a-grant' }),
      )
      .then((db) => ({ ws1: grantsOf(WORKSPACE)(db), ws2: grantsOf('ws-2')(db) }), {
        ws1: [grant({ id: 'promo-1', source: 'PROMOTIONAL', granted: 100, seq: 1 })],
        ws2: [grant({ id: 'promo-1', source: 'PROMOTIONAL', granted: 7, seq: 2 })],
      });
  });
});

describe('workspace balance: the plan period', () => {
  it('is the last allowance applied', () => {
    const next = allowance({
      grantId: 'allowance-2',
      planId: 'growth',
      planName: 'Growth',
      credits: 5000,
      periodStart: at(30 * DAY),
      periodEnd: at(60 * DAY),
    });
    balance.given(allowance(), next).then((db) => new WorkspaceBalanceReader(db).period(WORKSPACE), {
      grantId: 'allowance-2',
      planId: 'growth',
      planName: 'Growth',
      credits: 5000,
      periodStart: at(30 * DAY).getTime(),
      periodEnd: at(60 * DAY).getTime(),
    });
  });

  it('is undefined for a workspace with no allowance', () => {
    balance.given(granted()).then((db) => new WorkspaceBalanceReader(db).period(WORKSPACE), undefined);
  });
});

describe('workspace balance: due expiries, for the expiry sweeper', () => {
  it('names the workspaces holding credits past their expiry, and not those whose expiry is recorded', () => {
    balance
      .given(
        granted({ expiresAt: at(DAY) }),
        inWorkspace('ws-2', granted({ expiresAt: at(2 * DAY) })),
        inWorkspace('ws-3', granted({ expiresAt: at(DAY) })),
        inWorkspace('ws-3', expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: at(DAY) })),
        inWorkspace('ws-4', granted()),
      )
      .then((db) => new WorkspaceBalanceReader(db).workspacesWithDueExpiries(at(DAY).getTime(), 10), [WORKSPACE]);
  });
});

describe('workspace balance: the reader’s cache', () => {
  /**
   * The runner's commit of one batch as another thread makes it: the read model and its checkpoint
   * in one transaction, which the reader's owner hears of only later.
   */
  function committer(db: Database) {
    const handler = workspaceBalanceProjection.prepare(db);
    const checkpoint = db.prepare<[string]>(
      `INSERT INTO projection_checkpoints (name, version, position) VALUES ('workspace-balance', 3, ?)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
    );
    let position = 0n;
    return (...events: Given[]): bigint => {
      const log = toLog(events).map((event) => ({ ...event, position: (position += 1n) }));
      db.transaction(() => {
        for (const event of log) handler.apply(event);
        handler.endBatch?.();
        checkpoint.run(`${position}`);
      })();
      return position;
    };
  }

  function cachedReader() {
    const db = openReadModelDb(':memory:');
    workspaceBalanceProjection.migrate(db);
    const commit = committer(db);
    let seen: bigint | undefined;
    const reader = new WorkspaceBalanceReader(db, { cachedWorkspaces: 10, seen: () => seen });
    /** What the owner does on the thread's commit notice: forget the workspaces, then take the checkpoint. */
    const heard = (position: bigint, workspaces: string[]) => {
      reader.forget(workspaces);
      seen = position;
    };
    return { db, commit, reader, heard };
  }
  const remaining = (grants: readonly Grant[]) => grants.map((each) => each.remaining);

  it('serves a workspace from memory while nothing has been committed that its owner has not heard of', () => {
    const { commit, reader, heard } = cachedReader();
    heard(commit(granted({ credits: 100 })), [WORKSPACE]);
    const first = reader.grants(WORKSPACE);
    expect(remaining(first)).toEqual([100]);
    expect(reader.grants(WORKSPACE)).toBe(first);
  });

  it('reads the database once a batch is committed that its owner has not heard of yet, so it is never behind the other read models', () => {
    const { commit, reader, heard } = cachedReader();
    heard(commit(granted({ credits: 100 })), [WORKSPACE]);
    expect(remaining(reader.grants(WORKSPACE))).toEqual([100]);
    // Committed on the projection thread; the notice is still on its way.
    const spent = commit(consumed({ credits: 30, drawdown: [draw('promo-1', 'PROMOTIONAL', 30)], availableAfter: 70 }));
    expect(remaining(reader.grants(WORKSPACE))).toEqual([70]);
    heard(spent, [WORKSPACE]);
    const after = reader.grants(WORKSPACE);
    expect(remaining(after)).toEqual([70]);
    expect(reader.grants(WORKSPACE)).toBe(after);
  });

  it('keeps what it read of other workspaces when a batch changed only one', () => {
    const { commit, reader, heard } = cachedReader();
    heard(commit(granted({ credits: 100 }), inWorkspace('ws-2', granted({ credits: 50 }))), [WORKSPACE, 'ws-2']);
    const other = reader.grants('ws-2');
    heard(commit(consumed({ credits: 30, drawdown: [draw('promo-1', 'PROMOTIONAL', 30)], availableAfter: 70 })), [
      WORKSPACE,
    ]);
    expect(reader.grants('ws-2')).toBe(other);
    expect(remaining(reader.grants(WORKSPACE))).toEqual([70]);
  });
});
