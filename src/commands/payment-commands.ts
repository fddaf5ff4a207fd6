/**
 * Money in and out, as the API and the payment provider's webhooks ask for it: starting a checkout,
 * what the provider says became of checkouts, refunds and disputes, an admin's refund of a purchase
 * and of a spend. Each request becomes one command on its workspace's stream, with ids derived from
 * the request so a repeat finds what the first made. Nothing here talks to the provider: asking it
 * for a payment page or a refund is the payments reaction's job, after the request is recorded.
 */
import { createHash } from 'node:crypto';
import type { Catalog } from '../catalog/catalog';
import type { Clock } from '../clock';
import type { Money } from '../domain/credits';
import type { CheckoutOffer, CreditsConsumed, ProviderDisputeFact, ProviderRefundFact } from '../domain/events';
import { foundOnceCaughtUp, invalidCommand, notFound } from '../domain/errors';
import { keylessRefundId } from '../domain/decisions/request-purchase-refund';
import type { EventStore } from '../eventstore/port';
import { toWorkspaceCreditsEvent, workspaceStreamName } from '../events/workspace-stream';
import type { CommandMetadata, CommandOutcome, WorkspaceCreditsCommandHandler } from './command-handler';
import type { WorkspaceLookup } from './ports';

/** A stable id from the parts of a request: a repeated request gets the id the first one got. */
export const derivedId = (prefix: string, ...parts: string[]): string =>
  `${prefix}_${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32)}`;

export const offerOf = (creditPackage: NonNullable<ReturnType<Catalog['creditPackage']>>): CheckoutOffer => ({
  packageId: creditPackage.id,
  packageName: creditPackage.name,
  credits: creditPackage.credits,
  price: { amount: creditPackage.price.amount, currency: creditPackage.price.currency },
  ...(creditPackage.expiresAfterDays !== undefined && { expiresAfterDays: creditPackage.expiresAfterDays }),
});

export class PaymentCommands {
  constructor(
    private readonly handler: WorkspaceCreditsCommandHandler,
    private readonly catalog: Catalog,
    private readonly lookup: WorkspaceLookup,
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly newId: () => string,
  ) {}

