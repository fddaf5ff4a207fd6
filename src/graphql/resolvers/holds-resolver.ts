/**
 * The hold operations: reserve, settle, release and extend a hold, and list a workspace's holds.
 * Pages use the ledger's cursors: both are positions in the log (of a hold, its reservation).
 */
import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Principal } from '../../auth/principal';
import type { CommandMetadata } from '../../commands/command-handler';
import type { HoldResult } from '../../commands/hold-commands';
import { holdClosed, isCreditsError } from '../../domain/errors';
import type { CreditHoldView } from '../../queries/hold-queries';
import type { GraphQLContext } from '../context';
import { cursorArgument, decodeCursor, DEFAULT_LEDGER_PAGE, encodeCursor, forwardPage } from '../cursors';
import { requireWorkspaceAccess } from '../guards';
import {
  CreditHoldsArgs,
  ExtendCreditHoldInput,
  ReleaseCreditHoldInput,
  ReserveCreditsInput,
  SettleCreditHoldInput,
} from '../hold-inputs';
import { CreditConsumption } from '../types/consumption';
import { CreditHold, CreditHoldConnection } from '../types/holds';

const metadataOf = (principal: Principal): CommandMetadata => ({ actorId: principal.subject });

const date = (epochMs: number | undefined): Date | undefined => (epochMs === undefined ? undefined : new Date(epochMs));

/** A hold as the command side answered it. */
const fromResult = (workspaceId: string, hold: HoldResult): CreditHold => ({
  id: hold.holdId,
  workspaceId,
  action: hold.action,
  units: hold.units,
  creditsPerUnit: hold.creditsPerUnit,
  credits: hold.credits,
  status: hold.status,
  expiresAt: new Date(hold.expiresAt),
  reference: hold.reference,
  createdAt: new Date(hold.createdAt),
  // A hold past its instant whose expiry is not written yet closed at that instant all the same.
  closedAt: date(hold.closedAt ?? (hold.status === 'EXPIRED' ? hold.expiresAt : undefined)),
  settledCredits: hold.settlement?.credits,
  consumptionId: hold.settlement?.consumptionId,
  drawdown: hold.drawdown,
});

/** A hold as the holds read model has it. */
const fromView = (view: CreditHoldView): CreditHold => ({ ...view });

/**
 * Runs a command on a hold. One that ended longer ago than the decider remembers holds (7 days)
 * is NOT_FOUND there: it is answered by how it ended, as it was within those days (HOLD_SETTLED,
 * HOLD_RELEASED, HOLD_EXPIRED, or `whenEnded`'s answer for a command that changes nothing then).
 */
async function onHold<T>(
  context: GraphQLContext,
  holdId: string,
  run: () => Promise<T>,
  whenEnded?: (hold: CreditHoldView) => T | undefined,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!isCreditsError(error) || error.code !== 'NOT_FOUND') throw error;
    const ended = context.services.holds.queries.ended(holdId);
    if (!ended) throw error;
    const answer = whenEnded?.(ended);
    if (answer !== undefined) return answer;
    throw holdClosed(holdId, ended.status, (ended.closedAt ?? ended.expiresAt).getTime());
  }
}

/**
 * Holds of long-running actions: any role of the hold's workspace (SERVICE included, the usual
 * caller), or an admin, may reserve, settle, release, extend and list them. Settle, release and
 * extend name only the hold: its workspace is looked up first, and the caller authorized for it.
 */
