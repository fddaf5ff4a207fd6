import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { requireAdmin, requireBillingManager, requireWorkspaceAccess } from '../guards';
import {
  RefundCreditConsumptionInput,
  RefundCreditPurchaseInput,
  StartCreditPurchaseArgs,
  startCreditPurchaseInput,
  WorkspaceArgs,
} from '../inputs';
import { CheckoutSession, CreditPurchase, CreditRefund } from '../types/purchases';
import { WorkspaceCredits } from '../types/workspace-credits';

/** Buying credits through Stripe Checkout, the purchase history, and refunds. */
@Authorized()
@Resolver()
export class PaymentsResolver {
  @Mutation(() => CheckoutSession, {
    description:
      'Opens a Stripe Checkout for a credit package (OWNER, BILLING_MANAGER or admin). Credits arrive once Stripe confirms the payment.',
  })
  async startCreditPurchase(
    @Args(() => StartCreditPurchaseArgs) args: StartCreditPurchaseArgs,
    @Ctx() context: GraphQLContext,
  ): Promise<CheckoutSession> {
    const { workspaceId, packageId } = startCreditPurchaseInput(args);
    const principal = requireBillingManager(context, workspaceId);
    return context.services.payments.startCheckout(workspaceId, packageId, principal.subject);
  }

  @Query(() => [CreditPurchase], { description: "The workspace's credit purchases, newest first." })
  creditPurchases(
    @Args(() => WorkspaceArgs) { workspaceId }: WorkspaceArgs,
    @Ctx() context: GraphQLContext,
  ): CreditPurchase[] {
    requireWorkspaceAccess(context, workspaceId);
    return context.services.queries.purchases(workspaceId);
  }

  @Mutation(() => CreditRefund, {
    description:
      'Refunds unspent credits of a purchase (admin): money back through Stripe first, then the credits leave the balance.',
  })
  async refundCreditPurchase(
    @Arg('input', () => RefundCreditPurchaseInput) input: RefundCreditPurchaseInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CreditRefund> {
    const principal = requireAdmin(context);
    const { result, position } = await context.services.payments.refundPurchase(input, { actorId: principal.subject });
    await context.services.waitForProjections(position);
    return { id: result.refundId, purchaseId: result.purchaseId, credits: result.credits, amount: result.amount };
  }

  @Mutation(() => WorkspaceCredits, {
    description: "Gives one spend's credits back, e.g. for a failed org chart run (admin); once.",
  })
  async refundCreditConsumption(
    @Arg('input', () => RefundCreditConsumptionInput) input: RefundCreditConsumptionInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WorkspaceCredits> {
    const principal = requireAdmin(context);
    const { result: workspaceId, position } = await context.services.payments.refundConsumption(input, {
      actorId: principal.subject,
    });
    await context.services.waitForProjections(position);
    return context.services.queries.workspaceCredits(workspaceId);
  }
}
