/**
 * Auto top-up as the API, the payments reaction and the provider's webhooks ask for it: saving the
 * card it charges, its settings and consent, and what became of each charge. Each request becomes
 * one command on its workspace's stream; the package is resolved from the catalog here, so the
 * decision records exactly the package (and price) the billing manager agreed to.
 */
import { autoTopUpSettings, type ProposedAutoTopUp } from '../catalog/auto-top-up-settings';
import type { Catalog } from '../catalog/catalog';
import type { Clock } from '../clock';
import { mayChargeTopUp } from '../domain/auto-top-up';
import type { AutoTopUpChargeOutcome, ConfigureAutoTopUp, RecordPaymentMethodSetup } from '../domain/commands';
import { workspaceStreamName } from '../events/workspace-stream';
import type { AutoTopUpSettings } from '../domain/events';
import type { TopUpRecord } from '../domain/state';
import type { CommandMetadata, CommandOutcome, WorkspaceCreditsCommandHandler } from './command-handler';
import { derivedId } from './payment-commands';

/** How often a top-up is tried before auto top-up pauses, and how long after the first failure. */
export interface AutoTopUpRetry {
  maxAttempts: number;
  firstDelayMs: number;
}

export const DEFAULT_AUTO_TOP_UP_RETRY: AutoTopUpRetry = { maxAttempts: 3, firstDelayMs: 60 * 60 * 1000 };

type SetupOutcome = RecordPaymentMethodSetup['data'] extends infer D
  ? D extends unknown
    ? Omit<D, 'workspaceId' | 'now'>
    : never
  : never;

export interface AutoTopUpRequest extends ProposedAutoTopUp {
  workspaceId: string;
  /** The terms the billing manager was shown; refused when they are no longer the terms. */
  /** GraphQL passes an explicit null through: it means the same as leaving the terms out. */
  acceptedTerms?: string | null | undefined;
}

export class AutoTopUpCommands {
  constructor(
    private readonly handler: WorkspaceCreditsCommandHandler,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly newId: () => string,
    private readonly retry: AutoTopUpRetry = DEFAULT_AUTO_TOP_UP_RETRY,
  ) {}

  /** Records the wish to save a card; with `idempotencyKey`, a repeat returns the first setup. */
  startPaymentMethodSetup(
    request: { workspaceId: string; idempotencyKey?: string | null | undefined },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<{ workspaceId: string; setupId: string }>> {
    // An explicit null (GraphQL passes it through) is no key, as leaving it out is.
    const setupId =
      request.idempotencyKey == null
        ? this.newId()
        : derivedId('setup', request.workspaceId, metadata.actorId, request.idempotencyKey);
    return this.handler.handle(
      {
        type: 'StartPaymentMethodSetup',
        data: { workspaceId: request.workspaceId, setupId, startedBy: metadata.actorId, now: this.clock.now() },
      },
      metadata,
      () => ({ workspaceId: request.workspaceId, setupId }),
    );
  }

  /** Records what became of a card setup; answers with the workspace's customer afterwards. */
  recordPaymentMethodSetup(
    workspaceId: string,
    outcome: SetupOutcome,
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<string | undefined>> {
    const command = { type: 'RecordPaymentMethodSetup', data: { workspaceId, ...outcome, now: this.clock.now() } };
    return this.handler.handle(command as RecordPaymentMethodSetup, metadata, (state) => state.autoTopUp.customerId);
  }

  removePaymentMethod(workspaceId: string, metadata: CommandMetadata): Promise<CommandOutcome<void>> {
    return this.handler.handle(
      { type: 'RemovePaymentMethod', data: { workspaceId, removedBy: metadata.actorId, now: this.clock.now() } },
      metadata,
      () => undefined,
    );
  }

  /** Sets auto top-up; answers with the settings in force afterwards. */
  configureAutoTopUp(
    request: AutoTopUpRequest,
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<AutoTopUpSettings | undefined>> {
    // Turning off is never refused because the package left the catalog: the decision takes the
    // package from the settings in force.
    const settings: ConfigureAutoTopUp['data']['settings'] =
      !request.enabled && !this.catalog.creditPackage(request.packageId)
        ? {
            enabled: false,
            noLongerSold: true,
            packageId: request.packageId,
            thresholdCredits: request.thresholdCredits,
            targetCredits: request.targetCredits,
            monthlyLimit: request.monthlyLimit,
          }
        : autoTopUpSettings(this.catalog, request);
    return this.handler.handle(
      {
        type: 'ConfigureAutoTopUp',
        data: {
          workspaceId: request.workspaceId,
          settings,
          acceptedBy: metadata.actorId,
          ...(request.acceptedTerms != null && { acceptedTerms: request.acceptedTerms }),
          now: this.clock.now(),
        },
      },
      metadata,
      (state) => state.autoTopUp.settings,
    );
  }

  /**
   * Whether the card may be charged for a top-up now (auto-top-up.ts, mayChargeTopUp), from the
   * workspace's stream as it is: asked by the payments reaction right before each new charge, so
   * that a top-up canceled after its work was taken (turned off, card removed or replaced) is not
   * charged.
   */
  async mayCharge(workspaceId: string, topUpId: string, paymentMethodId: string): Promise<boolean> {
    const { state } = await this.handler.load(workspaceStreamName(workspaceId));
    return mayChargeTopUp(state, topUpId, paymentMethodId);
  }

  /**
   * What the provider made of one attempt to charge a top-up (from the reaction or a webhook);
   * answers with the top-up's status afterwards.
   */
  recordAutoTopUpCharge(
    workspaceId: string,
    charge: { topUpId: string; attempt: number; outcome: AutoTopUpChargeOutcome },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<TopUpRecord['status'] | undefined>> {
    return this.handler.handle(
      {
        type: 'RecordAutoTopUpCharge',
        data: { workspaceId, ...charge, grantId: this.newId(), retry: this.retry, now: this.clock.now() },
      },
      metadata,
      (state) => state.autoTopUp.topUps.get(charge.topUpId)?.status,
    );
  }
}
