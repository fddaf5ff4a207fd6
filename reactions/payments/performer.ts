/**
 * The payments reaction's side effects at the provider, each with an idempotency key derived from
 * the request it performs (`checkout-<checkoutId>`, the refund id), and each outcome recorded
 * through the command side:
 * - open a checkout's payment page; a refusal of the provider (or retries spent) is recorded as the
 *   checkout's failure, so the billing manager is told instead of waiting;
 * - make a refund; the provider is first asked whether it made this refund already (a lost answer,
 *   an error answered after it acted, a crash before the answer was recorded, long enough ago that
 *   the provider forgot the key), so a refund is never made twice; a refusal is recorded as the
 *   refund's failure, which gives its credits back;
 * - look at a pending refund again;
 * - for auto top-up: create the workspace's customer once (`customer-<workspace>`) and open the
 *   page where a card is saved (`setup-<setupId>`); charge a top-up's saved card off-session, one
 *   key per attempt (`topup-<workspace>-<topUpId>-<attempt>`), so a lost answer, a crash before the
 *   answer is recorded or a second replica replays the same charge instead of making another; a
 *   decline is an answer, recorded, and the decision says whether and when to try again;
 * - forget a removed card at the provider.
 */
import type { Catalog } from '../../src/catalog/catalog';
import type { Clock } from '../../src/clock';
import type { AutoTopUpCommands } from '../../src/commands/auto-top-up-commands';
import type { CommandMetadata } from '../../src/commands/command-handler';
import type { PaymentCommands } from '../../src/commands/payment-commands';
import { PROVIDER_ACTOR } from '../../src/commands/provider-events';
import type { AutoTopUpChargeOutcome } from '../../src/domain/commands';
import type { ProviderRefundFact } from '../../src/domain/events';
import {
  PaymentProviderError,
  PaymentsNotConfigured,
  type PaymentGateway,
  type ProviderRefund,
} from '../../src/payments/payment-gateway';
import type { PerformResult, ReactionPerformer, RetryPolicy, WorkItem } from '../reaction';
import { PAYMENTS_REACTION, PENDING_REFUND_RECHECK_MS, type PaymentWork } from './work';

export interface CheckoutUrls {
  /** May contain {CHECKOUT_SESSION_ID}, which the provider replaces. */
  successUrl: string;
  cancelUrl: string;
}

const REACTION_ACTOR: CommandMetadata = { actorId: 'payments-reaction' };
/** A billing manager is waiting on a checkout: it is given up on far sooner than a refund. */
const CHECKOUT_ATTEMPTS = 3;
/** A top-up charge the provider is still processing is looked at again this long after. */
const PROCESSING_RECHECK_MS = 15 * 60 * 1000;
/** A refund that stays pending is looked at at most this often once it has waited a while. */
const LONGEST_RECHECK_MS = 24 * 60 * 60 * 1000;

/** The provider said no for good (or there is no provider): trying again would fail the same way. */
const isFinal = (error: unknown): error is Error =>
  (error instanceof PaymentProviderError && !error.retryable) || error instanceof PaymentsNotConfigured;

/**
 * A final no about the charge or refund itself, recorded as its outcome. Not one to this service's
 * own credentials: recorded, it would count against the customer's card (pausing auto top-up and
 * telling them their card failed) or fail their refund for a fault of ours. That work is parked
 * instead, for an operator to retry once the key is mended (/readyz says degraded meanwhile).
 */
const isRefusal = (error: unknown): error is Error =>
  isFinal(error) && !(error instanceof PaymentProviderError && error.refusedCredentials);

/** What an attempt of a canceled top-up came to when Stripe has no charge of it. */
export const NOT_CHARGED: Extract<AutoTopUpChargeOutcome, { status: 'FAILED' }> = {
  status: 'FAILED',
  paymentIntentId: null,
  reason: 'ERROR',
  code: 'not_charged',
  message:
    'Not charged: auto top-up was turned off, its settings changed, or its card removed or replaced, before this attempt.',
};

