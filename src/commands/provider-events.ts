/**
 * A verified payment-provider webhook, turned into commands on the workspaces it concerns. Its
 * content is checked like API input (ids, metadata): an event this service cannot take is refused
 * with the reason, so that the caller records it (recordRefusal) and acknowledges it rather than
 * have the provider deliver it forever. Which workspace a payment belongs to comes from the
 * metadata we set on it, or an index of recorded purchases, or the provider's own record of the
 * payment; a payment that names no workspace of ours is not ours and is ignored.
 */
import type { ProviderDisputeFact, ProviderRefundFact } from '../domain/events';
import { isWorkspaceId, WORKSPACE_ID_RULE } from '../domain/workspace-id';
import { isExpectedRevisionConflict, type EventStore } from '../eventstore/port';
import { refusedEventStream } from '../events/provider-refusals';
import type { PaymentEvent, PaymentGateway, ProviderRefund } from '../payments/payment-gateway';
import type { CommandMetadata } from './command-handler';
import type { AutoTopUpCommands } from './auto-top-up-commands';
import type { PaymentCommands } from './payment-commands';
import type { WorkspaceLookup } from './ports';

/** Who the provider's facts are recorded as coming from. */
export const PROVIDER_ACTOR = 'stripe';
const asProvider: CommandMetadata = { actorId: PROVIDER_ACTOR };

/** An event the service will not apply, and why; acknowledged so that it is not delivered again. */
export class RefusedProviderEvent extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RefusedProviderEvent';
  }
}

export interface ProviderEventOutcome {
  /** Position of the last event appended, to wait for before answering. */
  position: bigint | undefined;
  /** Why nothing was recorded, when nothing was (not ours, an event type we do not act on). */
  ignored?: string;
}

const ID_PATTERNS = {
  session: /^cs_[A-Za-z0-9_]{1,250}$/,
  setupIntent: /^seti_[A-Za-z0-9_]{1,250}$/,
  paymentIntent: /^pi_[A-Za-z0-9_]{1,250}$/,
  refund: /^(re|pyr)_[A-Za-z0-9_]{1,250}$/,
  dispute: /^(dp|du)_[A-Za-z0-9_]{1,250}$/,
  ours: /^[A-Za-z0-9_-]{1,200}$/,
  currency: /^[A-Z]{3}$/,
} as const;

function requireId(value: string | null | undefined, kind: keyof typeof ID_PATTERNS, what: string): string {
  if (typeof value !== 'string' || !ID_PATTERNS[kind].test(value)) {
    throw new RefusedProviderEvent(`${what} is not a valid id: ${JSON.stringify(value)}`);
  }
  return value;
}

function requireAmount(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RefusedProviderEvent(`${what} is not a whole amount: ${value}`);
  return value;
}

function requireCurrency(value: string): string {
  if (!ID_PATTERNS.currency.test(value)) throw new RefusedProviderEvent(`currency is invalid: ${value}`);
  return value;
}

/** The workspace a metadata map names, checked like API input; undefined when it names none. */
function workspaceIn(metadata: Record<string, string>): string | undefined {
  const workspaceId = metadata.workspaceId;
  if (workspaceId === undefined) return undefined;
  if (!isWorkspaceId(workspaceId))
    throw new RefusedProviderEvent(`metadata.workspaceId is invalid: ${WORKSPACE_ID_RULE}`);
  return workspaceId;
}

function optionalOwnId(metadata: Record<string, string>, key: string): string | undefined {
  const value = metadata[key];
  return value === undefined ? undefined : requireId(value, 'ours', `metadata.${key}`);
}

export class ProviderEvents {
  constructor(
    private readonly payments: PaymentCommands,
    private readonly lookup: WorkspaceLookup,
    private readonly gateway: PaymentGateway,
    private readonly store: EventStore,
    private readonly autoTopUp: AutoTopUpCommands,
  ) {}

  /** Records why an event was refused, once per event id (a redelivery finds it recorded). */
  async recordRefusal(event: PaymentEvent, reason: string): Promise<void> {
    const type = event.kind === 'ignored' ? event.type : event.kind;
    await this.store
      .appendToStream(
        refusedEventStream(event.eventId),
        [
          {
            type: 'ProviderEventRefused',
            data: { eventId: event.eventId, type, reason, refusedAt: new Date().toISOString() },
          },
        ],
        { expectedRevision: 'no_stream' },
      )
      .catch((error: unknown) => {
        if (!isExpectedRevisionConflict(error)) throw error;
      });
  }

