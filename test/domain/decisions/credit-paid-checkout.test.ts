/**
 * CreditPaidCheckout credits exactly the offer a checkout started with when the amount collected is
 * its price, and records any other payment as not credited (never silently nothing).
 */
import { at, DAY, purchased } from '../builders';
import {
  checkoutOpened,
  checkoutStarted,
  OFFER_2000,
  paidCheckout,
  refundFact,
  refundRequested,
  refundSucceeded,
} from '../payment-builders';
import { given, stateOf } from '../spec';

const credited = purchased({
  credits: 2000,
  packageId: 'credits-2000',
  packageName: '2,000 credits',
  price: { amount: 18000, currency: 'USD' },
  purchasedBy: 'manager-1',
});
const withCheckout = { ...credited, data: { ...credited.data, checkoutId: 'checkout-1' } };

/** checkout-1's payment of `amount` recorded as not credited, for `reason`. */
const checkoutNotCredited = (amount: number, reason: string) => ({
  type: 'PaidCheckoutNotCredited' as const,
  data: {
    workspaceId: 'ws-1',
    sessionId: 'cs_pay_1',
    paymentIntentId: 'pi_1',
    checkoutId: 'checkout-1',
    amountPaid: { amount, currency: 'USD' },
    reason,
    receivedAt: at(0).toISOString(),
  },
});

describe('CreditPaidCheckout', () => {
  it('credits the offer the checkout started with, whatever the catalog says now', () =>
    given(checkoutStarted(), checkoutOpened()).when(paidCheckout()).then(withCheckout));

  it('credits once per session', () =>
    given(checkoutStarted(), checkoutOpened(), withCheckout).when(paidCheckout()).thenNothing());

  it('records as not credited a payment whose session id a manual purchase took as its reference', () => {
    const manual = purchased({ grantId: 'manual-1', payment: { provider: 'MANUAL', reference: 'cs_pay_1' } });
    const notCredited = checkoutNotCredited(
      18000,
      'the purchase id cs_pay_1 is already a manual purchase of this workspace',
    );
    given(checkoutStarted(), checkoutOpened(), manual).when(paidCheckout()).then(notCredited);
    given(checkoutStarted(), checkoutOpened(), manual, notCredited).when(paidCheckout()).thenNothing();
  });

  it('records a payment of another amount as not credited, once', () => {
    const notCredited = checkoutNotCredited(100, 'collected 100 USD for an offer of 18000 USD');
    given(checkoutStarted())
      .when(paidCheckout({ amountPaid: { amount: 100, currency: 'USD' } }))
      .then(notCredited);
    given(checkoutStarted(), notCredited)
      .when(paidCheckout({ amountPaid: { amount: 100, currency: 'USD' } }))
      .thenNothing();
  });

  it('records a payment for a checkout this workspace never started as not credited', () =>
    given()
      .when(paidCheckout())
      .then({
        type: 'PaidCheckoutNotCredited',
        data: {
          workspaceId: 'ws-1',
          sessionId: 'cs_pay_1',
          paymentIntentId: 'pi_1',
          checkoutId: 'checkout-1',
          amountPaid: { amount: 18000, currency: 'USD' },
          reason: 'no checkout checkout-1 was started in this workspace',
          receivedAt: at(0).toISOString(),
        },
      }));

  it('applies a refund the provider reported before the payment, in the same append', () => {
    const dashboard = refundFact({ providerRefundId: 're_9', amount: 4500 });
    const deferred = {
      type: 'ProviderEventDeferred' as const,
      data: {
        workspaceId: 'ws-1',
        paymentIntentId: 'pi_1',
        fact: { kind: 'REFUND' as const, refund: dashboard },
        recordedBy: 'payment-provider',
        receivedAt: at(0).toISOString(),
      },
    };
    given(checkoutStarted(), deferred)
      .when(paidCheckout())
      .then(
        withCheckout,
        refundRequested({
          refundId: 'provider-re_9',
          origin: 'PROVIDER',
          providerRefundId: 're_9',
          credits: 500,
          creditsRepaid: 500,
          paysFor: 500,
          amount: { amount: 4500, currency: 'USD' },
          reason: 'refunded at the payment provider',
          requestedBy: 'payment-provider',
          at: at(0),
        }),
        refundSucceeded({ refundId: 'provider-re_9', providerRefundId: 're_9', succeededAt: at(0).toISOString() }),
      );
    const state = stateOf([checkoutStarted(), deferred, withCheckout]);
    expect(state.deferredFacts.size).toBe(0);
  });

  it('dates purchased credits of a package that expires from the payment', () => {
    const offer = { ...OFFER_2000, expiresAfterDays: 30 };
    given(checkoutStarted({ offer }))
      .when(paidCheckout())
      .then({ ...withCheckout, data: { ...withCheckout.data, expiresAt: at(30 * DAY).toISOString() } });
  });

  it('credits a session opened before checkouts were recorded from its package', () =>
    given()
      .when(paidCheckout({ checkoutId: undefined, legacyOffer: OFFER_2000 }))
      .then(credited));
});
