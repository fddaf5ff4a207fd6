/**
 * Money in and out: buying a credit package through the payment provider's checkout, crediting it
 * when the signed webhook says it was paid, refunding purchases (at the provider first, then in the
 * ledger) and giving back the credits of a failed spend. Everything a client sends is checked
 * against the catalog and the recorded history; the provider's word decides what was paid.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { CreditLedgerReader } from '../../projections/credit-ledger-reader';
import type { CreditPurchasesReader } from '../../projections/credit-purchases';
import type { Catalog } from '../catalog/catalog';
import { notFound } from '../domain/errors';
import { planProviderRefund, planPurchaseRefund } from '../domain/refunds';
import type { PurchaseRefundRecord, WorkspaceCreditsState } from '../domain/state';
import type { CheckoutSession, PaymentEvent, PaymentGateway } from '../payments/payment-gateway';
import type { CommandMetadata, CommandOutcome, WorkspaceCreditsCommandHandler } from './command-handler';
import type { Clock } from '../clock';
import type { CreditsCommands } from './credits-commands';

export interface CheckoutUrls {
  /** May contain {CHECKOUT_SESSION_ID}, which the provider replaces. */
  successUrl: string;
  cancelUrl: string;
}

export const PROVIDER_ACTOR = 'stripe';

/** Stable ids from a purchase and a key: a retried refund reuses its id, at the provider too. */
const refundIdFor = (purchaseId: string, key: string): string =>
  `refund_${createHash('sha256').update(`${purchaseId}\n${key}`).digest('hex').slice(0, 32)}`;

export class CreditPayments {
  constructor(
    private readonly handler: WorkspaceCreditsCommandHandler,
    private readonly commands: CreditsCommands,
    private readonly catalog: Catalog,
    private readonly gateway: PaymentGateway,
    private readonly purchases: CreditPurchasesReader,
    private readonly ledger: CreditLedgerReader,
    private readonly urls: CheckoutUrls,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly newKey: () => string,
  ) {}

  async startCheckout(workspaceId: string, packageId: string, startedBy: string): Promise<CheckoutSession> {
    const creditPackage = this.catalog.creditPackage(packageId);
    if (!creditPackage) throw notFound('Credit package', packageId);
    return this.gateway.createCheckoutSession({
      workspaceId,
      packageId,
      packageName: creditPackage.name,
      credits: creditPackage.credits,
      price: creditPackage.price,
      ...(creditPackage.stripePriceId !== undefined && { stripePriceId: creditPackage.stripePriceId }),
      startedBy,
      successUrl: this.urls.successUrl,
      cancelUrl: this.urls.cancelUrl,
      // The SDK reuses this key on its own retries, so a lost answer never opens a second session.
      idempotencyKey: `checkout-${this.newKey()}`,
    });
  }

  /** What the verified webhook says happened, applied once however often it is delivered. */
  async handlePaymentEvent(event: PaymentEvent): Promise<void> {
    switch (event.kind) {
      case 'checkout_paid':
        return this.creditPaidCheckout(event);
      case 'charge_refunded':
        return this.recordProviderRefunds(event.paymentIntentId);
      case 'checkout_pending':
      case 'checkout_failed':
        this.logger.info({ kind: event.kind, sessionId: event.sessionId }, 'checkout not paid: nothing credited');
        return;
      case 'ignored':
        return;
    }
  }

  private async creditPaidCheckout(event: Extract<PaymentEvent, { kind: 'checkout_paid' }>): Promise<void> {
    const { workspaceId, packageId, startedBy } = event.metadata;
    const creditPackage = packageId === undefined ? undefined : this.catalog.creditPackage(packageId);
    const paidInFull =
      creditPackage !== undefined &&
      event.amountPaid === creditPackage.price.amount &&
      event.currency === creditPackage.price.currency &&
      event.metadata.credits === String(creditPackage.credits);
    if (!workspaceId || !creditPackage || !paidInFull || event.paymentIntentId === null) {
      // Not a payment this service can credit (altered metadata, a price that does not match the
      // package): crediting anything would trust the wrong party. An operator must look at it.
      this.logger.error(
        {
          sessionId: event.sessionId,
          metadata: event.metadata,
          amountPaid: event.amountPaid,
          currency: event.currency,
        },
        'paid checkout does not match a credit package: nothing credited',
      );
      return;
    }
    await this.commands.purchaseCredits(
      {
        workspaceId,
        packageId: creditPackage.id,
        purchaseId: event.sessionId,
        payment: { provider: 'STRIPE', checkoutSessionId: event.sessionId, paymentIntentId: event.paymentIntentId },
      },
      { actorId: startedBy ?? PROVIDER_ACTOR },
    );
  }

