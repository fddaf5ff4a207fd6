/**
 * The purchases read model: each purchase with what was paid and what is left, its refunds and
 * disputes; the checkouts that lead to purchases; paid checkouts that could not be credited; provider
 * events refused as invalid; and the lookups the command side's ports are answered from.
 */
import type { Database } from 'better-sqlite3';
import { creditPurchasesProjection } from '../../projections/credit-purchases';
import { CreditPurchasesReader } from '../../projections/credit-purchases-reader';
import type {
  PaidCheckoutNotCredited,
  ProviderEventDeferred,
  ProviderPaymentFact,
  ProviderRefundFact,
  WorkspaceCreditsEvent,
} from '../../src/domain/events';
import { refusedEventStream } from '../../src/events/provider-refusals';
import { at, consumed, DAY, draw, expired, purchased, WORKSPACE } from '../domain/builders';
import {
  checkoutOpened,
  checkoutStarted,
  disputeClosed,
  disputeOpened,
  refundFailed,
  refundFailingAfterLapse,
  refundPending,
  refundRequested,
  refundSucceeded,
  spendRefunded,
} from '../domain/payment-builders';
import { inWorkspace, projection, recorded } from './spec';

const purchases = projection(creditPurchasesProjection);
const reader = (db: Database) => new CreditPurchasesReader(db);
const USD = (amount: number) => ({ amount, currency: 'USD' });

/** 2,000 credits for $180, paid through Stripe. */
const bought = purchased({ credits: 2000, price: USD(18000) });

/** The purchase's numbers, and the statuses of its refunds and disputes. */
const summary = (db: Database) =>
  reader(db)
    .purchases(WORKSPACE)
    .map((purchase) => ({
      status: purchase.status,
      creditsLeft: purchase.creditsLeft,
      refundedCredits: purchase.refundedCredits,
      refundedAmount: purchase.refundedAmount.amount,
      creditsOwed: purchase.creditsOwed,
      refunds: purchase.refunds.map((refund) => refund.status),
      disputes: purchase.disputes.map((dispute) => dispute.status),
    }));

const untouched = {
  status: 'PAID' as const,
  creditsLeft: 2000,
  refundedCredits: 0,
  refundedAmount: 0,
  creditsOwed: 0,
  refunds: [],
  disputes: [],
};

describe('credit purchases: purchases', () => {
  it('shows a purchase with what was paid, through whom, and by whom', () => {
    purchases.given(bought).then(
      (db) => reader(db).purchases(WORKSPACE),
      [
        {
          id: 'cs_pay_1',
          workspaceId: WORKSPACE,
          grantId: 'purchase-1',
          packageId: 'pack-500',
          packageName: '500 credits',
          credits: 2000,
          creditsLeft: 2000,
          amountPaid: USD(18000),
          refundedCredits: 0,
          refundedAmount: USD(0),
          creditsOwed: 0,
          status: 'PAID',
          provider: 'STRIPE',
          paymentIntentId: 'pi_1',
          purchasedBy: 'billing-manager-1',
          purchasedAt: at(0),
          refunds: [],
          disputes: [],
        },
      ],
    );
  });

  it('takes what spends drew from the purchase’s grant off what is left, and adds back what they gave back', () => {
    const drawdown = [draw('purchase-1', 'PURCHASED', 300), draw('allowance-1', 'INCLUDED', 50)];
    purchases
      .given(bought, consumed({ credits: 350, drawdown, availableAfter: 0 }))
      .then(summary, [{ ...untouched, creditsLeft: 1700 }]);
    purchases
      .given(bought, consumed({ credits: 350, drawdown, availableAfter: 0 }), spendRefunded(drawdown))
      .then(summary, [untouched]);
  });

  it('lists a workspace’s purchases newest first', () => {
    purchases.given(bought, purchased({ grantId: 'purchase-2', purchaseId: 'cs_pay_2', purchasedAt: at(DAY) })).then(
      (db) =>
        reader(db)
          .purchases(WORKSPACE)
          .map((purchase) => purchase.id),
      ['cs_pay_2', 'cs_pay_1'],
    );
  });
});