  /** Applies the event once, however often it arrives; throws RefusedProviderEvent for one it will not take. */
  async apply(event: PaymentEvent): Promise<ProviderEventOutcome> {
    switch (event.kind) {
      case 'checkout_paid':
        return this.checkoutPaid(event);
      case 'checkout_unpaid':
        return this.checkoutUnpaid(event);
      case 'charge_refunded':
        return this.chargeRefunded(event);
      case 'refund_updated':
        return this.refundUpdated(event.refund);
      case 'dispute_updated':
        return this.disputeUpdated(event);
      case 'setup_completed':
        return this.setupCompleted(event);
      case 'payment_succeeded':
      case 'payment_failed':
        return this.topUpCharged(event);
      case 'ignored':
        return { position: undefined, ignored: `event type ${event.type} is not acted on` };
    }
  }

  private async checkoutPaid(event: Extract<PaymentEvent, { kind: 'checkout_paid' }>): Promise<ProviderEventOutcome> {
    const sessionId = requireId(event.sessionId, 'session', 'The checkout session');
    const workspaceId = workspaceIn(event.metadata);
    if (workspaceId === undefined) return { position: undefined, ignored: `checkout ${sessionId} names no workspace` };
    const paymentIntentId =
      event.paymentIntentId === null ? null : requireId(event.paymentIntentId, 'paymentIntent', 'The payment intent');
    const currency = requireCurrency(event.currency);
    const { position } = await this.payments.creditPaidCheckout(
      {
        workspaceId,
        sessionId,
        checkoutId: optionalOwnId(event.metadata, 'checkoutId'),
        packageId: optionalOwnId(event.metadata, 'packageId'),
        paymentIntentId,
        amountPaid: { amount: requireAmount(event.amountPaid, 'amount_total'), currency },
      },
      { actorId: event.metadata.startedBy ?? PROVIDER_ACTOR },
    );
    return { position };
  }

  private async checkoutUnpaid(
    event: Extract<PaymentEvent, { kind: 'checkout_unpaid' }>,
  ): Promise<ProviderEventOutcome> {
    const sessionId = requireId(event.sessionId, 'session', 'The checkout session');
    const workspaceId = workspaceIn(event.metadata);
    const checkoutId = optionalOwnId(event.metadata, 'checkoutId');
    if (workspaceId === undefined || checkoutId === undefined) {
      return { position: undefined, ignored: `checkout ${sessionId} names no checkout of ours` };
    }
    const { position } = await this.payments.recordCheckoutPayment(
      { workspaceId, checkoutId, sessionId, status: event.status },
      asProvider,
    );
    return { position };
  }

  /** Every refund of the charge, as listed in the event or, as Stripe sends it by default, fetched. */
  private async chargeRefunded(
    event: Extract<PaymentEvent, { kind: 'charge_refunded' }>,
  ): Promise<ProviderEventOutcome> {
    const paymentIntentId = requireId(event.paymentIntentId, 'paymentIntent', 'The charge’s payment intent');
    const workspaceId = await this.workspaceOfPayment(paymentIntentId);
    if (workspaceId === undefined) return { position: undefined, ignored: `payment ${paymentIntentId} is not ours` };
    const refunds = event.refundsListed ? event.refunds : await this.gateway.listRefunds(paymentIntentId);
    let position: bigint | undefined;
    for (const refund of refunds) {
      const outcome = await this.recordRefund(workspaceId, paymentIntentId, refund);
      position = outcome ?? position;
    }
    return { position };
  }

  private async refundUpdated(refund: ProviderRefund): Promise<ProviderEventOutcome> {
    const paymentIntentId = requireId(refund.paymentIntentId, 'paymentIntent', 'The refund’s payment intent');
    const workspaceId = await this.workspaceOfPayment(paymentIntentId);
    if (workspaceId === undefined) return { position: undefined, ignored: `payment ${paymentIntentId} is not ours` };
    return { position: await this.recordRefund(workspaceId, paymentIntentId, refund) };
  }

  private async recordRefund(
    workspaceId: string,
    paymentIntentId: string,
    refund: ProviderRefund,
  ): Promise<bigint | undefined> {
    const fact: ProviderRefundFact = {
      providerRefundId: requireId(refund.refundId, 'refund', 'The refund'),
      amount: requireAmount(refund.amount, 'The refund amount'),
      currency: refund.currency,
      status: refund.status,
      ...(refund.metadata.refundId !== undefined && {
        refundId: requireId(refund.metadata.refundId, 'ours', 'metadata.refundId'),
      }),
      ...(refund.failureReason !== undefined && {
        reason: `the refund failed at the payment provider (${refund.failureReason})`,
      }),
    };
    return (await this.payments.recordProviderRefund(workspaceId, paymentIntentId, fact, asProvider)).position;
  }

