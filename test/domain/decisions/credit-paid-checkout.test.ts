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

describe('CreditPaidCheckout', () => {
  it('credits the offer the checkout started with, whatever the catalog says now', () =>
    given(checkoutStarted(), checkoutOpened()).when(paidCheckout()).then(withCheckout));

  it('credits once per session', () =>
    given(checkoutStarted(), checkoutOpened(), withCheckout).when(paidCheckout()).thenNothing());

  it('records a payment of another amount as not credited, once', () => {
    const notCredited = {
      type: 'PaidCheckoutNotCredited' as const,
      data: {
        workspaceId: 'ws-1',
        sessionId: 'cs_pay_1',
        paymentIntentId: 'pi_1',
        checkoutId: 'checkout-1',
        amountPaid: { amount: 100, currency: 'USD' },
        reason: 'collected 100 USD for an offer of 18000 USD',
        receivedAt: at(0).toISOString(),
      },
    };
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