describe('credit purchases: refunds', () => {
  const requested = refundRequested({ credits: 500, amount: USD(4500), creditsRepaid: 500 });

  it('shows a refund as requested, with its credits and money taken off the purchase at once', () => {
    purchases.given(bought, requested).then(summary, [
      {
        ...untouched,
        status: 'PARTIALLY_REFUNDED',
        creditsLeft: 1500,
        refundedCredits: 500,
        refundedAmount: 4500,
        refunds: ['REQUESTED'],
      },
    ]);
    purchases.given(bought, requested).then((db) => reader(db).refund(WORKSPACE, 'refund-1'), {
      id: 'refund-1',
      workspaceId: WORKSPACE,
      purchaseId: 'cs_pay_1',
      origin: 'ADMIN',
      providerRefundId: undefined,
      status: 'REQUESTED',
      credits: 500,
      creditsOwed: 0,
      amount: USD(4500),
      reason: 'customer request',
      failure: undefined,
      requestedBy: 'admin-1',
      requestedAt: at(DAY),
      updatedAt: at(DAY),
    });
  });

  it('follows the provider’s answers: pending, then succeeded', () => {
    const status = (db: Database) => {
      const refund = reader(db).refund(WORKSPACE, 'refund-1');
      return { status: refund?.status, providerRefundId: refund?.providerRefundId };
    };
    purchases.given(bought, requested, refundPending()).then(status, { status: 'PENDING', providerRefundId: 're_1' });
    purchases
      .given(bought, requested, refundPending(), refundSucceeded({ succeededAt: at(2 * DAY).toISOString() }))
      .then(status, { status: 'SUCCEEDED', providerRefundId: 're_1' });
  });

  it('gives the credits and the money back to the purchase when the refund fails, and says why', () => {
    purchases
      .given(bought, requested, refundFailed({ credits: 500, amount: USD(4500), creditsRepaid: 500 }))
      .then(summary, [{ ...untouched, refunds: ['FAILED'] }]);
    purchases
      .given(bought, requested, refundFailed({ credits: 500, amount: USD(4500) }))
      .then(
        (db) => reader(db).refund(WORKSPACE, 'refund-1')?.failure,
        'the payment provider reported the refund failed',
      );
  });

  it('calls a purchase refunded once all its money is back', () => {
    purchases
      .given(bought, refundRequested({ credits: 2000, amount: USD(18000) }))
      .then((db) => reader(db).purchases(WORKSPACE)[0]?.status, 'REFUNDED');
  });

  it('keeps the credits a refund returned money for although they were spent, and stops owing those that expire', () => {
    const owing = refundRequested({ credits: 500, creditsOwed: 300, amount: USD(7200) });
    const lapsed = expired({ grantId: 'purchase-1', source: 'PURCHASED', credits: 200, expiredAt: at(2 * DAY) });
    const moneyReturned = { ...lapsed, data: { ...lapsed.data, reason: 'MONEY_RETURNED' as const } };
    purchases.given(bought, owing).then((db) => reader(db).purchases(WORKSPACE)[0]?.creditsOwed, 300);
    purchases
      .given(
        bought,
        owing,
        expired({ grantId: 'purchase-1', source: 'PURCHASED', credits: 100, expiredAt: at(2 * DAY) }),
        moneyReturned,
      )
      .then(
        (db) => {
          const [purchase] = reader(db).purchases(WORKSPACE);
          return { creditsLeft: purchase?.creditsLeft, creditsOwed: purchase?.creditsOwed };
        },
        { creditsLeft: 1200, creditsOwed: 100 },
      );
  });
});

describe('credit purchases: a refund that fails after spent credits came back meanwhile', () => {
  it('has every credit left again, the ones that lapsed for its money included', () => {
    purchases.given(...refundFailingAfterLapse({ credits: 2000, spent: 600, price: 18000 })).then(
      (db) => {
        const [purchase] = reader(db).purchases(WORKSPACE);
        return { creditsLeft: purchase?.creditsLeft, creditsOwed: purchase?.creditsOwed, status: purchase?.status };
      },
      { creditsLeft: 2000, creditsOwed: 0, status: 'PAID' },
    );
  });
});

