import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { canManageBilling } from '../../auth/principal';
import { recoveryThreshold } from '../../domain/alert-rules';
import { invalidCommand } from '../../domain/errors';
import type { AlertRules } from '../../domain/events';
import type { AlertView } from '../../queries/credits-queries';
import type { GraphQLContext } from '../context';
import { asActor, requireBillingManager, requireWorkspaceAccess } from '../guards';
import { ConfigureCreditAlertsInput, CreditAlertsArgs } from '../alert-inputs';
import { WorkspaceArgs } from '../inputs';
import { CreditAlert, CreditAlertRules, type CreditAlertType } from '../types/alerts';

const ALERT_TYPE: Record<AlertView['type'], CreditAlertType> = {
  CreditsLow: 'LOW',
  CreditsDepleted: 'DEPLETED',
  CreditsRecovered: 'RECOVERED',
  CreditsExpiringSoon: 'EXPIRING_SOON',
  WebhookEndpointDisabled: 'WEBHOOK_ENDPOINT_DISABLED',
};

/** A workspace's alert rules and the alerts its balance raised. */
@Authorized()
@Resolver()
export class AlertsResolver {
  @Query(() => CreditAlertRules, { description: "The workspace's alert rules (any member may read them)." })
  creditAlertRules(
    @Args(() => WorkspaceArgs) { workspaceId }: WorkspaceArgs,
    @Ctx() context: GraphQLContext,
  ): CreditAlertRules {
    requireWorkspaceAccess(context, workspaceId);
    return rulesOf(context, workspaceId);
  }

  @Mutation(() => CreditAlertRules, {
    description:
      'Sets the alert rules (OWNER, BILLING_MANAGER or admin). A threshold that puts available credits below it raises LOW at once; one that leaves a low workspace at or above it raises RECOVERED at once (a new line is judged without the band), so the next drop below it is told.',
  })
  async configureCreditAlerts(
    @Arg('input', () => ConfigureCreditAlertsInput) input: ConfigureCreditAlertsInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CreditAlertRules> {
    const principal = requireBillingManager(context, input.workspaceId);
    const rules: AlertRules = {
      lowBalanceCredits: input.lowBalanceCredits ?? null,
      lowBalancePercent: input.lowBalancePercent ?? null,
      notify: { low: input.notifyLow, depleted: input.notifyDepleted, recovered: input.notifyRecovered },
      expiringSoonDays: input.expiringSoonDays === undefined ? 7 : input.expiringSoonDays,
    };
    await context.services.commands.configureAlerts({ workspaceId: input.workspaceId, rules }, asActor(principal));
    return rulesOf(context, input.workspaceId);
  }

  @Query(() => [CreditAlert], {
    description:
      "The alerts the workspace's balance raised, and its webhook endpoints disabled for failing, newest first.",
  })
  creditAlerts(
    @Args(() => CreditAlertsArgs) { workspaceId, first, after }: CreditAlertsArgs,
    @Ctx() context: GraphQLContext,
  ): CreditAlert[] {
    const principal = requireWorkspaceAccess(context, workspaceId);
    // An empty cursor is refused too, as every list's is: it names no alert.
    const before = after === undefined || after === null ? undefined : positionOfAlert(workspaceId, after);
    // Which endpoint failed, and since when, is for those who may manage the endpoints; members
    // are told only that one was disabled.
    const seesEndpoints = canManageBilling(principal, workspaceId);
    return context.services.queries.alertHistory(workspaceId, first, before).map((alert) => ({
      id: alertId(alert.workspaceId, alert.position),
      workspaceId: alert.workspaceId,
      type: ALERT_TYPE[alert.type],
      notified: alert.notify,
      // A depletion is nothing left, whether or not the event says so.
      available: alert.type === 'CreditsDepleted' ? 0 : (alert.available ?? null),
      threshold: alert.threshold ?? null,
      stillLow: alert.type === 'CreditsRecovered' ? alert.stillLow === true : null,
      grantId: alert.grantId ?? null,
      source: alert.source ?? null,
      credits: alert.credits ?? null,
      expiresAt: alert.expiresAt ?? null,
      endpointId: seesEndpoints ? (alert.endpointId ?? null) : null,
      failingSince: seesEndpoints ? (alert.failingSince ?? null) : null,
      occurredAt: alert.occurredAt,
    }));
  }
}

const alertId = (workspaceId: string, position: bigint): string => `${workspaceId}:${position}`;
const MAX_POSITION = 2n ** 63n - 1n;

/** The log position an alert id of this workspace's names (its id is the workspace and the position). */
function positionOfAlert(workspaceId: string, id: string): bigint {
  const prefix = `${workspaceId}:`;
  const position = id.slice(prefix.length);
  // A log position is a signed 64-bit integer at most (what SQLite can compare it with).
  if (!id.startsWith(prefix) || !/^\d{1,19}$/.test(position) || BigInt(position) > MAX_POSITION) {
    throw invalidCommand("after must be the id of one of this workspace's alerts (the last of the previous page)");
  }
  return BigInt(position);
}

function rulesOf(context: GraphQLContext, workspaceId: string): CreditAlertRules {
  const view = context.services.queries.alertRules(workspaceId);
  const { rules } = view;
  return {
    id: workspaceId,
    workspaceId,
    lowBalanceCredits: rules.lowBalanceCredits,
    lowBalancePercent: rules.lowBalancePercent,
    lowBalanceThreshold: view.lowBalanceThreshold,
    recoveryThreshold: recoveryThreshold(view.lowBalanceThreshold),
    notifyLow: rules.notify.low,
    notifyDepleted: rules.notify.depleted,
    notifyRecovered: rules.notify.recovered,
    expiringSoonDays: rules.expiringSoonDays,
    configuredBy: view.configuredBy ?? null,
    configuredAt: view.configuredAt ?? null,
  };
}
