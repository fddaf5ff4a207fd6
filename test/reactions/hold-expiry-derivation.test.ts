/**
 * The hold-expiry reaction's work: each hold's expiry, due at its `expiresAt` (moved by each
 * extension), until the hold is settled, released or expired.
 */
import { holdExpiryDerivation } from '../../reactions/hold-expiry/derivation';
import { reactionProjection } from '../../reactions/reaction-projection';
import { at, draw, HOUR, WORKSPACE } from '../domain/builders';
import { extended, holdExpired, released, reserved } from '../domain/hold-builders';
import { projection } from '../projections/spec';

const holdExpiry = projection(reactionProjection(holdExpiryDerivation));
const WORK = 'SELECT key, payload, due_at FROM reaction_work ORDER BY key';
const held = [draw('grant-1', 'PROMOTIONAL', 500)];
const reservation = reserved({ drawdown: held, availableAfter: 500, expiresAt: at(HOUR) });
const due = (dueAt: Date) => ({
  key: `hold:${WORKSPACE}:hold-1`,
  payload: JSON.stringify({ workspaceId: WORKSPACE, holdId: 'hold-1' }),
  due_at: dueAt.getTime(),
});

describe('hold-expiry derivation', () => {
  it('schedules writing a hold’s expiry at its expiresAt', () => {
    holdExpiry.given(reservation).thenRows(WORK, [due(at(HOUR))]);
  });

  it('moves it with each extension', () => {
    holdExpiry.given(reservation, extended(at(3 * HOUR), at(HOUR))).thenRows(WORK, [due(at(3 * HOUR))]);
  });

  it('has nothing to do once the hold is released or has expired', () => {
    holdExpiry.given(reservation, released(held)).thenRows(WORK, []);
    holdExpiry.given(reservation, holdExpired(held, at(HOUR))).thenRows(WORK, []);
  });
});
