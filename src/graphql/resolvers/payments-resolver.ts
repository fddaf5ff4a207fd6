import { GraphQLError } from 'graphql';
import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { notFound } from '../../domain/errors';
import { isWorkspaceId } from '../../domain/workspace-id';
import type { CreditPurchaseView } from '../../queries/credits-queries';
import { PaymentsNotConfigured } from '../../payments/payment-gateway';
import type { GraphQLContext } from '../context';
import {
  cursorArgument,
  decodePurchaseCursor,
  DEFAULT_LEDGER_PAGE,
  encodePurchaseCursor,
  forwardPage,
} from '../cursors';
import { asActor, requireAdmin, requireBillingManager, requireWorkspaceAccess } from '../guards';
import {
  RefundCreditConsumptionInput,
  RefundCreditPurchaseInput,
  RetryReactionWorkInput,
  StartCreditPurchaseArgs,
  startCreditPurchaseInput,
  WorkspaceArgs,
  WorkspacePageArgs,
} from '../inputs';
import {
  CheckoutSession,
  CreditPurchase,
  CreditPurchaseConnection,
  CreditRefund,
  ParkedReactionWork,
  RefusedProviderEvent,
  UncreditedPayment,
} from '../types/purchases';
import { PAYMENT_SETTINGS_ID, PaymentSettings } from '../types/payment-settings';
import { WorkspaceCredits } from '../types/workspace-credits';

/** How long a mutation waits for the payments reaction to hear back from the provider. */
const PROVIDER_ANSWER_MS = 15_000;

/**
 * A purchase id is the workspace's own (an invoice reference may repeat across workspaces), so its
 * GraphQL id carries the workspace too: a client cache keyed by type and id (Apollo Client,
 * Graphcache) never takes one workspace's purchase for another's.
 */
const asCreditPurchase = (view: CreditPurchaseView): CreditPurchase => ({
  ...view,
  id: `${view.workspaceId}/${view.id}`,
  purchaseId: view.id,
});

/**
 * The purchase a refund names: by its purchase id, or by its GraphQL id, `<workspaceId>/<purchaseId>`
 * (what a client holding a CreditPurchase has at hand). A payment reference may hold a "/" itself:
 * with workspaceId given, a purchase of that very id there is the one meant, as before GraphQL ids
 * named their workspace; without it, an id that reads both ways is refused, asking which. Where to
 * look is all this decides.
 */
function purchaseNamed<T extends { purchaseId: string; workspaceId?: string | undefined }>(
  input: T,
  services: GraphQLContext['services'],
): T {
  const slash = input.purchaseId.indexOf('/');
  if (slash < 0) return input;
  const workspaceId = input.purchaseId.slice(0, slash);
  const purchaseId = input.purchaseId.slice(slash + 1);
  const asGraphQLId =
    isWorkspaceId(workspaceId) &&
    purchaseId !== '' &&
    (input.workspaceId === undefined || input.workspaceId === workspaceId) &&
    services.queries.hasPurchase(workspaceId, purchaseId);
  if (!asGraphQLId) return input;
  // With workspaceId given, a purchase of that very id there is the one meant.
  if (services.queries.hasPurchase(input.workspaceId, input.purchaseId)) {
    if (input.workspaceId !== undefined) return input;
    throw new GraphQLError(
      `"${input.purchaseId}" is both a purchase id and the id of purchase "${purchaseId}" of workspace "${workspaceId}": ` +
        'give workspaceId and the purchase id of the one you mean.',
      { extensions: { code: 'BAD_USER_INPUT' } },
    );
  }
  return { ...input, workspaceId, purchaseId };
}

/** Buying credits through Stripe Checkout, the purchase history, refunds, and what admins look after. */
@Authorized()
@Resolver()
export class PaymentsResolver {
  @Query(() => PaymentSettings, { description: 'Whether buying credits is possible on this server (any valid token).' })
  paymentSettings(@Ctx() { services }: GraphQLContext): PaymentSettings {
    return { id: PAYMENT_SETTINGS_ID, enabled: services.paymentsEnabled };
  }

  @Mutation(() => CheckoutSession, {
    description:
      'Opens a Stripe Checkout for a credit package (OWNER, BILLING_MANAGER or admin). The offer is recorded first, so the payment is credited exactly as offered; credits arrive once Stripe confirms the payment.',
  })
  async startCreditPurchase(
    @Args(() => StartCreditPurchaseArgs) args: StartCreditPurchaseArgs,
    @Ctx() context: GraphQLContext,
  ): Promise<CheckoutSession> {
    const { workspaceId, packageId } = startCreditPurchaseInput(args);
    const principal = requireBillingManager(context, workspaceId);
    const { services } = context;
    if (!services.catalog.creditPackage(packageId)) throw notFound('Credit package', packageId);
    if (!services.paymentsEnabled) throw new PaymentsNotConfigured();
    const { result } = await services.payments.startCheckout({ workspaceId, packageId }, asActor(principal));
    const checkout = await services.queries.settledCheckout(workspaceId, result.checkoutId, PROVIDER_ANSWER_MS);
    if (checkout?.status === 'OPEN' && checkout.sessionId && checkout.url && checkout.expiresAt) {
      return { id: checkout.sessionId, url: checkout.url, expiresAt: checkout.expiresAt };
    }
    throw new GraphQLError(
      checkout?.status === 'FAILED'
        ? `The payment provider could not open a checkout: ${checkout.error ?? 'no reason given'}. Nothing was charged.`
        : 'The payment provider has not opened the checkout yet. Nothing was charged; try again.',
      { extensions: { code: 'PAYMENT_PROVIDER_ERROR', retryable: checkout?.status !== 'FAILED' } },
    );
  }