/**
 * Where the card-saving page returns: the checkout's return URL, told apart by `setup=<outcome>`
 * in place of its `checkout=<outcome>`, or added to its query when it has none (a URL of the
 * app's own, CHECKOUT_SUCCESS_URL), or to its route when the app routes by the fragment (#/…): a
 * saved card must not land on a purchase's thank-you as if it were one. The rest of the URL is kept as written, Stripe's {CHECKOUT_SESSION_ID} included.
 */
export function setupReturnUrl(checkoutUrl: string, outcome: 'success' | 'cancelled'): string {
  const marked = `setup=${outcome}`;
  const replaced = checkoutUrl.replace(/([?&])checkout=[^&#]*/, `$1${marked}`);
  if (replaced !== checkoutUrl) return replaced;
  const hash = checkoutUrl.indexOf('#');
  const base = hash < 0 ? checkoutUrl : checkoutUrl.slice(0, hash);
  const fragment = hash < 0 ? '' : checkoutUrl.slice(hash);
  // A hash-routed app (#/thanks, #!/thanks) reads its parameters from the route, not the query.
  if (/^#!?\//.test(fragment)) return `${checkoutUrl}${fragment.includes('?') ? '&' : '?'}${marked}`;
  return `${base}${base.includes('?') ? '&' : '?'}${marked}${fragment}`;
}

export class PaymentsPerformer implements ReactionPerformer<PaymentWork> {
  readonly name = PAYMENTS_REACTION;
  readonly retry: RetryPolicy;

  constructor(
    private readonly gateway: PaymentGateway,
    private readonly payments: PaymentCommands,
    private readonly catalog: Catalog,
    /** Read when a checkout is opened: the server's public URL may be known only once it listens. */
    private readonly urls: () => CheckoutUrls,
    private readonly clock: Clock,
    private readonly autoTopUp: AutoTopUpCommands,
    retry: { maxAttempts: number; firstDelayMs: number } = { maxAttempts: 10, firstDelayMs: 1_000 },
  ) {
    this.retry = { ...retry, maxDelayMs: 10 * 60 * 1000 };
  }

  async perform(item: WorkItem<PaymentWork>): Promise<PerformResult> {
    const work = item.payload;
    switch (work.kind) {
      case 'open-checkout':
        return this.openCheckout(work, item.attempts);
      case 'make-refund':
        return this.makeRefund(work);
      case 'check-refund':
        return this.checkRefund(work, item.requestedAt);
      case 'setup-payment-method':
        return this.openSetup(work, item.attempts);
      case 'charge-top-up':
        return this.chargeTopUp(work);
      case 'detach-payment-method':
        await this.gateway.detachPaymentMethod(work.paymentMethodId);
        return { done: true };
    }
  }

  private async openSetup(
    work: Extract<PaymentWork, { kind: 'setup-payment-method' }>,
    attempts: number,
  ): Promise<void> {
    const { workspaceId, setupId } = work;
    const { successUrl, cancelUrl } = this.urls();
    try {
      let customerId = work.customerId;
      if (customerId === null) {
        const created = await this.gateway.createCustomer({ workspaceId, idempotencyKey: `customer-${workspaceId}` });
        // The workspace keeps the first customer recorded for it; this page saves the card on that one.
        const { result } = await this.autoTopUp.recordPaymentMethodSetup(
          workspaceId,
          { outcome: 'CUSTOMER', customerId: created.customerId },
          REACTION_ACTOR,
        );
        customerId = result ?? created.customerId;
      }
      const session = await this.gateway.createSetupSession({
        workspaceId,
        setupId,
        customerId,
        successUrl: setupReturnUrl(successUrl, 'success'),
        cancelUrl: setupReturnUrl(cancelUrl, 'cancelled'),
        idempotencyKey: `setup-${setupId}`,
      });
      await this.autoTopUp.recordPaymentMethodSetup(
        workspaceId,
        { outcome: 'OPENED', setupId, sessionId: session.id, url: session.url, expiresAt: session.expiresAt },
        REACTION_ACTOR,
      );
    } catch (error) {
      // A billing manager waits on this page: any final no fails it, ours included.
      if (isFinal(error) || attempts + 1 >= CHECKOUT_ATTEMPTS) {
        const reason = error instanceof Error ? error.message : String(error);
        await this.autoTopUp.recordPaymentMethodSetup(
          workspaceId,
          { outcome: 'FAILED', setupId, error: reason },
          REACTION_ACTOR,
        );
        return;
      }
      throw error;
    }
  }

  private async chargeTopUp(work: Extract<PaymentWork, { kind: 'charge-top-up' }>): Promise<PerformResult> {
    const { workspaceId, topUpId, attempt } = work;
    // A try of this attempt may have reached the provider before (a lost answer, a 500 after it
    // acted, a crash), maybe longer ago than the 24 hours the provider keeps a key, after which the
    // same create would charge the card a second time: it is looked for first, every time, as a
    // refund is, and what it came to recorded. Found nowhere, a new charge only while the stream
    // still says to make it: turned off, or the card removed or replaced, since this work was taken,
    // the top-up is canceled there; the attempt is then recorded as not charged, so that the top-up
    // no longer counts as money on its way.
    let found: AutoTopUpChargeOutcome | undefined;
    if (work.paymentIntentId === undefined) {
      found = await this.gateway.findTopUpCharge({ customerId: work.customerId, workspaceId, topUpId, attempt });
      if (!found && !(await this.autoTopUp.mayCharge(workspaceId, topUpId, work.paymentMethodId))) {
        await this.autoTopUp.recordAutoTopUpCharge(
          workspaceId,
          { topUpId, attempt, outcome: NOT_CHARGED },
          REACTION_ACTOR,
        );
        return { done: true };
      }
    }
    let outcome: AutoTopUpChargeOutcome;
    try {
      // A charge still processing at the last look is read, never made again: past the 24 hours
      // the provider keeps a key, the same create would charge the card a second time.
      outcome =
        found ??
        (work.paymentIntentId !== undefined
          ? await this.gateway.offSessionCharge(work.paymentIntentId)
          : await this.gateway.chargeSavedCard({
              workspaceId,
              topUpId,
              attempt,
              customerId: work.customerId,
              paymentMethodId: work.paymentMethodId,
              amount: { amount: work.amount, currency: work.currency },
              idempotencyKey: `topup-${workspaceId}-${topUpId}-${attempt}`,
            }));
    } catch (error) {
      if (!isRefusal(error)) throw error;
      // Refused for good (an unknown or detached card, payments turned off): a failed attempt.
      outcome = { status: 'FAILED', paymentIntentId: null, reason: 'ERROR', code: null, message: error.message };
    }
    const { result: status } = await this.autoTopUp.recordAutoTopUpCharge(
      workspaceId,
      { topUpId, attempt, outcome },
      REACTION_ACTOR,
    );
    if (outcome.status === 'PROCESSING') {
      // Its webhook credits it; the work waits for that, and looks again, at this charge, if it never comes.
      return {
        checkAgainAt: new Date(this.clock.now().getTime() + PROCESSING_RECHECK_MS),
        payload: { ...work, paymentIntentId: outcome.paymentIntentId } satisfies PaymentWork,
      };
    }
    // Paid but not credited (recorded for an admin), or answered already: nothing left to do.
    if (status !== 'REQUESTED' || outcome.status === 'SUCCEEDED') return { done: true };
  }

  private async openCheckout(work: Extract<PaymentWork, { kind: 'open-checkout' }>, attempts: number): Promise<void> {
    // A configured provider price is used only while it is still the offer's price, in amount and
    // currency: the catalog may have changed since the offer was made.
    const inCatalog = this.catalog.creditPackage(work.offer.packageId);
    const samePrice =
      inCatalog?.price.amount === work.offer.price.amount && inCatalog.price.currency === work.offer.price.currency;
    const stripePriceId = samePrice ? inCatalog.stripePriceId : undefined;
    const { successUrl, cancelUrl } = this.urls();
    let session;
    try {
      session = await this.gateway.createCheckoutSession({
        workspaceId: work.workspaceId,
        checkoutId: work.checkoutId,
        packageId: work.offer.packageId,
        packageName: work.offer.packageName,
        credits: work.offer.credits,
        price: work.offer.price,
        ...(stripePriceId !== undefined && { stripePriceId }),
        startedBy: work.startedBy,
        successUrl,
        cancelUrl,
        // The SDK reuses this key on its own retries too, so a lost answer never opens a second page.
        idempotencyKey: `checkout-${work.checkoutId}`,
      });
    } catch (error) {
      // A billing manager waits on this page: any final no fails it, ours included.
      if (isFinal(error) || attempts + 1 >= CHECKOUT_ATTEMPTS) {
        const reason = error instanceof Error ? error.message : String(error);
        await this.payments.recordCheckoutFailed(work.workspaceId, work.checkoutId, reason, REACTION_ACTOR);
        return;
      }
      throw error;
    }
    await this.payments.recordCheckoutOpened(work.workspaceId, work.checkoutId, session, REACTION_ACTOR);
  }

  private async makeRefund(work: Extract<PaymentWork, { kind: 'make-refund' }>): Promise<void> {
    // Asked first every time, not only after a failed attempt: a crash between the provider's
    // answer and its record, or an operator's retry of parked work (which counts its attempts
    // afresh), leaves no failure behind, and once the provider has forgotten the key (Stripe keeps
    // it 24 hours) a second create would return the money twice. A provider that refuses to list
    // (a key without read access) parks the work rather than failing the refund: it may exist.
    let refund: ProviderRefund | undefined = (await this.gateway.listRefunds(work.paymentIntentId)).find(
      (candidate) => candidate.metadata.refundId === work.refundId,
    );
    try {
      refund ??= await this.gateway.refund({
        paymentIntentId: work.paymentIntentId,
        amount: work.amount,
        idempotencyKey: work.refundId,
        metadata: {
          workspaceId: work.workspaceId,
          purchaseId: work.purchaseId,
          refundId: work.refundId,
          credits: String(work.credits),
        },
      });
    } catch (error) {
      if (!isRefusal(error)) throw error;
      const refused: ProviderRefundFact = {
        refundId: work.refundId,
        amount: work.amount,
        currency: work.currency,
        status: 'FAILED',
        reason: `the payment provider refused the refund: ${error.message}`,
      };
      await this.payments.recordProviderRefund(work.workspaceId, work.paymentIntentId, refused, REACTION_ACTOR);
      return;
    }
    await this.record(work.workspaceId, work.paymentIntentId, work.refundId, refund);
  }

  private async checkRefund(
    work: Extract<PaymentWork, { kind: 'check-refund' }>,
    requestedAt: number,
  ): Promise<PerformResult> {
    const refund = await this.gateway.retrieveRefund(work.providerRefundId);
    if (!refund) throw new Error(`The payment provider does not know refund ${work.providerRefundId}`);
    await this.record(work.workspaceId, work.paymentIntentId, work.refundId, refund);
    if (refund.status !== 'PENDING' && refund.status !== 'REQUIRES_ACTION') return;
    // Still waiting: look again after as long again as it has waited so far, at most a day later.
    const now = this.clock.now().getTime();
    const wait = Math.min(LONGEST_RECHECK_MS, Math.max(PENDING_REFUND_RECHECK_MS, now - requestedAt));
    return { checkAgainAt: new Date(now + wait) };
  }

  private async record(
    workspaceId: string,
    paymentIntentId: string,
    refundId: string,
    refund: ProviderRefund,
  ): Promise<void> {
    const fact: ProviderRefundFact = {
      providerRefundId: refund.refundId,
      refundId,
      amount: refund.amount,
      currency: refund.currency,
      status: refund.status,
      ...(refund.failureReason !== undefined && {
        reason: `the refund failed at the payment provider (${refund.failureReason})`,
      }),
    };
    await this.payments.recordProviderRefund(workspaceId, paymentIntentId, fact, { actorId: PROVIDER_ACTOR });
  }
}
