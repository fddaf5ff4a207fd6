/**
 * The hold commands as the API sees them: turns requests into ReserveCredits, SettleCreditHold,
 * ReleaseCreditHold and ExtendCreditHold with the rate, the instant and new ids resolved, and
 * answers with the hold as the decider recorded it (for a retry, as it was first recorded). The
 * caller names the hold's workspace: the GraphQL layer looks it up, and authorizes against it,
 * before anything is decided.
 */
import type { Catalog } from '../catalog/catalog';
import { systemClock, type Clock } from '../clock';
import type { CreditAction } from '../domain/credits';
import { notFound } from '../domain/errors';
import { holdStatusAt, type HoldRecord, type HoldSettlement } from '../domain/holds';
import type { WorkspaceCreditsState } from '../domain/state';
import { newId as timeOrderedId } from '../ids';
import type { CommandMetadata, CommandOutcome, WorkspaceCreditsCommandHandler } from './command-handler';

/** A hold as the command left it, with its status at the instant it was decided. */
export type HoldResult = Readonly<HoldRecord>;

/** The hold's record in the state, copied (the state goes on changing), with its status at `now`. */
function holdResult(state: WorkspaceCreditsState, holdId: string | undefined, now: Date): HoldResult {
  const hold = holdId === undefined ? undefined : (state.activeHolds.get(holdId) ?? state.closedHolds.get(holdId));
  if (!hold) throw notFound('Credit hold', holdId ?? '');
  return { ...hold, status: holdStatusAt(hold, now.getTime()) };
}

export class HoldCommands {
  constructor(
    private readonly handler: WorkspaceCreditsCommandHandler,
    private readonly catalog: Catalog,
    private readonly clock: Clock = systemClock,
    private readonly newId: () => string = timeOrderedId,
  ) {}

  async reserveCredits(
    request: {
      workspaceId: string;
      action: CreditAction;
      units: number;
      idempotencyKey: string;
      expiresAt?: Date;
      reference?: string;
    },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<HoldResult>> {
    const now = this.clock.now();
    return this.handler.handle(
      {
        type: 'ReserveCredits',
        data: {
          ...request,
          holdId: this.newId(),
          creditsPerUnit: this.catalog.rate(request.action).creditsPerUnit,
          actorId: metadata.actorId,
          now,
        },
      },
      metadata,
      (state) => holdResult(state, state.holdKeys.get(request.idempotencyKey), now),
    );
  }

  async settleCreditHold(
    request: {
      workspaceId: string;
      holdId: string;
      units: number;
      idempotencyKey: string;
      takeExcessFromBalance: boolean;
    },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<{ hold: HoldResult; settlement: HoldSettlement }>> {
    const now = this.clock.now();
    return this.handler.handle(
      {
        type: 'SettleCreditHold',
        data: { ...request, consumptionId: this.newId(), actorId: metadata.actorId, now },
      },
      metadata,
      (state) => {
        const hold = holdResult(state, request.holdId, now);
        return { hold, settlement: hold.settlement as HoldSettlement };
      },
    );
  }

  async releaseCreditHold(
    request: { workspaceId: string; holdId: string; reason?: string },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<HoldResult>> {
    const now = this.clock.now();
    return this.handler.handle(
      { type: 'ReleaseCreditHold', data: { ...request, releasedBy: metadata.actorId, now } },
      metadata,
      (state) => holdResult(state, request.holdId, now),
    );
  }

  async extendCreditHold(
    request: { workspaceId: string; holdId: string; expiresAt: Date },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<HoldResult>> {
    const now = this.clock.now();
    return this.handler.handle(
      { type: 'ExtendCreditHold', data: { ...request, extendedBy: metadata.actorId, now } },
      metadata,
      (state) => holdResult(state, request.holdId, now),
    );
  }
}
