/**
 * Builders for the money-path commands and events (refunds, disputes, checkouts, provider facts),
 * with readable defaults, so the specifications stay mostly data. The default purchase is the one
 * `purchased()` in builders.ts makes: 'cs_pay_1', grant 'purchase-1', paid through 'pi_1'.
 */
import type {
  CreditPaidCheckout,
  RecordCheckoutPayment,
  RecordCheckoutSession,
  RecordProviderDispute,
  RecordProviderRefund,
  RefundCreditConsumption,
  RequestPurchaseRefund,
  StartCheckout,
} from '../../src/domain/commands';
import type { Drawdown } from '../../src/domain/credits';
import type {
  CheckoutOffer,
  CheckoutSessionOpened,
  CheckoutStarted,
  CreditConsumptionRefunded,
  CreditPurchaseRefunded,
  ProviderDisputeFact,
  ProviderRefundFact,
  PurchaseDisputeClosed,
  PurchaseDisputeOpened,
  PurchaseRefundFailed,
  PurchaseRefundPending,
  PurchaseRefundRequested,
  PurchaseRefundSucceeded,
} from '../../src/domain/events';
import { at, consumed, DAY, draw, expired, purchased, WORKSPACE } from './builders';

const iso = (date: Date): string => date.toISOString();
const USD = (amount: number) => ({ amount, currency: 'USD' });

/** Event data as the decider writes it: an optional field is absent, never `undefined`. */
function defined<T extends object>(data: T): T {
  for (const key of Object.keys(data) as (keyof T)[]) if (data[key] === undefined) delete data[key];
  return data;
}

// ---------------------------------------------------------------- refunds asked by an admin

export const requestRefund = (
  f: Partial<RequestPurchaseRefund['data']> & { now?: Date } = {},
): RequestPurchaseRefund => ({
  type: 'RequestPurchaseRefund',
  data: {
    workspaceId: WORKSPACE,
    refundId: 'refund-1',
    purchaseId: 'cs_pay_1',
    reason: 'customer request',
    requestedBy: 'admin-1',
    ...f,
    now: f.now ?? at(DAY),
  },
});

export const refundRequested = (
  f: Partial<PurchaseRefundRequested['data']> & { at?: Date } = {},
): PurchaseRefundRequested => {
  const { at: when, ...fields } = f;
  return {
    type: 'PurchaseRefundRequested',
    data: defined({
      workspaceId: WORKSPACE,
      refundId: 'refund-1',
      purchaseId: 'cs_pay_1',
      grantId: 'purchase-1',
      origin: 'ADMIN',
      paymentIntentId: 'pi_1',
      credits: 1000,
      creditsOwed: 0,
      creditsRepaid: 1000,
      paysFor: 1000,
      amount: USD(9000),
      reason: 'customer request',
      requestedBy: 'admin-1',
      requestedAt: iso(when ?? at(DAY)),
      ...fields,
    }),
  };
};

export const refundPending = (f: Partial<PurchaseRefundPending['data']> = {}): PurchaseRefundPending => ({
  type: 'PurchaseRefundPending',
  data: {
    workspaceId: WORKSPACE,
    refundId: 'refund-1',
    purchaseId: 'cs_pay_1',
    providerRefundId: 're_1',
    status: 'PENDING',
    updatedAt: iso(at(DAY)),
    ...f,
  },
});

export const refundSucceeded = (f: Partial<PurchaseRefundSucceeded['data']> = {}): PurchaseRefundSucceeded => ({
  type: 'PurchaseRefundSucceeded',
  data: defined({
    workspaceId: WORKSPACE,
    refundId: 'refund-1',
    purchaseId: 'cs_pay_1',
    providerRefundId: 're_1',
    succeededAt: iso(at(DAY)),
    ...f,
  }),
});

export const refundFailed = (f: Partial<PurchaseRefundFailed['data']> = {}): PurchaseRefundFailed => ({
  type: 'PurchaseRefundFailed',
  data: defined({
    workspaceId: WORKSPACE,
    refundId: 'refund-1',
    purchaseId: 'cs_pay_1',
    grantId: 'purchase-1',
    providerRefundId: 're_1',
    status: 'FAILED',
    reason: 'the payment provider reported the refund failed',
    credits: 1000,
    creditsOwed: 0,
    creditsRepaid: 1000,
    amount: USD(9000),
    failedAt: iso(at(DAY)),
    ...f,
  }),
});

