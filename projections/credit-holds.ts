/**
 * The holds read model: one row per hold, from its reservation to its outcome (settled, released,
 * expired) and what a settle cost, so that a workspace's holds can be listed and paged and a hold
 * id says which workspace it belongs to. Rows are keyed by the reservation's global position, the
 * paging cursor. A hold past its expiry whose expiry is not written yet is still ACTIVE here; the
 * reader reports it EXPIRED from its instant on.
 */
import { toWorkspaceCreditsEvent } from '../src/events/workspace-stream';
import type { RecordedEvent } from '../src/eventstore/port';
import type { Projection } from './projection';

export const creditHoldsProjection: Projection = {
  name: 'credit-holds',
  version: 1,

  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS credit_holds (
        position INTEGER PRIMARY KEY,
        hold_id TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        action TEXT NOT NULL,
        units INTEGER NOT NULL,
        credits_per_unit INTEGER NOT NULL,
        credits INTEGER NOT NULL,
        drawdown TEXT NOT NULL,
        status TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        reference TEXT,
        actor_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        closed_at INTEGER,
        settled_units INTEGER,
        settled_credits INTEGER,
        consumption_id TEXT
      );
      CREATE UNIQUE INDEX IF NOT EXISTS credit_holds_by_id ON credit_holds (hold_id);
    `);
  },

  queryIndexes: ['CREATE INDEX IF NOT EXISTS credit_holds_by_workspace ON credit_holds (workspace_id, position)'],

  reset(db) {
    db.exec('DROP TABLE IF EXISTS credit_holds;');
  },

  prepare(db) {
    const insert = db.prepare(
      `INSERT INTO credit_holds (position, hold_id, workspace_id, action, units, credits_per_unit, credits, drawdown,
         status, expires_at, reference, actor_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?)`,
    );
    const close = db.prepare<[string, number, string]>(
      'UPDATE credit_holds SET status = ?, closed_at = ? WHERE hold_id = ?',
    );
    const settle = db.prepare<[number, number, number, string, string]>(
      `UPDATE credit_holds SET status = 'SETTLED', closed_at = ?, settled_units = ?, settled_credits = ?, consumption_id = ?
       WHERE hold_id = ?`,
    );
    const extend = db.prepare<[number, string]>('UPDATE credit_holds SET expires_at = ? WHERE hold_id = ?');
    const apply = (recorded: RecordedEvent): void => {
      const event = toWorkspaceCreditsEvent(recorded);
      switch (event?.type) {
        case 'CreditsReserved': {
          const data = event.data;
          insert.run(
            recorded.position,
            data.holdId,
            data.workspaceId,
            data.action,
            data.units,
            data.creditsPerUnit,
            data.credits,
            JSON.stringify(data.drawdown),
            Date.parse(data.expiresAt),
            data.reference ?? null,
            data.actorId,
            Date.parse(data.reservedAt),
          );
          return;
        }
        case 'CreditHoldSettled': {
          const data = event.data;
          settle.run(Date.parse(data.settledAt), data.units, data.credits, data.consumptionId, data.holdId);
          return;
        }
        case 'CreditHoldReleased':
          close.run('RELEASED', Date.parse(event.data.releasedAt), event.data.holdId);
          return;
        case 'CreditHoldExpired':
          close.run('EXPIRED', Date.parse(event.data.expiredAt), event.data.holdId);
          return;
        case 'CreditHoldExtended':
          extend.run(Date.parse(event.data.expiresAt), event.data.holdId);
          return;
        default:
          return;
      }
    };
    return { apply };
  },
};
