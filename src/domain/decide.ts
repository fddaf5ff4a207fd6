/**
 * The workspace credits decider: given the state and a command, the events that command causes, or
 * a CreditsError that says why it is refused. A refusal causes no event at all. A repeated request
 * (same idempotency key, same payload) causes none either: its first result stands.
 */
import type {
  ApplyPlanAllowance,
  ConsumeCredits,
  GrantCredits,
  PurchaseCredits,
  RefundCreditConsumption,
  RefundCreditPurchase,
  WorkspaceCreditsCommand,
} from './commands';
import type { Grant } from './credits';
import { availableCredits, isDueToExpire, planDrawdown } from './drawdown';
import { conflict, idempotencyKeyReused, insufficientCredits, invalidCommand, notFound } from './errors';
import { unspentCredits } from './refunds';
import type { CreditsExpired, WorkspaceCreditsEvent } from './events';
import { IDEMPOTENCY_RETENTION_MS, type WorkspaceCreditsState } from './state';

export function decide(command: WorkspaceCreditsCommand, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  switch (command.type) {
    case 'ApplyPlanAllowance':
      return applyPlanAllowance(command, state);
    case 'PurchaseCredits':
      return purchaseCredits(command, state);
    case 'GrantCredits':
      return grantCredits(command, state);
    case 'ConsumeCredits':
      return consumeCredits(command, state);
    case 'ExpireCredits':
      return expireDueGrants(state, command.workspaceId, command.now.getTime());
    case 'RefundCreditPurchase':
      return refundCreditPurchase(command, state);
    case 'RefundCreditConsumption':
      return refundCreditConsumption(command, state);
  }
}

const iso = (epochMs: number): string => new Date(epochMs).toISOString();

function requirePositiveCredits(credits: number, what: string): void {
  if (!Number.isSafeInteger(credits) || credits <= 0) {
    throw invalidCommand(`${what} must be a positive whole number of credits, got ${credits}.`);
  }
}

function requireFutureExpiry(expiresAt: Date | undefined, now: Date): void {
  if (expiresAt !== undefined && expiresAt.getTime() <= now.getTime()) {
    throw invalidCommand(`expiresAt (${expiresAt.toISOString()}) must be later than now (${now.toISOString()}).`);
  }
}

const expiry = (
  workspaceId: string,
  grant: Grant,
  credits: number,
  reason: CreditsExpired['data']['reason'],
  at: number,
): CreditsExpired => ({
  type: 'CreditsExpired',
  data: { workspaceId, grantId: grant.id, source: grant.source, credits, reason, expiredAt: iso(at) },
});

/** Writes down the expiry of every grant whose `expiresAt` has passed, at that instant. */
function expireDueGrants(state: WorkspaceCreditsState, workspaceId: string, now: number): CreditsExpired[] {
  const expired: CreditsExpired[] = [];
  for (const grant of state.grants.values()) {
    if (!isDueToExpire(grant, now)) continue;
    expired.push(expiry(workspaceId, grant, grant.remaining, 'EXPIRED', grant.expiresAt as number));
  }
  return expired;
}

function applyPlanAllowance(command: ApplyPlanAllowance, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const now = command.now.getTime();
  const periodStart = command.periodStart.getTime();
  const periodEnd = command.periodEnd.getTime();
  if (!(periodEnd > periodStart)) throw invalidCommand('periodEnd must be later than periodStart.');
  if (!Number.isSafeInteger(command.credits) || command.credits < 0) {
    throw invalidCommand(`A plan allowance must be a whole number of credits, got ${command.credits}.`);
  }

  const applied = state.periods.get(periodStart);
  if (applied) {
    if (applied.planId === command.planId && applied.periodEnd === periodEnd) return [];
    throw conflict(
      `The period starting ${iso(periodStart)} was already applied with plan "${applied.planId}" ending ${iso(applied.periodEnd)}.`,
    );
  }
  if (state.period && periodStart < state.period.periodStart) {
    throw conflict(
      `The period starting ${iso(periodStart)} is older than the current period, which started ${iso(state.period.periodStart)}.`,
    );
  }
  if (periodEnd <= now) throw conflict(`The period ending ${iso(periodEnd)} has already ended.`);

  const events: WorkspaceCreditsEvent[] = expireDueGrants(state, command.workspaceId, now);
  const previous = state.period && state.grants.get(state.period.grantId);
  if (previous && previous.remaining > 0 && !isDueToExpire(previous, now)) {
    events.push(expiry(command.workspaceId, previous, previous.remaining, 'PERIOD_REPLACED', now));
  }
  events.push({
    type: 'PlanAllowanceApplied',
    data: {
      workspaceId: command.workspaceId,
      grantId: command.grantId,
      planId: command.planId,
      planName: command.planName,
      credits: command.credits,
      periodStart: iso(periodStart),
      periodEnd: iso(periodEnd),
      appliedAt: iso(now),
    },
  });
  return events;
}

function purchaseCredits(command: PurchaseCredits, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const first = state.purchases.get(command.purchaseId);
  if (first) {
    if (first.packageId === command.packageId && first.credits === command.credits) return [];
    throw idempotencyKeyReused(command.purchaseId);
  }
  requirePositiveCredits(command.credits, 'A purchase');
  if (!Number.isSafeInteger(command.price.amount) || command.price.amount < 0) {
    throw invalidCommand('A purchase price must be a non-negative whole amount of minor units.');
  }
  requireFutureExpiry(command.expiresAt, command.now);
  const now = command.now.getTime();
  return [
    ...expireDueGrants(state, command.workspaceId, now),
    {
      type: 'CreditsPurchased',
      data: {
        workspaceId: command.workspaceId,
        grantId: command.grantId,
        purchaseId: command.purchaseId,
        packageId: command.packageId,
        packageName: command.packageName,
        credits: command.credits,
        price: { amount: command.price.amount, currency: command.price.currency },
        payment: command.payment,
        ...(command.expiresAt && { expiresAt: command.expiresAt.toISOString() }),
        purchasedBy: command.purchasedBy,
        purchasedAt: iso(now),
      },
    },
  ];
}

