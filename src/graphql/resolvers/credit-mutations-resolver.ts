import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { asActor, requireAdmin, requireWorkspaceAccess } from '../guards';
import { ApplyPlanAllowanceInput, ConsumeCreditsInput, GrantCreditsInput, PurchaseCreditsInput } from '../inputs';
import { CreditConsumption } from '../types/consumption';
import { WorkspaceCredits } from '../types/workspace-credits';

/**
 * Writes. The command side answers only after its events are durable and the read models include
 * them (read-your-writes), so a resolver maps the result, and a query that follows sees the change.
 */
@Authorized()
@Resolver()
export class CreditMutationsResolver {
  @Mutation(() => CreditConsumption, {
    description:
      'Spends credits on an action. Refused whole with INSUFFICIENT_CREDITS when the balance cannot cover it.',
  })
  async consumeCredits(
    @Arg('input', () => ConsumeCreditsInput) input: ConsumeCreditsInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CreditConsumption> {
    const principal = requireWorkspaceAccess(context, input.workspaceId);
    const { result } = await context.services.commands.consumeCredits(
      {
        workspaceId: input.workspaceId,
        action: input.action,
        units: input.units,
        idempotencyKey: input.idempotencyKey,
        ...(input.reference !== undefined && input.reference !== null && { reference: input.reference }),
      },
      asActor(principal),
    );
    return {
      id: result.consumptionId,
      workspaceId: input.workspaceId,
      action: result.action,
      units: result.units,
      credits: result.credits,
      available: result.availableAfter,
      drawdown: result.drawdown,
      reference: result.reference,
      consumedAt: new Date(result.consumedAt),
    };
  }

  @Mutation(() => WorkspaceCredits, {
    description:
      "Grants a billing period's included credits (admin: the subscription system). Applying a period twice grants once. A period is applied at or after its start (one that has not started, or lasts more than 366 days, is BAD_USER_INPUT); a new period ends what was left of the one before.",
  })
  async applyPlanAllowance(
    @Arg('input', () => ApplyPlanAllowanceInput) input: ApplyPlanAllowanceInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WorkspaceCredits> {
    const principal = requireAdmin(context);
    await context.services.commands.applyPlanAllowance(input, asActor(principal));
    return context.services.queries.workspaceCredits(input.workspaceId);
  }

  @Mutation(() => WorkspaceCredits, {
    description:
      'Records a purchase paid outside Stripe (invoice, bank transfer); admin only. paymentReference is the idempotency key.',
  })
  async purchaseCredits(
    @Arg('input', () => PurchaseCreditsInput) input: PurchaseCreditsInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WorkspaceCredits> {
    const principal = requireAdmin(context);
    await context.services.commands.purchaseCredits(
      { workspaceId: input.workspaceId, packageId: input.packageId, purchaseId: input.paymentReference },
      asActor(principal),
    );
    return context.services.queries.workspaceCredits(input.workspaceId);
  }

  @Mutation(() => WorkspaceCredits, { description: 'Gives promotional or goodwill credits; admin only.' })
  async grantCredits(
    @Arg('input', () => GrantCreditsInput) input: GrantCreditsInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WorkspaceCredits> {
    const principal = requireAdmin(context);
    await context.services.commands.grantCredits(
      {
        workspaceId: input.workspaceId,
        credits: input.credits,
        reason: input.reason,
        idempotencyKey: input.idempotencyKey,
        ...(input.expiresAt && { expiresAt: input.expiresAt }),
      },
      asActor(principal),
    );
    return context.services.queries.workspaceCredits(input.workspaceId);
  }
}