  @Query(() => [CreditPurchase], {
    description: "The workspace's credit purchases, newest first, all of them; creditPurchasesPage pages them.",
  })
  creditPurchases(
    @Args(() => WorkspaceArgs) { workspaceId }: WorkspaceArgs,
    @Ctx() context: GraphQLContext,
  ): CreditPurchase[] {
    requireWorkspaceAccess(context, workspaceId);
    return context.services.queries.purchases(workspaceId).map(asCreditPurchase);
  }

  @Query(() => CreditPurchaseConnection, {
    description:
      "The workspace's credit purchases, newest first, a page at a time: `first`/`after` page towards older ones. For a long history (auto top-up adds a purchase each time), where creditPurchases returns them all.",
  })
  creditPurchasesPage(
    @Args(() => WorkspacePageArgs) { workspaceId, first, after }: WorkspacePageArgs,
    @Ctx() context: GraphQLContext,
  ): CreditPurchaseConnection {
    requireWorkspaceAccess(context, workspaceId);
    const from = cursorArgument('after', after, decodePurchaseCursor);
    const { purchases, hasNextPage } = context.services.queries.purchasePage(workspaceId, {
      first: first ?? DEFAULT_LEDGER_PAGE,
      after: from,
    });
    const edges = purchases.map((view) => ({
      cursor: encodePurchaseCursor({ at: view.purchasedAt.getTime(), id: view.id }),
      node: asCreditPurchase(view),
    }));
    return forwardPage(edges, hasNextPage, from);
  }

  @Mutation(() => CreditRefund, {
    description:
      'Refunds credits of a purchase (admin). The credits leave the balance at once and the money is fixed; Stripe is then asked to return it, and the answer comes back as the status. Repeating the request with the same idempotencyKey returns the same refund; without one, see the description of idempotencyKey.',
  })
  async refundCreditPurchase(
    @Arg('input', () => RefundCreditPurchaseInput) input: RefundCreditPurchaseInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CreditRefund> {
    const principal = requireAdmin(context);
    const { services } = context;
    const { result } = await services.payments.requestRefund(purchaseNamed(input, services), asActor(principal));
    const refund = await services.queries.answeredRefund(result.workspaceId, result.refundId, PROVIDER_ANSWER_MS);
    if (!refund) throw new Error(`Refund ${result.refundId} was recorded but cannot be read back.`);
    return refund;
  }

  @Mutation(() => WorkspaceCredits, {
    description:
      "Gives one spend's credits back, e.g. for a failed org chart run (admin); once. Credits whose grant can no longer be spent expire at once. The same request again changes nothing; another reason for a spend already given back is a CONFLICT.",
  })
  async refundCreditConsumption(
    @Arg('input', () => RefundCreditConsumptionInput) input: RefundCreditConsumptionInput,
    @Ctx() context: GraphQLContext,
  ): Promise<WorkspaceCredits> {
    const principal = requireAdmin(context);
    const { result } = await context.services.payments.refundConsumption(input, asActor(principal));
    return context.services.queries.workspaceCredits(result.workspaceId);
  }

  @Query(() => [UncreditedPayment], {
    description: 'Payments Stripe collected that could not be credited (admin): each needs a refund or a decision.',
  })
  uncreditedPayments(@Ctx() context: GraphQLContext): UncreditedPayment[] {
    requireAdmin(context);
    return context.services.queries
      .uncreditedPayments()
      .map((payment) => ({ ...payment, id: `${payment.workspaceId}:${payment.sessionId}` }));
  }

  @Query(() => [RefusedProviderEvent], {
    description: 'Stripe webhooks refused as invalid (bad ids or metadata), newest first (admin).',
  })
  refusedPaymentEvents(@Ctx() context: GraphQLContext): RefusedProviderEvent[] {
    requireAdmin(context);
    return context.services.queries.refusedProviderEvents().map((event) => ({ ...event, id: event.eventId }));
  }

  @Query(() => [ParkedReactionWork], {
    description: 'Side effects (refunds, checkouts) that kept failing and wait for an operator (admin).',
  })
  parkedReactionWork(@Ctx() context: GraphQLContext): ParkedReactionWork[] {
    requireAdmin(context);
    return context.services.reactions.parked().map((work) => ({ ...work, id: `${work.reaction}:${work.key}` }));
  }

  @Mutation(() => Boolean, { description: 'Tries parked work again, with its retries afresh (admin).' })
  async retryReactionWork(
    @Arg('input', () => RetryReactionWorkInput) input: RetryReactionWorkInput,
    @Ctx() context: GraphQLContext,
  ): Promise<boolean> {
    const principal = requireAdmin(context);
    await context.services.reactions.retry(input.reaction, input.key, principal.subject);
    return true;
  }
}
