/**
 * What the hold events do to the state, apart from evolve.ts so that each file stays one idea: a
 * reservation moves credits from grants' `remaining` into `held`; a settle moves held credits into
 * `consumed` (and any excess from `remaining`) and gives the rest back; a release or an expiry gives
 * every held credit back. Like evolve, it decides nothing: the events carry every number.
 */
import type { Drawdown, Grant } from './credits';
import type {
  CreditHoldExpired,
  CreditHoldExtended,
  CreditHoldReleased,
  CreditHoldSettled,
  CreditsReserved,
} from './events';
import { existingExpiryIndexOf } from './hold-expiry-index';
import { settledFromHold, type HoldRecord, type HoldStatus } from './holds';
import { ms } from './instants';
import { IDEMPOTENCY_RETENTION_MS, type WorkspaceCreditsState } from './state';

export type HoldEvent =
  CreditsReserved | CreditHoldSettled | CreditHoldReleased | CreditHoldExpired | CreditHoldExtended;

function grantOf(state: WorkspaceCreditsState, grantId: string): Grant {
  const grant = state.grants.get(grantId);
  if (!grant) throw new Error(`Hold event refers to unknown grant ${grantId}`);
  return grant;
}

function holdOf(state: WorkspaceCreditsState, holdId: string): HoldRecord {
  const hold = state.activeHolds.get(holdId);
  if (!hold) throw new Error(`Hold event refers to hold ${holdId}, which is not active`);
  return hold;
}

/** Moves credits between two counters of each grant in `parts`. */
function move(
  state: WorkspaceCreditsState,
  parts: readonly Drawdown[],
  from: 'remaining' | 'held',
  to: 'remaining' | 'held' | 'consumed',
): void {
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as Drawdown;
    const grant = grantOf(state, part.grantId);
    grant[from] -= part.credits;
    grant[to] += part.credits;
  }
}

/** The hold closes; closed holds older than the idempotency window are forgotten with their keys. */
function close(state: WorkspaceCreditsState, hold: HoldRecord, status: HoldStatus, at: number): void {
  hold.status = status;
  hold.closedAt = at;
  state.activeHolds.delete(hold.holdId); // its expiry index entry lapses by itself
  state.closedHolds.add(hold);
  state.closedHolds.forgetClosedBefore(at - IDEMPOTENCY_RETENTION_MS, (old) => {
    if (state.holdKeys.get(old.idempotencyKey) === old.holdId) state.holdKeys.delete(old.idempotencyKey);
  });
}

export function evolveHold(state: WorkspaceCreditsState, event: HoldEvent): WorkspaceCreditsState {
  switch (event.type) {
    case 'CreditsReserved': {
      const data = event.data;
      move(state, data.drawdown, 'remaining', 'held');
      const expiresAt = ms(data.expiresAt);
      const hold: HoldRecord = {
        holdId: data.holdId,
        idempotencyKey: data.idempotencyKey,
        action: data.action,
        units: data.units,
        creditsPerUnit: data.creditsPerUnit,
        credits: data.credits,
        drawdown: data.drawdown,
        initialExpiresAt: expiresAt,
        expiresAt,
        reference: data.reference,
        actorId: data.actorId,
        availableAfter: data.availableAfter,
        createdAt: ms(data.reservedAt),
        status: 'ACTIVE',
        closedAt: undefined,
        settlement: undefined,
      };
      state.activeHolds.set(data.holdId, hold);
      existingExpiryIndexOf(state.activeHolds)?.add(hold);
      state.holdKeys.set(data.idempotencyKey, data.holdId);
      return state;
    }
    case 'CreditHoldSettled': {
      const data = event.data;
      const hold = holdOf(state, data.holdId);
      move(state, settledFromHold(data), 'held', 'consumed');
      if (data.fromBalance) move(state, data.fromBalance, 'remaining', 'consumed');
      move(state, data.returned, 'held', 'remaining');
      const settledAt = ms(data.settledAt);
      hold.settlement = {
        idempotencyKey: data.idempotencyKey,
        consumptionId: data.consumptionId,
        units: data.units,
        credits: data.credits,
        drawdown: data.drawdown,
        availableAfter: data.availableAfter,
        settledAt,
      };
      close(state, hold, 'SETTLED', settledAt);
      return state;
    }
    case 'CreditHoldReleased':
      move(state, event.data.returned, 'held', 'remaining');
      close(state, holdOf(state, event.data.holdId), 'RELEASED', ms(event.data.releasedAt));
      return state;
    case 'CreditHoldExpired':
      move(state, event.data.returned, 'held', 'remaining');
      close(state, holdOf(state, event.data.holdId), 'EXPIRED', ms(event.data.expiredAt));
      return state;
    case 'CreditHoldExtended': {
      const hold = holdOf(state, event.data.holdId);
      hold.expiresAt = ms(event.data.expiresAt);
      existingExpiryIndexOf(state.activeHolds)?.add(hold);
      return state;
    }
  }
}