  private async disputeUpdated(
    event: Extract<PaymentEvent, { kind: 'dispute_updated' }>,
  ): Promise<ProviderEventOutcome> {
    const { dispute } = event;
    const paymentIntentId = requireId(dispute.paymentIntentId, 'paymentIntent', 'The disputed payment intent');
    const workspaceId = await this.workspaceOfPayment(paymentIntentId);
    if (workspaceId === undefined) return { position: undefined, ignored: `payment ${paymentIntentId} is not ours` };
    const fact: ProviderDisputeFact = {
      disputeId: requireId(dispute.disputeId, 'dispute', 'The dispute'),
      amount: requireAmount(dispute.amount, 'The disputed amount'),
      currency: dispute.currency,
      status: dispute.status,
      reason: dispute.reason,
    };
    const { position } = await this.payments.recordProviderDispute(workspaceId, paymentIntentId, fact, asProvider);
    return { position };
  }

  /** A card saved through a setup page we opened: the card it saved becomes the workspace's. */
  private async setupCompleted(
    event: Extract<PaymentEvent, { kind: 'setup_completed' }>,
  ): Promise<ProviderEventOutcome> {
    const sessionId = requireId(event.sessionId, 'session', 'The checkout session');
    const workspaceId = workspaceIn(event.metadata);
    const setupId = optionalOwnId(event.metadata, 'setupId');
    if (workspaceId === undefined || setupId === undefined) {
      return { position: undefined, ignored: `setup ${sessionId} names no card setup of ours` };
    }
    const setupIntentId = requireId(event.setupIntentId, 'setupIntent', 'The setup intent');
    const saved = await this.gateway.savedCard(setupIntentId);
    const { position } = await this.autoTopUp.recordPaymentMethodSetup(
      workspaceId,
      {
        outcome: 'SAVED',
        setupId,
        customerId: requireId(saved.customerId, 'ours', 'The customer'),
        paymentMethodId: requireId(saved.paymentMethodId, 'ours', 'The payment method'),
        card: saved.card,
      },
      asProvider,
    );
    return { position };
  }

  /** A charge of an auto top-up (ours carry workspaceId, topUpId and attempt) was paid or failed. */
  private async topUpCharged(
    event: Extract<PaymentEvent, { kind: 'payment_succeeded' | 'payment_failed' }>,
  ): Promise<ProviderEventOutcome> {
    const paymentIntentId = requireId(event.paymentIntentId, 'paymentIntent', 'The payment intent');
    const topUpId = optionalOwnId(event.metadata, 'topUpId');
    const workspaceId = workspaceIn(event.metadata);
    // Checkout's payments are credited from checkout.session.completed; only top-ups are ours here.
    if (workspaceId === undefined || topUpId === undefined) {
      return { position: undefined, ignored: `payment ${paymentIntentId} is not an auto top-up` };
    }
    const attempt = Number(event.metadata.attempt ?? '1');
    if (!Number.isSafeInteger(attempt) || attempt < 1)
      throw new RefusedProviderEvent(`metadata.attempt is not a whole number: ${event.metadata.attempt}`);
    const outcome =
      event.kind === 'payment_succeeded'
        ? {
            status: 'SUCCEEDED' as const,
            paymentIntentId,
            amountReceived: {
              amount: requireAmount(event.amountReceived, 'amount_received'),
              currency: requireCurrency(event.currency),
            },
          }
        : {
            status: 'FAILED' as const,
            paymentIntentId,
            reason: event.reason,
            code: event.code,
            message: event.message,
          };
    const { position } = await this.autoTopUp.recordAutoTopUpCharge(
      workspaceId,
      { topUpId, attempt, outcome },
      asProvider,
    );
    return { position };
  }

  /**
   * Ours: a purchase we recorded, else the metadata we set on the payment, as Stripe keeps it. Never
   * an event's own metadata: a refund's or a dispute's is its own, and whoever refunds in Stripe's
   * dashboard can write any workspace there.
   */
  private async workspaceOfPayment(paymentIntentId: string): Promise<string | undefined> {
    const recordedHere = this.lookup.workspaceOfPayment(paymentIntentId);
    if (recordedHere !== undefined) return recordedHere;
    const recorded = await this.gateway.paymentIntentMetadata(paymentIntentId);
    return recorded === undefined ? undefined : workspaceIn(recorded);
  }
}
