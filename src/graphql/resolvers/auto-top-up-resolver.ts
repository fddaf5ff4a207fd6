import { GraphQLError } from 'graphql';
import { Arg, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { PaymentsNotConfigured } from '../../payments/payment-gateway';
import type { AutoTopUpOverview, TopUpView } from '../../queries/auto-top-up-queries';
import type { GraphQLContext } from '../context';
import { asActor, requireBillingManager, requireWorkspaceAccess } from '../guards';
import {
  AutoTopUpSettingsInput,
  ConfigureAutoTopUpInput,
  RemovePaymentMethodInput,
  SavePaymentMethodInput,
} from '../auto-top-up-inputs';
import { AutoTopUp, AutoTopUpFailure, AutoTopUpTerms, CardSetup } from '../types/auto-top-up';
import { WorkspaceCredits } from '../types/workspace-credits';

/** How long savePaymentMethod waits for the payments reaction to hear back from Stripe. */
const PROVIDER_ANSWER_MS = 15_000;

/** The saved card and auto top-up: settings with consent, and what the top-ups did. */
@Authorized()
@Resolver(() => WorkspaceCredits)
export class AutoTopUpResolver {
  @FieldResolver(() => AutoTopUp, {
    description: "Auto top-up's settings, card and this month's use (any member; money and card: billing roles).",
  })
  autoTopUp(@Root() credits: WorkspaceCredits, @Ctx() context: GraphQLContext): AutoTopUp {
    requireWorkspaceAccess(context, credits.workspaceId);
    return toAutoTopUp(context.services.autoTopUpQueries.overview(credits.workspaceId));
  }

  @Query(() => AutoTopUpTerms, {
    description:
      'The terms a billing manager consents to by saving these settings: show them, then pass them as acceptedTerms.',
  })
  autoTopUpTerms(
    @Arg('input', () => AutoTopUpSettingsInput) input: AutoTopUpSettingsInput,
    @Ctx() context: GraphQLContext,
  ): AutoTopUpTerms {
    requireBillingManager(context, input.workspaceId);
    const { terms } = context.services.autoTopUpQueries.settingsFor({
      ...input,
      targetCredits: input.targetCredits ?? null,
    });
    const key = [input.packageId, input.thresholdCredits, input.targetCredits ?? '', input.monthlyLimit].join('/');
    return { id: `${input.workspaceId}/${key}`, terms };
  }

  @Mutation(() => AutoTopUp, {
    description:
      'Sets auto top-up and records the consent to automatic charges (OWNER, BILLING_MANAGER or admin). Turning it on needs a saved card and the terms autoTopUpTerms gave for these settings, sent back as acceptedTerms (BAD_USER_INPUT without them, CONFLICT when they are no longer the terms); turning it off needs neither. Saving the settings resumes a paused auto top-up.',
  })
  async configureAutoTopUp(
    @Arg('input', () => ConfigureAutoTopUpInput) input: ConfigureAutoTopUpInput,
    @Ctx() context: GraphQLContext,
  ): Promise<AutoTopUp> {
    const principal = requireBillingManager(context, input.workspaceId);
    const { services } = context;
    if (input.enabled && !services.paymentsEnabled) throw new PaymentsNotConfigured();
    await services.autoTopUp.configureAutoTopUp(
      { ...input, targetCredits: input.targetCredits ?? null },
      asActor(principal),
    );
    return toAutoTopUp(services.autoTopUpQueries.overview(input.workspaceId));
  }

  @Mutation(() => CardSetup, {
    description:
      'Opens the Stripe page where a billing manager saves the card auto top-up charges, or replaces the saved one (OWNER, BILLING_MANAGER or admin). The card is saved once Stripe confirms it.',
  })
  async savePaymentMethod(
    @Arg('input', () => SavePaymentMethodInput) input: SavePaymentMethodInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CardSetup> {
    const principal = requireBillingManager(context, input.workspaceId);
    const { services } = context;
    if (!services.paymentsEnabled) throw new PaymentsNotConfigured();
    const { result } = await services.autoTopUp.startPaymentMethodSetup(input, asActor(principal));
    const setup = await services.autoTopUpQueries.answeredSetup(result.workspaceId, result.setupId, PROVIDER_ANSWER_MS);
    if (setup && (setup.status === 'OPEN' || setup.status === 'SAVED')) {
      return {
        id: setup.setupId,
        workspaceId: setup.workspaceId,
        status: setup.status,
        url: setup.url ?? null,
        expiresAt: setup.expiresAt ?? null,
      };
    }
    throw new GraphQLError(
      setup?.status === 'FAILED'
        ? `Stripe could not open the page to save a card: ${setup.error ?? 'no reason given'}.`
        : 'Stripe has not opened the page to save a card yet; try again with the same idempotencyKey.',
      { extensions: { code: 'PAYMENT_PROVIDER_ERROR', retryable: setup?.status !== 'FAILED' } },
    );
  }

  @Mutation(() => AutoTopUp, {
    description:
      'Removes the saved card (OWNER, BILLING_MANAGER or admin); Stripe forgets it too. Auto top-up cannot charge until another card is saved.',
  })
  async removePaymentMethod(
    @Arg('input', () => RemovePaymentMethodInput) input: RemovePaymentMethodInput,
    @Ctx() context: GraphQLContext,
  ): Promise<AutoTopUp> {
    const principal = requireBillingManager(context, input.workspaceId);
    await context.services.autoTopUp.removePaymentMethod(input.workspaceId, asActor(principal));
    return toAutoTopUp(context.services.autoTopUpQueries.overview(input.workspaceId));
  }
}

function toFailure(failure: TopUpView['lastFailure']): AutoTopUpFailure | null {
  if (!failure) return null;
  return {
    id: `${failure.workspaceId}:${failure.topUpId}:${failure.attempt}`,
    attempt: failure.attempt,
    reason: failure.reason,
    code: failure.code,
    message: failure.message,
    retryAt: failure.retryAt === null ? null : new Date(failure.retryAt),
    failedAt: new Date(failure.failedAt),
  };
}

function toAutoTopUp(view: AutoTopUpOverview): AutoTopUp {
  const { settings, workspaceId } = view;
  const recentTopUps = view.recentTopUps.map((topUp) => ({
    id: `${workspaceId}:${topUp.topUpId}`,
    workspaceId,
    topUpId: topUp.topUpId,
    status: topUp.status,
    credits: topUp.credits,
    amount: topUp.amount,
    failedAttempts: topUp.failedAttempts,
    lastFailure: toFailure(topUp.lastFailure),
    purchaseId: topUp.paymentIntentId ?? null,
    requestedAt: topUp.requestedAt,
  }));
  // The latest top-up's failure, while it matters: retried later, or given up.
  const latest = view.recentTopUps[0];
  const latestFailure = latest?.status === 'SUCCEEDED' ? undefined : latest?.lastFailure;
  return {
    id: workspaceId,
    workspaceId,
    enabled: settings?.enabled ?? false,
    paused: view.paused,
    pauseReason: view.pauseReason ?? null,
    thresholdCredits: settings?.thresholdCredits ?? null,
    packageId: settings?.packageId ?? null,
    packageName: settings?.packageName ?? null,
    targetCredits: settings?.targetCredits ?? null,
    monthlyLimit: settings?.monthlyLimit ?? null,
    chargedThisMonth: view.chargedThisMonth ?? null,
    card: view.card
      ? {
          id: view.card.paymentMethodId,
          workspaceId,
          brand: view.card.brand,
          last4: view.card.last4,
          expMonth: view.card.expMonth,
          expYear: view.card.expYear,
          savedAt: view.card.savedAt,
        }
      : null,
    consent: view.consent
      ? {
          id: `${workspaceId}:${view.consent.acceptedAt}`,
          acceptedBy: view.consent.acceptedBy,
          acceptedAt: new Date(view.consent.acceptedAt),
          terms: view.consent.terms,
        }
      : null,
    lastSkip: view.lastSkip
      ? {
          id: `${workspaceId}:${view.lastSkip.skippedAt}`,
          reason: view.lastSkip.reason,
          available: view.lastSkip.available,
          skippedAt: new Date(view.lastSkip.skippedAt),
        }
      : null,
    lastFailure: toFailure(latestFailure),
    recentTopUps,
  };
}
