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
import { holdIdWithKey } from '../domain/decisions/hold-of';
import { notFound } from '../domain/errors';
import { holdStatusAt, type HoldRecord, type HoldSettlement } from '../domain/holds';
import type { WorkspaceCreditsState } from '../domain/state';
import { newId as timeOrderedId } from '../ids';
import type { CommandMetadata, CommandOutcome, WorkspaceCreditsCommandHandler } from './command-handler';

/** A hold as the command left it, with its status at the instant it was decided. */
export type HoldResult = Readonly<HoldRecord>;

/**
 * The hold's record in the state with its status at `now`. An active hold's record goes on changing
 * (extended, settled), so the answer is a copy; a closed hold's never changes again, and is the
 * answer as it stands.
 */
function holdResult(state: WorkspaceCreditsState, holdId: string | undefined, now: Date): HoldResult {
  const hold = holdId === undefined ? undefined : (state.activeHolds.get(holdId) ?? state.closedHolds.get(holdId));
  if (!hold) throw notFound('Credit hold', holdId ?? '');
  const status = holdStatusAt(hold, now.getTime());
  return status === hold.status && status !== 'ACTIVE' ? hold : { ...hold, status };
}

// Each command's data is written out field by field, as in CreditsCommands: on Node 20 a literal
// like `{ ...request, holdId, now }` gets a hidden class of its own every time, and every read of the
// command in the decider then misses its inline caches: deciding and folding a reserve and its
// settle took about twice the CPU.

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
    const holdId = this.newId();
    return this.handler.handle(
      {
        type: 'ReserveCredits',
        data: {
          workspaceId: request.workspaceId,
          action: request.action,
          units: request.units,
          idempotencyKey: request.idempotencyKey,
          expiresAt: request.expiresAt,
          reference: request.reference,
          holdId,
          creditsPerUnit: this.catalog.rate(request.action).creditsPerUnit,
          actorId: metadata.actorId,
          now,
        },
      },
      metadata,
      // The hold made now, or, for a retry, the one the key made first.
      (state) =>
        holdResult(state, state.activeHolds.has(holdId) ? holdId : holdIdWithKey(state, request.idempotencyKey), now),
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
        data: {
          workspaceId: request.workspaceId,
          holdId: request.holdId,
          units: request.units,
          idempotencyKey: request.idempotencyKey,
          takeExcessFromBalance: request.takeExcessFromBalance,
          consumptionId: this.newId(),
          actorId: metadata.actorId,
          now,
        },
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
      {
        type: 'ReleaseCreditHold',
        data: {
          workspaceId: request.workspaceId,
          holdId: request.holdId,
          reason: request.reason,
          releasedBy: metadata.actorId,
          now,
        },
      },
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
      {
        type: 'ExtendCreditHold',
        data: {
          workspaceId: request.workspaceId,
          holdId: request.holdId,
          expiresAt: request.expiresAt,
          extendedBy: metadata.actorId,
          now,
        },
      },
      metadata,
      (state) => holdResult(state, request.holdId, now),
    );
  }
}
