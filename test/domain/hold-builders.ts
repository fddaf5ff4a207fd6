/**
 * Builders for the hold commands and events, with readable defaults, so the hold specifications
 * stay mostly data. The default hold, 'hold-1', reserves 5 org charts (500 credits at 100 each)
 * at T0 for the default hour; every number a decision works out is spelled out by the spec.
 */
import type { ExtendCreditHold, ReleaseCreditHold, ReserveCredits, SettleCreditHold } from '../../src/domain/commands';
import type { Drawdown, GrantSource } from '../../src/domain/credits';
import type {
  CreditHoldExpired,
  CreditHoldExtended,
  CreditHoldReleased,
  CreditHoldSettled,
  CreditsExpired,
  CreditsReserved,
} from '../../src/domain/events';
import { HOLD_DEFAULT_DURATION_MS } from '../../src/domain/holds';
import { at, WORKSPACE } from './builders';

const iso = (date: Date): string => date.toISOString();
const sum = (parts: readonly Drawdown[]): number => parts.reduce((total, part) => total + part.credits, 0);

/** The default hold: five org charts at 100 credits each, for a service. */
const HOLD = {
  holdId: 'hold-1',
  idempotencyKey: 'hold-key-1',
  action: 'ORG_CHART_GENERATION',
  units: 5,
  creditsPerUnit: 100,
  actorId: 'service-1',
} as const;

export const reserve = (f: Partial<Omit<ReserveCredits['data'], 'workspaceId'>> = {}): ReserveCredits => ({
  type: 'ReserveCredits',
  data: { workspaceId: WORKSPACE, ...HOLD, ...f, now: f.now ?? at(0) },
});

/** CreditsReserved; the drawdown and the balance left are always spelled out. */
export const reserved = (
  f: Partial<Omit<CreditsReserved['data'], 'drawdown' | 'availableAfter' | 'expiresAt' | 'reservedAt'>> & {
    drawdown: Drawdown[];
    availableAfter: number;
    reservedAt?: Date;
    expiresAt?: Date;
  },
): CreditsReserved => {
  const { drawdown, availableAfter, expiresAt, reservedAt: when, ...rest } = f;
  const reservedAt = when ?? at(0);
  return {
    type: 'CreditsReserved',
    data: {
      workspaceId: WORKSPACE,
      ...HOLD,
      credits: sum(drawdown),
      drawdown,
      expiresAt: iso(expiresAt ?? new Date(reservedAt.getTime() + HOLD_DEFAULT_DURATION_MS)),
      availableAfter,
      ...rest,
      reservedAt: iso(reservedAt),
    },
  };
};

export const settle = (f: Partial<Omit<SettleCreditHold['data'], 'workspaceId'>> = {}): SettleCreditHold => ({
  type: 'SettleCreditHold',
  data: {
    workspaceId: WORKSPACE,
    holdId: 'hold-1',
    idempotencyKey: 'settle-key-1',
    units: 3,
    takeExcessFromBalance: false,
    consumptionId: 'settle-spend-1',
    actorId: 'service-1',
    ...f,
    now: f.now ?? at(0),
  },
});

/** CreditHoldSettled; which held credits paid, which came back and what was left are spelled out. */
export const settled = (f: {
  units?: number;
  creditsPerUnit?: number;
  fromHold: Drawdown[];
  fromBalance?: Drawdown[];
  returned: Drawdown[];
  drawdown?: Drawdown[];
  availableAfter: number;
  settledAt?: Date;
  holdId?: string;
  consumptionId?: string;
  idempotencyKey?: string;
  reference?: string;
}): CreditHoldSettled => {
  const fromBalance = f.fromBalance ?? [];
  return {
    type: 'CreditHoldSettled',
    data: {
      workspaceId: WORKSPACE,
      holdId: f.holdId ?? 'hold-1',
      consumptionId: f.consumptionId ?? 'settle-spend-1',
      idempotencyKey: f.idempotencyKey ?? 'settle-key-1',
      action: 'ORG_CHART_GENERATION',
      units: f.units ?? 3,
      creditsPerUnit: f.creditsPerUnit ?? 100,
      credits: sum(f.fromHold) + sum(fromBalance),
      drawdown: f.drawdown ?? [...f.fromHold, ...fromBalance],
      // Version 2: both lists only when something came from the balance.
      ...(fromBalance.length > 0 && { fromHold: f.fromHold, fromBalance }),
      returned: f.returned,
      availableAfter: f.availableAfter,
      actorId: 'service-1',
      ...(f.reference !== undefined && { reference: f.reference }),
      settledAt: iso(f.settledAt ?? at(0)),
    },
  };
};

export const release = (f: Partial<Omit<ReleaseCreditHold['data'], 'workspaceId'>> = {}): ReleaseCreditHold => ({
  type: 'ReleaseCreditHold',
  data: { workspaceId: WORKSPACE, holdId: 'hold-1', releasedBy: 'service-1', ...f, now: f.now ?? at(0) },
});

export const released = (
  returned: Drawdown[],
  f: { at?: Date; holdId?: string; reason?: string } = {},
): CreditHoldReleased => ({
  type: 'CreditHoldReleased',
  data: {
    workspaceId: WORKSPACE,
    holdId: f.holdId ?? 'hold-1',
    credits: sum(returned),
    returned,
    ...(f.reason !== undefined && { reason: f.reason }),
    releasedBy: 'service-1',
    releasedAt: iso(f.at ?? at(0)),
  },
});

export const extend = (expiresAt: Date, f: { now?: Date; holdId?: string } = {}): ExtendCreditHold => ({
  type: 'ExtendCreditHold',
  data: {
    workspaceId: WORKSPACE,
    holdId: f.holdId ?? 'hold-1',
    expiresAt,
    extendedBy: 'service-1',
    now: f.now ?? at(0),
  },
});

export const extended = (
  expiresAt: Date,
  previousExpiresAt: Date,
  f: { at?: Date; holdId?: string } = {},
): CreditHoldExtended => ({
  type: 'CreditHoldExtended',
  data: {
    workspaceId: WORKSPACE,
    holdId: f.holdId ?? 'hold-1',
    expiresAt: iso(expiresAt),
    previousExpiresAt: iso(previousExpiresAt),
    extendedBy: 'service-1',
    extendedAt: iso(f.at ?? at(0)),
  },
});

/** A hold's expiry; as decided since 2026-12-03 with `availableAfter` (what could be spent right after). */
export const holdExpired = (
  returned: Drawdown[],
  expiredAt: Date,
  holdId = 'hold-1',
  availableAfter?: number,
): CreditHoldExpired => ({
  type: 'CreditHoldExpired',
  data: {
    workspaceId: WORKSPACE,
    holdId,
    credits: sum(returned),
    returned,
    ...(availableAfter !== undefined && { availableAfter }),
    expiredAt: iso(expiredAt),
  },
});

/** Credits that came back to a grant and lapsed there at once (given-back.ts). */
export const lapsed = (
  grantId: string,
  source: GrantSource,
  credits: number,
  reason: CreditsExpired['data']['reason'],
  when: Date,
): CreditsExpired => ({
  type: 'CreditsExpired',
  data: { workspaceId: WORKSPACE, grantId, source, credits, reason, expiredAt: iso(when) },
});
