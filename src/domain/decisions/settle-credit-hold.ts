/**
 * SettleCreditHold: the action a hold reserved for is done and cost `units` at the hold's rate. The
 * cost is recorded as a spend, paid first from the held credits (in the hold's drawdown order); the
 * held credits it did not use go back at once (held-returns.ts). Up to what was held it cannot fail
 * for lack of credits: nothing else could take them. More than was held is refused (HOLD_EXCEEDED)
 * unless the command takes the excess from the available balance, then all-or-nothing like a spend.
 * A hold settles once; a retry with the same key returns that settle.
 */
import type { SettleCreditHold } from '../commands';
import type { Drawdown } from '../credits';
import { availableCredits } from '../drawdown';
import { holdExceeded, idempotencyKeyReused } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { creditsOf, mergeDrawdowns, splitHeld } from '../holds';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { drawOrRefuse } from './draw-or-refuse';
import { expireDueGrants } from './expiries';
import { availableOfReturn, lapsesOfReturn } from './held-returns';
import { holdOf, requireActive } from './hold-of';
import { requirePositiveCredits, requireUnits } from './validation';

export function settleCreditHold(command: SettleCreditHold, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const data = command.data;
  const now = data.now.getTime();
  const hold = holdOf(state, data.holdId);
  if (hold.settlement?.idempotencyKey === data.idempotencyKey) {
    if (hold.settlement.units === data.units) return [];
    throw idempotencyKeyReused(data.idempotencyKey);
  }
  requireActive(hold, now);
  requireUnits(data.units);
  const credits = data.units * hold.creditsPerUnit;
  requirePositiveCredits(credits, 'A settle');

  let fromBalance: Drawdown[] = [];
  const excess = credits - hold.credits;
  if (excess > 0) {
    if (!data.takeExcessFromBalance) throw holdExceeded(hold.holdId, hold.credits, credits);
    fromBalance = drawOrRefuse(state, excess, now).drawdown;
  }
  const { used: fromHold, rest: returned } = splitHeld(hold.drawdown, Math.min(credits, hold.credits));
  const lapses = lapsesOfReturn(state, data.workspaceId, returned, now);
  const availableAfter =
    availableCredits(state.grants.values(), now) -
    creditsOf(fromBalance) +
    availableOfReturn(state, returned, lapses, now);
  return [
    ...expireDueGrants(state, data.workspaceId, now),
    {
      type: 'CreditHoldSettled',
      data: {
        workspaceId: data.workspaceId,
        holdId: hold.holdId,
        consumptionId: data.consumptionId,
        idempotencyKey: data.idempotencyKey,
        action: hold.action,
        units: data.units,
        creditsPerUnit: hold.creditsPerUnit,
        credits,
        // Nothing from the balance, the usual settle: the held credits that paid are `drawdown`, and
        // neither list is written (a smaller event to store, send and fold; events.md, version 2).
        ...(fromBalance.length === 0
          ? { drawdown: fromHold }
          : { drawdown: mergeDrawdowns(fromHold, fromBalance), fromHold, fromBalance }),
        returned,
        availableAfter,
        actorId: data.actorId,
        ...(hold.reference !== undefined && { reference: hold.reference }),
        settledAt: iso(now),
      },
    },
    ...lapses,
  ];
}