describe('credit purchases: disputes', () => {
  it('shows a purchase under dispute as DISPUTED until the bank decides', () => {
    purchases.given(bought, disputeOpened()).then(summary, [{ ...untouched, status: 'DISPUTED', disputes: ['OPEN'] }]);
  });

  it('shows a lost dispute as charged back, with the credits taken back and the money lost', () => {
    purchases
      .given(
        bought,
        disputeOpened(),
        disputeClosed({
          outcome: 'LOST',
          creditsTakenBack: 2000,
          amountLost: USD(18000),
          closedAt: at(2 * DAY).toISOString(),
        }),
      )
      .then(summary, [
        {
          ...untouched,
          status: 'CHARGED_BACK',
          creditsLeft: 0,
          refundedCredits: 2000,
          refundedAmount: 18000,
          disputes: ['LOST'],
        },
      ]);
  });

  it('shows a won dispute as paid again', () => {
    purchases
      .given(bought, disputeOpened(), disputeClosed({ outcome: 'WON' }))
      .then(summary, [{ ...untouched, disputes: ['WON'] }]);
  });
});

describe('credit purchases: checkouts', () => {
  const checkout = (db: Database) => {
    const found = reader(db).checkout(WORKSPACE, 'checkout-1');
    return found && { status: found.status, sessionId: found.sessionId, url: found.url, error: found.error };
  };
  const nothingYet = { sessionId: undefined, url: undefined, error: undefined };
  const page = { sessionId: 'cs_pay_1', url: 'https://checkout.example/cs_pay_1', error: undefined };

  it('follows a checkout from started to open to paid', () => {
    purchases.given(checkoutStarted()).then(checkout, { status: 'STARTED', ...nothingYet });
    purchases.given(checkoutStarted(), checkoutOpened()).then(checkout, { status: 'OPEN', ...page });
    purchases
      .given(checkoutStarted(), checkoutOpened(), { ...bought, data: { ...bought.data, checkoutId: 'checkout-1' } })
      .then(checkout, { status: 'PAID', ...page });
  });

  it('shows why the provider could not open a checkout', () => {
    purchases
      .given(checkoutStarted(), {
        type: 'CheckoutSessionFailed',
        data: {
          workspaceId: WORKSPACE,
          checkoutId: 'checkout-1',
          error: 'card_declined',
          failedAt: at(0).toISOString(),
        },
      })
      .then(checkout, { status: 'FAILED', ...nothingYet, error: 'card_declined' });
  });

  it('shows the payment’s progress, and a failed payment as PAYMENT_FAILED', () => {
    const update = (status: 'PROCESSING' | 'FAILED' | 'EXPIRED'): WorkspaceCreditsEvent => ({
      type: 'CheckoutPaymentUpdated',
      data: {
        workspaceId: WORKSPACE,
        checkoutId: 'checkout-1',
        sessionId: 'cs_pay_1',
        status,
        updatedAt: at(0).toISOString(),
      },
    });
    purchases
      .given(checkoutStarted(), checkoutOpened(), update('PROCESSING'))
      .then(checkout, { status: 'PROCESSING', ...page });
    purchases
      .given(checkoutStarted(), checkoutOpened(), update('FAILED'))
      .then(checkout, { status: 'PAYMENT_FAILED', ...page });
    purchases
      .given(checkoutStarted(), checkoutOpened(), update('EXPIRED'))
      .then(checkout, { status: 'EXPIRED', ...page });
  });
});

