/**
 * Builders for the events and commands of one workspace, with readable defaults, so that each
 * specification is mostly data. Instants are Dates (`at(offset)` from a fixed T0); events get ISO strings.
 */
import type {
  ApplyPlanAllowance,
  ConsumeCredits,
  ExpireCredits,
  GrantCredits,
  PurchaseCredits,
} from '../../src/domain/commands';
import type { CreditAction, Drawdown, GrantSource, Money } from '../../src/domain/credits';
import type {
  CreditsConsumed,
  CreditsExpired,
  CreditsGranted,
  CreditsPurchased,
  PlanAllowanceApplied,
  PurchasePayment,
} from '../../src/domain/events';

export const WORKSPACE = 'ws-1';
export const T0 = Date.parse('2025-01-01T00:00:00.000Z');
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The instant `offsetMs` after T0. */
export const at = (offsetMs: number): Date => new Date(T0 + offsetMs);

const iso = (date: Date): string => date.toISOString();
const USD = (amount: number): Money => ({ amount, currency: 'USD' });

/** One part of a spend's drawdown. */
export const draw = (grantId: string, source: GrantSource, credits: number): Drawdown => ({ grantId, source, credits });

// ---------------------------------------------------------------- plan allowance

interface AllowanceFields {
  grantId?: string;
  planId?: string;
  planName?: string;
  credits?: number;
  periodStart?: Date;
  periodEnd?: Date;
}
const allowanceDefaults = (f: AllowanceFields) => ({
  grantId: f.grantId ?? 'allowance-1',
  planId: f.planId ?? 'pro',
  planName: f.planName ?? 'Pro',
  credits: f.credits ?? 1000,
  periodStart: f.periodStart ?? at(0),
  periodEnd: f.periodEnd ?? at(30 * DAY),
});

export const applyAllowance = (f: AllowanceFields & { now?: Date } = {}): ApplyPlanAllowance => {
  const d = allowanceDefaults(f);
  return { type: 'ApplyPlanAllowance', data: { workspaceId: WORKSPACE, ...d, now: f.now ?? d.periodStart } };
};

export const allowance = (f: AllowanceFields & { appliedAt?: Date } = {}): PlanAllowanceApplied => {
  const d = allowanceDefaults(f);
  return {
    type: 'PlanAllowanceApplied',
    data: {
      workspaceId: WORKSPACE,
      grantId: d.grantId,
      planId: d.planId,
      planName: d.planName,
      credits: d.credits,
      periodStart: iso(d.periodStart),
      periodEnd: iso(d.periodEnd),
      appliedAt: iso(f.appliedAt ?? d.periodStart),
    },
  };
};

// ---------------------------------------------------------------- purchases

interface PurchaseFields {
  grantId?: string;
  purchaseId?: string;
  packageId?: string;
  packageName?: string;
  credits?: number;
  price?: Money;
  expiresAt?: Date;
  purchasedBy?: string;
  payment?: PurchasePayment;
}
const purchaseDefaults = (f: PurchaseFields) => ({
  grantId: f.grantId ?? 'purchase-1',
  purchaseId: f.purchaseId ?? 'cs_pay_1',
  packageId: f.packageId ?? 'pack-500',
  packageName: f.packageName ?? '500 credits',
  credits: f.credits ?? 500,
  price: f.price ?? USD(4900),
  payment:
    f.payment ??
    ({ provider: 'STRIPE', checkoutSessionId: f.purchaseId ?? 'cs_pay_1', paymentIntentId: 'pi_1' } as const),
  purchasedBy: f.purchasedBy ?? 'billing-manager-1',
});

export const purchase = (f: PurchaseFields & { now?: Date } = {}): PurchaseCredits => ({
  type: 'PurchaseCredits',
  data: {
    workspaceId: WORKSPACE,
    ...purchaseDefaults(f),
    ...(f.expiresAt && { expiresAt: f.expiresAt }),
    now: f.now ?? at(0),
  },
});

export const purchased = (f: PurchaseFields & { purchasedAt?: Date } = {}): CreditsPurchased => {
  const d = purchaseDefaults(f);
  return {
    type: 'CreditsPurchased',
    data: {
      workspaceId: WORKSPACE,
      grantId: d.grantId,
      purchaseId: d.purchaseId,
      packageId: d.packageId,
      packageName: d.packageName,
      credits: d.credits,
      price: d.price,
      payment: d.payment,
      ...(f.expiresAt && { expiresAt: iso(f.expiresAt) }),
      purchasedBy: d.purchasedBy,
      purchasedAt: iso(f.purchasedAt ?? at(0)),
    },
  };
};