@Authorized()
@Resolver()
export class HoldsResolver {
  @Mutation(() => CreditHold, {
    description:
      'Reserves credits for a long-running action: drawn like a spend, spendable by nothing else until settled, released or expired. Refused whole with INSUFFICIENT_CREDITS (required, available) when the balance cannot cover it.',
  })
  async reserveCredits(
    @Arg('input', () => ReserveCreditsInput) input: ReserveCreditsInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CreditHold> {
    const principal = requireWorkspaceAccess(context, input.workspaceId);
    const { result } = await context.services.holds.commands.reserveCredits(
      {
        workspaceId: input.workspaceId,
        action: input.action,
        units: input.units,
        idempotencyKey: input.idempotencyKey,
        ...(input.expiresAt && { expiresAt: input.expiresAt }),
        ...(input.reference !== undefined && input.reference !== null && { reference: input.reference }),
      },
      metadataOf(principal),
    );
    return fromResult(input.workspaceId, result);
  }

  @Mutation(() => CreditConsumption, {
    description:
      "Records what a held action really cost, at the hold's rate, as a spend, and gives the rest back at once. Up to what it holds it cannot fail for lack of credits. Refused with HOLD_EXCEEDED for more than was held (unless takeExcessFromBalance), HOLD_EXPIRED, HOLD_SETTLED (another key) or HOLD_RELEASED.",
  })
  async settleCreditHold(
    @Arg('input', () => SettleCreditHoldInput) input: SettleCreditHoldInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CreditConsumption> {
    const workspaceId = await context.services.holds.queries.workspaceOfHold(input.holdId);
    const principal = requireWorkspaceAccess(context, workspaceId);
    const { result } = await onHold(context, input.holdId, () =>
      context.services.holds.commands.settleCreditHold(
        {
          workspaceId,
          holdId: input.holdId,
          units: input.units,
          idempotencyKey: input.idempotencyKey,
          takeExcessFromBalance: input.takeExcessFromBalance,
        },
        metadataOf(principal),
      ),
    );
    const { hold, settlement } = result;
    return {
      id: settlement.consumptionId,
      workspaceId,
      action: hold.action,
      units: settlement.units,
      credits: settlement.credits,
      available: settlement.availableAfter,
      drawdown: settlement.drawdown,
      reference: hold.reference,
      consumedAt: new Date(settlement.settledAt),
      holdId: hold.holdId,
    };
  }

  @Mutation(() => CreditHold, {
    description:
      'Gives every credit of a hold back: its action will not run. Releasing a released or expired hold changes nothing; a settled one is refused with HOLD_SETTLED.',
  })
  async releaseCreditHold(
    @Arg('input', () => ReleaseCreditHoldInput) input: ReleaseCreditHoldInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CreditHold> {
    const workspaceId = await context.services.holds.queries.workspaceOfHold(input.holdId);
    const principal = requireWorkspaceAccess(context, workspaceId);
    return onHold(
      context,
      input.holdId,
      async () => {
        const { result } = await context.services.holds.commands.releaseCreditHold(
          {
            workspaceId,
            holdId: input.holdId,
            ...(input.reason !== undefined && input.reason !== null && { reason: input.reason }),
          },
          metadataOf(principal),
        );
        return fromResult(workspaceId, result);
      },
      // Released or expired long ago: releasing it changes nothing, as it did within the 7 days.
      (ended) => (ended.status === 'SETTLED' ? undefined : fromView(ended)),
    );
  }

  @Mutation(() => CreditHold, {
    description:
      'Keeps a running action’s hold until expiresAt (a heartbeat), at most 24 hours ahead of now and 7 days after the hold was made (BAD_USER_INPUT past either). Refused with HOLD_EXPIRED, HOLD_SETTLED or HOLD_RELEASED once the hold is over.',
  })
  async extendCreditHold(
    @Arg('input', () => ExtendCreditHoldInput) input: ExtendCreditHoldInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CreditHold> {
    const workspaceId = await context.services.holds.queries.workspaceOfHold(input.holdId);
    const principal = requireWorkspaceAccess(context, workspaceId);
    const { result } = await onHold(context, input.holdId, () =>
      context.services.holds.commands.extendCreditHold(
        { workspaceId, holdId: input.holdId, expiresAt: input.expiresAt },
        metadataOf(principal),
      ),
    );
    return fromResult(workspaceId, result);
  }

  @Query(() => CreditHoldConnection, {
    description: "The workspace's holds, newest first, optionally only those in one status now.",
  })
  creditHolds(
    @Args(() => CreditHoldsArgs) { workspaceId, status, first, after }: CreditHoldsArgs,
    @Ctx() context: GraphQLContext,
  ): CreditHoldConnection {
    requireWorkspaceAccess(context, workspaceId);
    const before = cursorArgument('after', after, decodeCursor);
    const { holds, hasNextPage } = context.services.holds.queries.page(workspaceId, {
      status,
      first: first ?? DEFAULT_LEDGER_PAGE,
      before,
    });
    const edges = holds.map((view) => ({ cursor: encodeCursor(view.position), node: fromView(view) }));
    return forwardPage(edges, hasNextPage, before);
  }
}