/** Release 0.x's record of a refund already made at the provider (still read, no longer written). */
export const legacyRefunded = (f: Partial<CreditPurchaseRefunded['data']> = {}): CreditPurchaseRefunded => ({
  type: 'CreditPurchaseRefunded',
  data: defined({
    workspaceId: WORKSPACE,
    purchaseId: 'cs_pay_1',
    grantId: 'purchase-1',
    refundId: 'refund-1',
    credits: 200,
    amount: USD(1960),
    reason: 'customer request',
    origin: 'ADMIN',
    refundedBy: 'admin-1',
    refundedAt: iso(at(DAY)),
    ...f,
  }),
});

// ---------------------------------------------------------------- what the provider says

export const refundFact = (f: Partial<ProviderRefundFact> = {}): ProviderRefundFact => ({
  providerRefundId: 're_1',
  amount: 9000,
  currency: 'USD',
  status: 'SUCCEEDED',
  ...f,
});

export const providerRefund = (
  refund: ProviderRefundFact,
  f: { now?: Date; paymentIntentId?: string } = {},
): RecordProviderRefund => ({
  type: 'RecordProviderRefund',
  data: {
    workspaceId: WORKSPACE,
    paymentIntentId: f.paymentIntentId ?? 'pi_1',
    refund,
    recordedBy: 'payment-provider',
    now: f.now ?? at(DAY),
  },
});

export const disputeFact = (f: Partial<ProviderDisputeFact> = {}): ProviderDisputeFact => ({
  disputeId: 'dp_1',
  amount: 18000,
  currency: 'USD',
  status: 'OPEN',
  reason: 'fraudulent',
  ...f,
});

export const providerDispute = (
  dispute: ProviderDisputeFact,
  f: { now?: Date; paymentIntentId?: string } = {},
): RecordProviderDispute => ({
  type: 'RecordProviderDispute',
  data: {
    workspaceId: WORKSPACE,
    paymentIntentId: f.paymentIntentId ?? 'pi_1',
    dispute,
    recordedBy: 'payment-provider',
    now: f.now ?? at(DAY),
  },
});

export const disputeOpened = (f: Partial<PurchaseDisputeOpened['data']> = {}): PurchaseDisputeOpened => ({
  type: 'PurchaseDisputeOpened',
  data: {
    workspaceId: WORKSPACE,
    disputeId: 'dp_1',
    purchaseId: 'cs_pay_1',
    grantId: 'purchase-1',
    amount: USD(18000),
    reason: 'fraudulent',
    creditsHeld: 2000,
    creditsSpent: 0,
    openedAt: iso(at(DAY)),
    ...f,
  },
});

export const disputeClosed = (f: Partial<PurchaseDisputeClosed['data']> = {}): PurchaseDisputeClosed => ({
  type: 'PurchaseDisputeClosed',
  data: {
    workspaceId: WORKSPACE,
    disputeId: 'dp_1',
    purchaseId: 'cs_pay_1',
    grantId: 'purchase-1',
    outcome: 'WON',
    creditsTakenBack: 0,
    creditsOwed: 0,
    creditsRepaid: 0,
    paysFor: 0,
    amountLost: USD(0),
    closedAt: iso(at(DAY)),
    ...f,
  },
});

// ---------------------------------------------------------------- spends given back

export const refundSpend = (
  drawdown: Drawdown[],
  f: { now?: Date; consumptionId?: string; reason?: string } = {},
): RefundCreditConsumption => ({
  type: 'RefundCreditConsumption',
  data: {
    workspaceId: WORKSPACE,
    consumptionId: f.consumptionId ?? 'spend-1',
    spend: { credits: drawdown.reduce((sum, part) => sum + part.credits, 0), drawdown },
    reason: f.reason ?? 'org chart run failed',
    refundedBy: 'admin-1',
    now: f.now ?? at(DAY),
  },
});

export const spendRefunded = (
  drawdown: Drawdown[],
  f: { at?: Date; consumptionId?: string } = {},
): CreditConsumptionRefunded => ({
  type: 'CreditConsumptionRefunded',
  data: {
    workspaceId: WORKSPACE,
    consumptionId: f.consumptionId ?? 'spend-1',
    credits: drawdown.reduce((sum, part) => sum + part.credits, 0),
    drawdown,
    reason: 'org chart run failed',
    refundedBy: 'admin-1',
    refundedAt: iso(f.at ?? at(DAY)),
  },
});

// ---------------------------------------------------------------- checkouts