  /**
   * Refunds `credits` (default: every unspent credit) of a purchase. A Stripe purchase is refunded
   * at Stripe first, with an idempotency key, and recorded only once Stripe accepted. Retrying after
   * a failure reuses the key, so the buyer is never refunded twice.
   */
  async refundPurchase(
    request: { purchaseId: string; credits?: number | undefined; reason: string; idempotencyKey?: string | undefined },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<PurchaseRefundRecord>> {
    const purchase = this.purchases.purchase(request.purchaseId);
    if (!purchase) throw notFound('Purchase', request.purchaseId);
    let refundId = '';
    return this.handler.handleAfter(
      purchase.workspaceId,
      async (state) => {
        const now = this.clock.now();
        const recorded = this.recordedPurchase(state, request.purchaseId);
        // Without a key of the caller's, the refund is identified by where the purchase stands:
        // a retry after a lost answer finds it unchanged and so reuses the id.
        refundId = refundIdFor(
          request.purchaseId,
          request.idempotencyKey ?? `${recorded.refundedCredits}:${request.credits ?? 'all'}`,
        );
        if (state.purchaseRefunds.has(refundId)) return undefined;
        const plan = planPurchaseRefund(state, request.purchaseId, request.credits, now.getTime());
        const payment = plan.purchase.payment;
        const providerRefundId =
          payment.provider === 'STRIPE'
            ? (
                await this.gateway.refund({
                  paymentIntentId: payment.paymentIntentId,
                  amount: plan.amount.amount,
                  idempotencyKey: refundId,
                  metadata: {
                    workspaceId: purchase.workspaceId,
                    purchaseId: request.purchaseId,
                    refundId,
                    credits: String(plan.credits),
                  },
                })
              ).refundId
            : undefined;
        return {
          type: 'RefundCreditPurchase',
          data: {
            workspaceId: purchase.workspaceId,
            purchaseId: request.purchaseId,
            refundId,
            ...(providerRefundId !== undefined && { providerRefundId }),
            credits: plan.credits,
            amount: plan.amount,
            reason: request.reason,
            origin: 'ADMIN',
            refundedBy: metadata.actorId,
            now,
          },
        };
      },
      metadata,
      (state) => state.purchaseRefunds.get(refundId) as PurchaseRefundRecord,
    );
  }

  /**
   * Brings the ledger in line with every refund the provider holds for a payment: ours whose answer
   * was lost, and refunds made in the provider's dashboard. Refunds already recorded are skipped.
   */
  async recordProviderRefunds(paymentIntentId: string): Promise<void> {
    const purchase = this.purchases.purchaseByPaymentIntent(paymentIntentId);
    if (!purchase) {
      this.logger.warn({ paymentIntentId }, 'refund of a payment that bought no credits: ignored');
      return;
    }
    for (const refund of await this.gateway.listRefunds(paymentIntentId)) {
      await this.handler.handleAfter(
        purchase.workspaceId,
        async (state) => {
          const now = this.clock.now();
          const ours = refund.metadata.refundId;
          if (state.providerRefunds.has(refund.refundId) || (ours !== undefined && state.purchaseRefunds.has(ours))) {
            return undefined;
          }
          const credits =
            ours !== undefined && refund.metadata.credits !== undefined
              ? Number(refund.metadata.credits)
              : planProviderRefund(state, purchase.id, refund.amount, now.getTime()).credits;
          return {
            type: 'RefundCreditPurchase',
            data: {
              workspaceId: purchase.workspaceId,
              purchaseId: purchase.id,
              refundId: ours ?? `provider-${refund.refundId}`,
              providerRefundId: refund.refundId,
              credits,
              amount: { amount: refund.amount, currency: purchase.amountPaid.currency },
              reason:
                ours !== undefined
                  ? 'refund confirmed by the payment provider'
                  : 'refunded in the payment provider dashboard',
              origin: ours !== undefined ? 'ADMIN' : 'PROVIDER',
              refundedBy: PROVIDER_ACTOR,
              now,
            },
          };
        },
        { actorId: PROVIDER_ACTOR },
        () => undefined,
      );
    }
  }

  /** Gives the credits of one spend back to the grants that paid for it, once. */
  async refundConsumption(
    request: { consumptionId: string; reason: string },
    metadata: CommandMetadata,
  ): Promise<CommandOutcome<string>> {
    const consumption = this.ledger.consumption(request.consumptionId);
    if (!consumption) throw notFound('Consumption', request.consumptionId);
    return this.handler.handle(
      {
        type: 'RefundCreditConsumption',
        data: {
          workspaceId: consumption.workspaceId,
          consumptionId: request.consumptionId,
          consumption: { credits: -consumption.credits, drawdown: consumption.grants },
          reason: request.reason,
          refundedBy: metadata.actorId,
          now: this.clock.now(),
        },
      },
      metadata,
      () => consumption.workspaceId,
    );
  }

  private recordedPurchase(state: WorkspaceCreditsState, purchaseId: string) {
    const recorded = state.purchases.get(purchaseId);
    if (!recorded) throw notFound('Purchase', purchaseId);
    return recorded;
  }
}