describe('credit purchases: what admins look after', () => {
  const notCredited = (sessionId: string, receivedAt: Date): PaidCheckoutNotCredited => ({
    type: 'PaidCheckoutNotCredited',
    data: {
      workspaceId: WORKSPACE,
      sessionId,
      paymentIntentId: null,
      amountPaid: USD(18000),
      reason: 'the offer expired',
      receivedAt: receivedAt.toISOString(),
    },
  });

  it('lists paid checkouts that could not be credited, newest first', () => {
    const listed = (sessionId: string, receivedAt: Date) => ({
      workspaceId: WORKSPACE,
      sessionId,
      paymentIntentId: undefined,
      checkoutId: undefined,
      amount: USD(18000),
      amountReturned: USD(0),
      reason: 'the offer expired',
      receivedAt,
    });
    purchases
      .given(notCredited('cs_old', at(0)), notCredited('cs_new', at(DAY)))
      .then((db) => reader(db).uncreditedPayments(), [listed('cs_new', at(DAY)), listed('cs_old', at(0))]);
  });

  it('shows what went back of an uncredited payment: refunds as Stripe last reported them, disputes lost', () => {
    const fact = (fact: ProviderPaymentFact): ProviderEventDeferred => ({
      type: 'ProviderEventDeferred',
      data: {
        workspaceId: WORKSPACE,
        paymentIntentId: 'pi_9',
        fact,
        recordedBy: 'stripe',
        receivedAt: at(DAY).toISOString(),
      },
    });
    const refund = (providerRefundId: string, amount: number, status: ProviderRefundFact['status']) =>
      fact({ kind: 'REFUND', refund: { providerRefundId, amount, currency: 'USD', status } });
    const dispute = (status: 'OPEN' | 'WON' | 'LOST') =>
      fact({
        kind: 'DISPUTE',
        dispute: { disputeId: 'dp_1', amount: 8000, currency: 'USD', status, reason: 'fraudulent' },
      });
    const paid: PaidCheckoutNotCredited = {
      ...notCredited('cs_9', at(0)),
      data: { ...notCredited('cs_9', at(0)).data, paymentIntentId: 'pi_9' },
    };
    const returned = (db: Database) => reader(db).uncreditedPayments()[0]?.amountReturned.amount;
    // A refund pending then made, another that failed, a dispute opened then lost (in any order with the payment).
    purchases
      .given(refund('re_1', 5000, 'PENDING'), paid, refund('re_1', 5000, 'SUCCEEDED'), refund('re_2', 3000, 'FAILED'))
      .then(returned, 5000);
    purchases.given(paid, dispute('OPEN')).then(returned, 0);
    // Out of order: a late, older "pending" does not undo a refund's failure.
    purchases.given(paid, refund('re_2', 3000, 'FAILED'), refund('re_2', 3000, 'PENDING')).then(returned, 0);
    // A refund can fail after it succeeded (Stripe says so): the money did not go back after all.
    purchases.given(paid, refund('re_1', 5000, 'SUCCEEDED'), refund('re_1', 5000, 'FAILED')).then(returned, 0);
    purchases.given(paid, refund('re_1', 5000, 'FAILED'), refund('re_1', 5000, 'SUCCEEDED')).then(returned, 0);
    purchases.given(paid, refund('re_1', 5000, 'SUCCEEDED'), refund('re_1', 5000, 'PENDING')).then(returned, 5000);
    purchases.given(paid, refund('re_1', 10000, 'SUCCEEDED'), dispute('OPEN'), dispute('LOST')).then(returned, 18000);
  });

  it('lists provider events refused as invalid, once each, newest first', () => {
    const refused = (eventId: string, refusedAt: Date) =>
      recorded(refusedEventStream(eventId), 'ProviderEventRefused', {
        eventId,
        type: 'checkout_paid',
        reason: 'metadata.workspaceId is invalid',
        refusedAt: refusedAt.toISOString(),
      });
    purchases.given(refused('evt_1', at(0)), refused('evt_2', at(DAY)), refused('evt_1', at(2 * DAY))).then(
      (db) => reader(db).refusedProviderEvents(),
      [
        { eventId: 'evt_2', type: 'checkout_paid', reason: 'metadata.workspaceId is invalid', refusedAt: at(DAY) },
        { eventId: 'evt_1', type: 'checkout_paid', reason: 'metadata.workspaceId is invalid', refusedAt: at(0) },
      ],
    );
  });
});

describe('credit purchases: lookups for the command side', () => {
  const manual = (workspaceId: string) =>
    inWorkspace(workspaceId, purchased({ purchaseId: 'INV-7', payment: { provider: 'MANUAL', reference: 'INV-7' } }));

  it('says which workspaces have a purchase of an id, and whose purchase a payment paid', () => {
    purchases.given(bought, manual('ws-2'), manual('ws-3')).then(
      (db) => ({
        invoice: reader(db).workspacesOfPurchase('INV-7'),
        payment: reader(db).workspaceOfPayment('pi_1'),
        unknown: reader(db).workspaceOfPayment('pi_unknown'),
      }),
      { invoice: ['ws-2', 'ws-3'], payment: WORKSPACE, unknown: undefined },
    );
  });
});