  /**
   * Records the offer a billing manager is about to pay for. With `idempotencyKey`, a repeated
   * request returns the checkout (and so the payment page) of the first.
   */
  startCheckout(
    request: { workspaceId: string; packageId: string; idempotencyKey?: string | null | undefined },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<{ workspaceId: string; checkoutId: string }>> {
    const creditPackage = this.catalog.creditPackage(request.packageId);
    if (!creditPackage) throw notFound('Credit package', request.packageId);
    const checkoutId =
      request.idempotencyKey == null
        ? this.newId()
        : derivedId('checkout', request.workspaceId, metadata.actorId, request.idempotencyKey);
    return this.handler.handle(
      {
        type: 'StartCheckout',
        data: {
          workspaceId: request.workspaceId,
          checkoutId,
          offer: offerOf(creditPackage),
          startedBy: metadata.actorId,
          now: this.clock.now(),
        },
      },
      metadata,
      () => ({ workspaceId: request.workspaceId, checkoutId }),
    );
  }

  recordCheckoutOpened(
    workspaceId: string,
    checkoutId: string,
    session: { id: string; url: string; expiresAt: Date },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<void>> {
    return this.handler.handle(
      {
        type: 'RecordCheckoutSession',
        data: {
          workspaceId,
          checkoutId,
          outcome: 'OPENED',
          sessionId: session.id,
          url: session.url,
          expiresAt: session.expiresAt,
          now: this.clock.now(),
        },
      },
      metadata,
      () => undefined,
    );
  }

  recordCheckoutFailed(
    workspaceId: string,
    checkoutId: string,
    error: string,
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<void>> {
    return this.handler.handle(
      {
        type: 'RecordCheckoutSession',
        data: { workspaceId, checkoutId, outcome: 'FAILED', error, now: this.clock.now() },
      },
      metadata,
      () => undefined,
    );
  }

  /**
   * The provider collected a checkout's payment. A session opened before checkouts were recorded
   * names only its package: its offer is the catalog's package as it is now.
   */
  creditPaidCheckout(
    payment: {
      workspaceId: string;
      sessionId: string;
      checkoutId: string | undefined;
      packageId: string | undefined;
      paymentIntentId: string | null;
      amountPaid: Money;
    },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<void>> {
    const legacyPackage =
      payment.checkoutId === undefined && payment.packageId !== undefined
        ? this.catalog.creditPackage(payment.packageId)
        : undefined;
    return this.handler.handle(
      {
        type: 'CreditPaidCheckout',
        data: {
          workspaceId: payment.workspaceId,
          sessionId: payment.sessionId,
          ...(payment.checkoutId !== undefined && { checkoutId: payment.checkoutId }),
          ...(legacyPackage && { legacyOffer: offerOf(legacyPackage) }),
          paymentIntentId: payment.paymentIntentId,
          amountPaid: payment.amountPaid,
          grantId: this.newId(),
          purchasedBy: metadata.actorId,
          now: this.clock.now(),
        },
      },
      metadata,
      () => undefined,
    );
  }

  recordCheckoutPayment(
    payment: {
      workspaceId: string;
      checkoutId: string;
      sessionId: string;
      status: 'PROCESSING' | 'FAILED' | 'EXPIRED';
    },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<void>> {
    return this.handler.handle(
      { type: 'RecordCheckoutPayment', data: { ...payment, now: this.clock.now() } },
      metadata,
      () => undefined,
    );
  }

  recordProviderRefund(
    workspaceId: string,
    paymentIntentId: string,
    refund: ProviderRefundFact,
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<void>> {
    return this.handler.handle(
      {
        type: 'RecordProviderRefund',
        data: { workspaceId, paymentIntentId, refund, recordedBy: metadata.actorId, now: this.clock.now() },
      },
      metadata,
      () => undefined,
    );
  }

  recordProviderDispute(
    workspaceId: string,
    paymentIntentId: string,
    dispute: ProviderDisputeFact,
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<void>> {
    return this.handler.handle(
      {
        type: 'RecordProviderDispute',
        data: { workspaceId, paymentIntentId, dispute, recordedBy: metadata.actorId, now: this.clock.now() },
      },
      metadata,
      () => undefined,
    );
  }

  /**
   * An admin refunds `credits` of a purchase (default: all it has left). The refund's id is derived
   * from the purchase and the admin's key, or without a key from the request itself, so repeating
   * the same request returns the refund already asked for (without a key: within a day, and not
   * once it failed or was canceled; keylessRefundId).
   */
  async requestRefund(
    request: {
      workspaceId?: string | undefined;
      purchaseId: string;
      credits?: number | null | undefined;
      reason: string;
      idempotencyKey?: string | null | undefined;
    },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<{ workspaceId: string; refundId: string }>> {
    const workspaceId = request.workspaceId ?? (await this.workspaceOfPurchase(request.purchaseId));
    // GraphQL gives an explicit null for an optional field: it means the same as leaving it out.
    const credits = request.credits ?? undefined;
    const idempotencyKey = request.idempotencyKey ?? undefined;
    const requestKey = idempotencyKey ?? `${credits ?? 'all'}\n${request.reason}`;
    const refundId = derivedId('refund', workspaceId, request.purchaseId, requestKey);
    const now = this.clock.now();
    return this.handler.handle(
      {
        type: 'RequestPurchaseRefund',
        data: {
          workspaceId,
          refundId,
          purchaseId: request.purchaseId,
          ...(credits !== undefined && { credits }),
          reason: request.reason,
          ...(idempotencyKey !== undefined && { idempotencyKey }),
          requestedBy: metadata.actorId,
          now,
        },
      },
      metadata,
      (state, events) => ({
        workspaceId,
        // The refund this request made, or else the one it repeated.
        refundId:
          events.find((event) => event.type === 'PurchaseRefundRequested')?.data.refundId ??
          (idempotencyKey === undefined
            ? keylessRefundId(
                state,
                { purchaseId: request.purchaseId, credits, refundId, reason: request.reason },
                now.getTime(),
              )
            : (state.refundKeys.get(idempotencyKey) ?? refundId)),
      }),
    );
  }

  /** Gives one spend's credits back, once: the spend is read from its workspace's stream. */
  async refundConsumption(
    request: { consumptionId: string; reason: string },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<{ workspaceId: string }>> {
    const { consumptionId } = request;
    const location = await foundOnceCaughtUp(
      () => this.lookup.spendLocation(consumptionId),
      () => this.lookup.catchUp(),
      'Consumption',
      consumptionId,
    );
    const spend = await this.spendAt(location.workspaceId, location.revision);
    if (!spend || spend.consumptionId !== consumptionId) throw notFound('Consumption', consumptionId);
    return this.handler.handle(
      {
        type: 'RefundCreditConsumption',
        data: {
          workspaceId: location.workspaceId,
          consumptionId: request.consumptionId,
          spend: { credits: spend.credits, drawdown: spend.drawdown },
          reason: request.reason,
          refundedBy: metadata.actorId,
          now: this.clock.now(),
        },
      },
      metadata,
      () => ({ workspaceId: location.workspaceId }),
    );
  }

  private async workspaceOfPurchase(purchaseId: string): Promise<string> {
    const known = (): string[] | undefined => {
      const workspaces = this.lookup.workspacesOfPurchase(purchaseId);
      return workspaces.length > 0 ? workspaces : undefined;
    };
    const workspaces = await foundOnceCaughtUp(known, () => this.lookup.catchUp(), 'Purchase', purchaseId);
    if (workspaces.length > 1) {
      throw invalidCommand(
        `Purchase "${purchaseId}" exists in ${workspaces.length} workspaces (${workspaces.join(', ')}); say which with workspaceId.`,
      );
    }
    return workspaces[0] as string;
  }

  /** The spend recorded at that revision: a CreditsConsumed, or the real cost of a settled hold. */
  private async spendAt(
    workspaceId: string,
    revision: bigint,
  ): Promise<Pick<CreditsConsumed['data'], 'consumptionId' | 'credits' | 'drawdown'> | undefined> {
    for await (const recorded of this.store.readStream(workspaceStreamName(workspaceId), {
      fromRevision: revision,
      maxCount: 1,
    })) {
      const event = toWorkspaceCreditsEvent(recorded);
      return event?.type === 'CreditsConsumed' || event?.type === 'CreditHoldSettled' ? event.data : undefined;
    }
    return undefined;
  }
}
