/**
 * No overdraft, in one place for everything that draws credits from the balance (a spend, a hold,
 * the excess of a settle): the drawdown from the live grants, or a refusal of the whole with the
 * required and available credits, so that the caller can say "buy more credits".
 */
import type { Drawdown } from '../credits';
import { availableCredits, planDrawdown } from '../drawdown';
import { insufficientCredits } from '../errors';
import type { WorkspaceCreditsState } from '../state';

export function drawOrRefuse(
  state: WorkspaceCreditsState,
  credits: number,
  now: number,
): { drawdown: Drawdown[]; available: number } {
  const drawdown = planDrawdown(state.grants.values(), credits, now);
  const available = availableCredits(state.grants.values(), now);
  if (!drawdown) throw insufficientCredits(credits, available);
  return { drawdown, available };
}
