/** Builders of the alert commands and events, for the decider's and the read models' specs. */
import type { WorkspaceCreditsCommand } from '../../src/domain/commands';
import type { GrantSource } from '../../src/domain/credits';
import type { AlertRules, WorkspaceCreditsEvent } from '../../src/domain/events';
import { at, WORKSPACE } from './builders';

export const RULES: AlertRules = {
  lowBalanceCredits: null,
  lowBalancePercent: null,
  notify: { low: true, depleted: true, recovered: true },
  expiringSoonDays: 7,
};

export const configure = (rules: Partial<AlertRules>, now = at(0)): WorkspaceCreditsCommand => ({
  type: 'ConfigureAlerts',
  data: { workspaceId: WORKSPACE, rules: { ...RULES, ...rules }, configuredBy: 'manager-1', now },
});

export const configured = (rules: Partial<AlertRules>, configuredAt = at(0)): WorkspaceCreditsEvent => ({
  type: 'AlertRulesConfigured',
  data: {
    workspaceId: WORKSPACE,
    rules: { ...RULES, ...rules },
    configuredBy: 'manager-1',
    configuredAt: configuredAt.toISOString(),
  },
});

export const low = (available: number, threshold: number, crossedAt = at(0), notify = true): WorkspaceCreditsEvent => ({
  type: 'CreditsLow',
  data: { workspaceId: WORKSPACE, available, threshold, notify, crossedAt: crossedAt.toISOString() },
});

export const depleted = (threshold: number, depletedAt = at(0), notify = true): WorkspaceCreditsEvent => ({
  type: 'CreditsDepleted',
  data: { workspaceId: WORKSPACE, threshold, notify, depletedAt: depletedAt.toISOString() },
});

export const recovered = (
  available: number,
  threshold: number,
  crossedAt = at(0),
  stillLow = false,
): WorkspaceCreditsEvent => ({
  type: 'CreditsRecovered',
  data: { workspaceId: WORKSPACE, available, threshold, notify: true, crossedAt: crossedAt.toISOString(), stillLow },
});

export const noticeExpiring = (now: Date): WorkspaceCreditsCommand => ({
  type: 'NoticeExpiringCredits',
  data: { workspaceId: WORKSPACE, now },
});

export const expiring = (
  grantId: string,
  credits: number,
  expiresAt: Date,
  noticedAt: Date,
  source: GrantSource = 'PROMOTIONAL',
  heldCredits = 0,
) =>
  ({
    type: 'CreditsExpiringSoon',
    data: {
      workspaceId: WORKSPACE,
      grantId,
      source,
      credits,
      ...(heldCredits > 0 && { heldCredits }),
      expiresAt: expiresAt.toISOString(),
      noticedAt: noticedAt.toISOString(),
    },
  }) as WorkspaceCreditsEvent;
