/**
 * ApplyPlanAllowance: a billing period's included credits. The same period applied twice grants
 * once; a new period ends what was left of the previous allowance (PERIOD_REPLACED); an older or
 * already ended period is refused, and so is one that has not started or lasts more than a year.
 */
import type { ApplyPlanAllowance } from '../commands';
import { isDueToExpire } from '../drawdown';
import { conflict, invalidCommand } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';
import { expireDueGrants, expiry } from './expiries';

/** The longest billing period: a year, a leap year's included. */
const MAX_PERIOD_MS = 366 * 24 * 60 * 60 * 1000;
/** How far ahead of our clock a period may start and still be taken: clocks differ by seconds. */
const START_TOLERANCE_MS = 5 * 60 * 1000;

export function applyPlanAllowance(command: ApplyPlanAllowance, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const { workspaceId, planId, planName, credits, grantId } = command.data;
  const now = command.data.now.getTime();
  const periodStart = command.data.periodStart.getTime();
  const periodEnd = command.data.periodEnd.getTime();
  if (!(periodEnd > periodStart)) throw invalidCommand('periodEnd must be later than periodStart.');
  if (!Number.isSafeInteger(credits) || credits < 0) {
    throw invalidCommand(`A plan allowance must be a whole number of credits, got ${credits}.`);
  }

  const applied = state.periods.get(periodStart);
  if (applied) {
    if (applied.planId === planId && applied.periodEnd === periodEnd) return [];
    throw conflict(
      `The period starting ${iso(periodStart)} was already applied with plan "${applied.planId}" ending ${iso(applied.periodEnd)}.`,
    );
  }
  // A period's credits are spendable from when it is applied, and applying it ends what is left of
  // the period before: a period applied ahead of its start would take the rest of the current
  // one away early, and, being the newest, refuse the current one ever after. (Checked after the
  // repeat above: a period applied before stays answered by nothing changed.) A renewal sent at
  // the period's start by a system whose clock is a little ahead of ours is taken.
  if (periodStart > now + START_TOLERANCE_MS) {
    throw invalidCommand(
      `The period starting ${iso(periodStart)} has not started yet (it is ${iso(now)}): apply it once it has.`,
    );
  }
  if (periodEnd - periodStart > MAX_PERIOD_MS) {
    throw invalidCommand(
      `A plan period may last at most 366 days; ${iso(periodStart)} to ${iso(periodEnd)} is longer.`,
    );
  }
  if (state.period && periodStart < state.period.periodStart) {
    throw conflict(
      `The period starting ${iso(periodStart)} is older than the current period, which started ${iso(state.period.periodStart)}.`,
    );
  }
  if (periodEnd <= now) throw conflict(`The period ending ${iso(periodEnd)} has already ended.`);

  const events: WorkspaceCreditsEvent[] = expireDueGrants(state, workspaceId, now);
  const previous = state.period && state.grants.get(state.period.grantId);
  if (previous && previous.remaining > 0 && !isDueToExpire(previous, now)) {
    events.push(expiry(workspaceId, previous, previous.remaining, 'PERIOD_REPLACED', now));
  }
  events.push({
    type: 'PlanAllowanceApplied',
    data: {
      workspaceId,
      grantId,
      planId,
      planName,
      credits,
      periodStart: iso(periodStart),
      periodEnd: iso(periodEnd),
      appliedAt: iso(now),
    },
  });
  return events;
}
