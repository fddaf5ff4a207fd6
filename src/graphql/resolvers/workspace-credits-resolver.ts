import { Args, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { requireWorkspaceAccess } from '../guards';
import { EstimateCreditsArgs, WorkspaceArgs } from '../inputs';
import { CreditEstimate } from '../types/consumption';
import { WorkspaceCredits } from '../types/workspace-credits';

/** Reads of one workspace's balance: any role of that workspace, or an admin. */
@Authorized()
@Resolver()
export class WorkspaceCreditsResolver {
  @Query(() => WorkspaceCredits, {
    description: 'The balance breakdown now. An unknown workspace has an all-zero balance.',
  })
  workspaceCredits(
    @Args(() => WorkspaceArgs) { workspaceId }: WorkspaceArgs,
    @Ctx() context: GraphQLContext,
  ): WorkspaceCredits {
    requireWorkspaceAccess(context, workspaceId);
    return context.services.queries.workspaceCredits(workspaceId);
  }

  @Query(() => CreditEstimate, {
    description:
      'What an action would cost now, and whether the balance covers it (credits held by running actions do not).',
  })
  estimateCredits(
    @Args(() => EstimateCreditsArgs) { workspaceId, action, units }: EstimateCreditsArgs,
    @Ctx() context: GraphQLContext,
  ): CreditEstimate {
    requireWorkspaceAccess(context, workspaceId);
    const credits = context.services.catalog.rate(action).creditsPerUnit * units;
    // Held credits are out of available: an action can count only on what no running action holds.
    const { available, held } = context.services.queries.workspaceCredits(workspaceId);
    const id = `${workspaceId}/${action}/${units}`;
    return { id, action, units, credits, available, held, sufficient: credits <= available };
  }
}