export const OFFER_2000: CheckoutOffer = {
  packageId: 'credits-2000',
  packageName: '2,000 credits',
  credits: 2000,
  price: USD(18000),
};

export const startCheckout = (f: { checkoutId?: string; offer?: CheckoutOffer; now?: Date } = {}): StartCheckout => ({
  type: 'StartCheckout',
  data: {
    workspaceId: WORKSPACE,
    checkoutId: f.checkoutId ?? 'checkout-1',
    offer: f.offer ?? OFFER_2000,
    startedBy: 'manager-1',
    now: f.now ?? at(0),
  },
});

export const checkoutStarted = (f: { checkoutId?: string; offer?: CheckoutOffer } = {}): CheckoutStarted => ({
  type: 'CheckoutStarted',
  data: {
    workspaceId: WORKSPACE,
    checkoutId: f.checkoutId ?? 'checkout-1',
    offer: f.offer ?? OFFER_2000,
    startedBy: 'manager-1',
    startedAt: iso(at(0)),
  },
});

export const checkoutOpened = (f: { checkoutId?: string; sessionId?: string } = {}): CheckoutSessionOpened => ({
  type: 'CheckoutSessionOpened',
  data: {
    workspaceId: WORKSPACE,
    checkoutId: f.checkoutId ?? 'checkout-1',
    sessionId: f.sessionId ?? 'cs_pay_1',
    url: 'https://checkout.example/cs_pay_1',
    expiresAt: iso(at(DAY)),
    openedAt: iso(at(0)),
  },
});

export const recordSession = (
  outcome: { opened: true; sessionId?: string } | { opened: false; error: string },
  f: { checkoutId?: string } = {},
): RecordCheckoutSession => ({
  type: 'RecordCheckoutSession',
  data: outcome.opened
    ? {
        workspaceId: WORKSPACE,
        checkoutId: f.checkoutId ?? 'checkout-1',
        outcome: 'OPENED',
        sessionId: outcome.sessionId ?? 'cs_pay_1',
        url: 'https://checkout.example/cs_pay_1',
        expiresAt: at(DAY),
        now: at(0),
      }
    : {
        workspaceId: WORKSPACE,
        checkoutId: f.checkoutId ?? 'checkout-1',
        outcome: 'FAILED',
        error: outcome.error,
        now: at(0),
      },
});

export const paidCheckout = (f: Partial<CreditPaidCheckout['data']> = {}): CreditPaidCheckout => ({
  type: 'CreditPaidCheckout',
  data: {
    workspaceId: WORKSPACE,
    sessionId: 'cs_pay_1',
    checkoutId: 'checkout-1',
    paymentIntentId: 'pi_1',
    amountPaid: USD(18000),
    grantId: 'purchase-1',
    purchasedBy: 'manager-1',
    now: at(0),
    ...f,
  },
});

export const checkoutPayment = (
  status: RecordCheckoutPayment['data']['status'],
  f: { checkoutId?: string } = {},
): RecordCheckoutPayment => ({
  type: 'RecordCheckoutPayment',
  data: { workspaceId: WORKSPACE, checkoutId: f.checkoutId ?? 'checkout-1', sessionId: 'cs_pay_1', status, now: at(0) },
});

// ---------------------------------------------------------------- a refund failing after a lapse

/**
 * `spent` of a purchase of `credits` are spent; the provider reports a refund of all its money
 * pending (the rest taken back, the spent ones owed); the spend is given back, and lapses for that
 * money; then the refund fails, restoring the lapsed credits besides the ones taken back.
 */
export function refundFailingAfterLapse(f: { credits: number; spent: number; price: number }) {
  const { credits, spent } = f;
  const lapsed = expired({ grantId: 'purchase-1', source: 'PURCHASED', credits: spent, expiredAt: at(DAY) });
  const owed = { creditsOwed: spent, creditsRepaid: credits, amount: USD(f.price) };
  return [
    purchased({ credits, price: USD(f.price) }),
    consumed({ credits: spent, drawdown: [draw('purchase-1', 'PURCHASED', spent)], availableAfter: credits - spent }),
    refundRequested({ origin: 'PROVIDER', credits: credits - spent, ...owed }),
    spendRefunded([draw('purchase-1', 'PURCHASED', spent)]),
    { ...lapsed, data: { ...lapsed.data, reason: 'MONEY_RETURNED' as const } },
    refundFailed({ credits: credits - spent, creditsRestored: spent, ...owed, creditsOwed: 0 }),
  ];
}