// ---------------------------------------------------------------- promotional grants

interface GrantFields {
  grantId?: string;
  idempotencyKey?: string;
  credits?: number;
  reason?: string;
  expiresAt?: Date;
  grantedBy?: string;
}
const grantDefaults = (f: GrantFields) => ({
  grantId: f.grantId ?? 'promo-1',
  idempotencyKey: f.idempotencyKey ?? 'promo-key-1',
  credits: f.credits ?? 100,
  reason: f.reason ?? 'Goodwill for a failed org chart run',
  grantedBy: f.grantedBy ?? 'admin-1',
});

export const grant = (f: GrantFields & { now?: Date } = {}): GrantCredits => ({
  type: 'GrantCredits',
  data: {
    workspaceId: WORKSPACE,
    ...grantDefaults(f),
    ...(f.expiresAt && { expiresAt: f.expiresAt }),
    now: f.now ?? at(0),
  },
});

export const granted = (f: GrantFields & { grantedAt?: Date } = {}): CreditsGranted => {
  const d = grantDefaults(f);
  return {
    type: 'CreditsGranted',
    data: {
      workspaceId: WORKSPACE,
      grantId: d.grantId,
      idempotencyKey: d.idempotencyKey,
      credits: d.credits,
      reason: d.reason,
      ...(f.expiresAt && { expiresAt: iso(f.expiresAt) }),
      grantedBy: d.grantedBy,
      grantedAt: iso(f.grantedAt ?? at(0)),
    },
  };
};

// ---------------------------------------------------------------- spends

interface SpendFields {
  consumptionId?: string;
  idempotencyKey?: string;
  action?: CreditAction;
  units?: number;
  creditsPerUnit?: number;
  actorId?: string;
  reference?: string;
}
const spendDefaults = (f: SpendFields) => ({
  consumptionId: f.consumptionId ?? 'spend-1',
  idempotencyKey: f.idempotencyKey ?? 'spend-key-1',
  action: f.action ?? 'ACTION_PLAN_GENERATION',
  units: f.units ?? 1,
  creditsPerUnit: f.creditsPerUnit ?? 8,
  actorId: f.actorId ?? 'user-1',
});

/** ConsumeCredits; by default one action plan generation (8 credits) at T0. */
export const spend = (f: SpendFields & { now?: Date } = {}): ConsumeCredits => ({
  type: 'ConsumeCredits',
  data: {
    workspaceId: WORKSPACE,
    ...spendDefaults(f),
    ...(f.reference !== undefined && { reference: f.reference }),
    now: f.now ?? at(0),
  },
});

/** CreditsConsumed; the credits, the drawdown and the balance left are always spelled out. */
export const consumed = (
  f: SpendFields & { credits: number; drawdown: Drawdown[]; availableAfter: number; consumedAt?: Date },
): CreditsConsumed => {
  const d = spendDefaults(f);
  return {
    type: 'CreditsConsumed',
    data: {
      workspaceId: WORKSPACE,
      consumptionId: d.consumptionId,
      idempotencyKey: d.idempotencyKey,
      action: d.action,
      units: d.units,
      creditsPerUnit: d.creditsPerUnit,
      credits: f.credits,
      drawdown: f.drawdown,
      availableAfter: f.availableAfter,
      actorId: d.actorId,
      ...(f.reference !== undefined && { reference: f.reference }),
      consumedAt: iso(f.consumedAt ?? at(0)),
    },
  };
};

// ---------------------------------------------------------------- expiry

export const expireCredits = (now: Date): ExpireCredits => ({
  type: 'ExpireCredits',
  data: { workspaceId: WORKSPACE, now },
});

export const expired = (f: {
  grantId: string;
  source: GrantSource;
  credits: number;
  expiredAt: Date;
  reason?: 'EXPIRED' | 'PERIOD_REPLACED';
}): CreditsExpired => ({
  type: 'CreditsExpired',
  data: {
    workspaceId: WORKSPACE,
    grantId: f.grantId,
    source: f.source,
    credits: f.credits,
    reason: f.reason ?? 'EXPIRED',
    expiredAt: iso(f.expiredAt),
  },
});