function grantCredits(command: GrantCredits, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const first = state.grantKeys.get(command.idempotencyKey);
  if (first) {
    const sameRequest =
      first.credits === command.credits &&
      first.reason === command.reason &&
      first.expiresAt === command.expiresAt?.getTime();
    if (sameRequest) return [];
    throw idempotencyKeyReused(command.idempotencyKey);
  }
  requirePositiveCredits(command.credits, 'A grant');
  if (command.reason.trim() === '') throw invalidCommand('A grant needs a reason.');
  requireFutureExpiry(command.expiresAt, command.now);
  const now = command.now.getTime();
  return [
    ...expireDueGrants(state, command.workspaceId, now),
    {
      type: 'CreditsGranted',
      data: {
        workspaceId: command.workspaceId,
        grantId: command.grantId,
        idempotencyKey: command.idempotencyKey,
        credits: command.credits,
        reason: command.reason,
        ...(command.expiresAt && { expiresAt: command.expiresAt.toISOString() }),
        grantedBy: command.grantedBy,
        grantedAt: iso(now),
      },
    },
  ];
}

function consumeCredits(command: ConsumeCredits, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const remembered = state.consumptions.get(command.idempotencyKey);
  // evolve prunes keys only when a later spend is folded: a key past the retention is forgotten here too.
  const first =
    remembered && remembered.consumedAt >= command.now.getTime() - IDEMPOTENCY_RETENTION_MS ? remembered : undefined;
  if (first) {
    if (first.action === command.action && first.units === command.units && first.reference === command.reference) {
      return [];
    }
    throw idempotencyKeyReused(command.idempotencyKey);
  }
  if (!Number.isSafeInteger(command.units) || command.units < 1) {
    throw invalidCommand(`units must be a whole number of at least 1, got ${command.units}.`);
  }
  const credits = command.units * command.creditsPerUnit;
  requirePositiveCredits(credits, 'A spend');

  const now = command.now.getTime();
  const drawdown = planDrawdown(state.grants.values(), credits, now);
  const available = availableCredits(state.grants.values(), now);
  if (!drawdown) throw insufficientCredits(credits, available);
  return [
    ...expireDueGrants(state, command.workspaceId, now),
    {
      type: 'CreditsConsumed',
      data: {
        workspaceId: command.workspaceId,
        consumptionId: command.consumptionId,
        idempotencyKey: command.idempotencyKey,
        action: command.action,
        units: command.units,
        creditsPerUnit: command.creditsPerUnit,
        credits,
        drawdown,
        availableAfter: available - credits,
        actorId: command.actorId,
        ...(command.reference !== undefined && { reference: command.reference }),
        consumedAt: iso(now),
      },
    },
  ];
}

function refundCreditPurchase(command: RefundCreditPurchase, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const alreadyRecorded =
    state.purchaseRefunds.has(command.refundId) ||
    (command.providerRefundId !== undefined && state.providerRefunds.has(command.providerRefundId));
  if (alreadyRecorded) return [];
  const purchase = state.purchases.get(command.purchaseId);
  if (!purchase) throw notFound('Purchase', command.purchaseId);
  if (!Number.isSafeInteger(command.credits) || command.credits < 0 || !Number.isSafeInteger(command.amount.amount)) {
    throw invalidCommand('A refund needs whole, non-negative credits and amount.');
  }
  const now = command.now.getTime();
  // The money has left already; what can be taken back is whatever is still unspent now.
  const credits = Math.min(command.credits, unspentCredits(state, purchase, now));
  return [
    ...expireDueGrants(state, command.workspaceId, now),
    {
      type: 'CreditPurchaseRefunded',
      data: {
        workspaceId: command.workspaceId,
        purchaseId: command.purchaseId,
        grantId: purchase.grantId,
        refundId: command.refundId,
        ...(command.providerRefundId !== undefined && { providerRefundId: command.providerRefundId }),
        credits,
        amount: { amount: command.amount.amount, currency: command.amount.currency },
        reason: command.reason,
        origin: command.origin,
        refundedBy: command.refundedBy,
        refundedAt: iso(now),
      },
    },
  ];
}

function refundCreditConsumption(
  command: RefundCreditConsumption,
  state: WorkspaceCreditsState,
): WorkspaceCreditsEvent[] {
  if (state.refundedConsumptions.has(command.consumptionId)) return [];
  if (command.reason.trim() === '') throw invalidCommand('A refund needs a reason.');
  const { drawdown, credits } = command.consumption;
  const unknown = drawdown.find((part) => !state.grants.has(part.grantId));
  if (unknown) throw notFound('Grant', unknown.grantId);
  const now = command.now.getTime();
  const events: WorkspaceCreditsEvent[] = [
    ...expireDueGrants(state, command.workspaceId, now),
    {
      type: 'CreditConsumptionRefunded',
      data: {
        workspaceId: command.workspaceId,
        consumptionId: command.consumptionId,
        credits,
        drawdown,
        reason: command.reason,
        refundedBy: command.refundedBy,
        refundedAt: iso(now),
      },
    },
  ];
  // Credits given back to a grant that has expired meanwhile expire again at once, in the ledger too.
  for (const part of drawdown) {
    const grant = state.grants.get(part.grantId);
    if (grant?.expiresAt === undefined || now < grant.expiresAt) continue;
    events.push(expiry(command.workspaceId, grant, part.credits, 'EXPIRED', now));
  }
  return events;
}
