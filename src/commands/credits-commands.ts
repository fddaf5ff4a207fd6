/**
 * The write side as the API sees it: turns requests into domain commands, resolving the catalog
 * (rates, plans, packages), the clock and new ids, and hands them to the command handler.
 */
import type { Catalog } from '../catalog/catalog';
import { systemClock, type Clock } from '../clock';
import type { CreditAction } from '../domain/credits';
import { notFound } from '../domain/errors';
import type { AlertRules, PurchasePayment } from '../domain/events';
import { newId as timeOrderedId } from '../ids';
import type { ConsumptionRecord } from '../domain/state';
import type { CommandMetadata, CommandOutcome, WorkspaceCreditsCommandHandler } from './command-handler';

const DAY_MS = 24 * 60 * 60 * 1000;

export class CreditsCommands {
  constructor(
    private readonly handler: WorkspaceCreditsCommandHandler,
    private readonly catalog: Catalog,
    private readonly clock: Clock = systemClock,
    private readonly newId: () => string = timeOrderedId,
  ) {}

  async consumeCredits(
    request: { workspaceId: string; action: CreditAction; units: number; idempotencyKey: string; reference?: string },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<ConsumptionRecord>> {
    const { creditsPerUnit } = this.catalog.rate(request.action);
    return this.handler.handle(
      {
        type: 'ConsumeCredits',
        data: {
          ...request,
          consumptionId: this.newId(),
          creditsPerUnit,
          actorId: metadata.actorId,
          now: this.clock.now(),
        },
      },
      metadata,
      (state) => state.consumptions.get(request.idempotencyKey) as ConsumptionRecord,
    );
  }

  async applyPlanAllowance(
    request: { workspaceId: string; planId: string; periodStart: Date; periodEnd: Date },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<void>> {
    const plan = this.catalog.plan(request.planId);
    if (!plan) throw notFound('Plan', request.planId);
    return this.handler.handle(
      {
        type: 'ApplyPlanAllowance',
        data: {
          ...request,
          grantId: this.newId(),
          planName: plan.name,
          credits: plan.includedCredits,
          now: this.clock.now(),
        },
      },
      metadata,
      () => undefined,
    );
  }

  async purchaseCredits(
    request: { workspaceId: string; packageId: string; purchaseId: string; payment?: PurchasePayment },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<void>> {
    const creditPackage = this.catalog.creditPackage(request.packageId);
    if (!creditPackage) throw notFound('Credit package', request.packageId);
    const now = this.clock.now();
    const expiresAt =
      creditPackage.expiresAfterDays === undefined
        ? undefined
        : new Date(now.getTime() + creditPackage.expiresAfterDays * DAY_MS);
    return this.handler.handle(
      {
        type: 'PurchaseCredits',
        data: {
          ...request,
          grantId: this.newId(),
          packageName: creditPackage.name,
          credits: creditPackage.credits,
          price: creditPackage.price,
          payment: request.payment ?? { provider: 'MANUAL', reference: request.purchaseId },
          ...(expiresAt && { expiresAt }),
          purchasedBy: metadata.actorId,
          now,
        },
      },
      metadata,
      () => undefined,
    );
  }

  async grantCredits(
    request: { workspaceId: string; credits: number; reason: string; expiresAt?: Date; idempotencyKey: string },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<void>> {
    return this.handler.handle(
      {
        type: 'GrantCredits',
        data: {
          ...request,
          grantId: this.newId(),
          grantedBy: metadata.actorId,
          now: this.clock.now(),
        },
      },
      metadata,
      () => undefined,
    );
  }

  async expireCredits(workspaceId: string, metadata: CommandMetadata): Promise<CommandOutcome<void>> {
    return this.handler.handle(
      { type: 'ExpireCredits', data: { workspaceId, now: this.clock.now() } },
      metadata,
      () => undefined,
    );
  }

  /** Records a notice of each grant with credits left that expires within the notice period. */
  async noticeExpiringCredits(workspaceId: string, metadata: CommandMetadata): Promise<CommandOutcome<void>> {
    return this.handler.handle(
      { type: 'NoticeExpiringCredits', data: { workspaceId, now: this.clock.now() } },
      metadata,
      () => undefined,
    );
  }

  /** Replaces the workspace's alert rules; answers with the rules in force afterwards. */
  async configureAlerts(
    request: { workspaceId: string; rules: AlertRules },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<AlertRules>> {
    return this.handler.handle(
      {
        type: 'ConfigureAlerts',
        data: { ...request, configuredBy: metadata.actorId, now: this.clock.now() },
      },
      metadata,
      (state) => state.alerts.rules,
    );
  }
}
