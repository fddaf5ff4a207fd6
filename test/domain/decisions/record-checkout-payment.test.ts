/**
 * RecordCheckoutPayment follows a payment that is still processing, failed or expired.
 */
import { at, purchased } from '../builders';
import { checkoutOpened, checkoutPayment, checkoutStarted } from '../payment-builders';
import { given } from '../spec';

const credited = purchased({
  credits: 2000,
  packageId: 'credits-2000',
  packageName: '2,000 credits',
  price: { amount: 18000, currency: 'USD' },
  purchasedBy: 'manager-1',
});
const withCheckout = { ...credited, data: { ...credited.data, checkoutId: 'checkout-1' } };

describe('RecordCheckoutPayment', () => {
  const update = (status: 'PROCESSING' | 'FAILED' | 'EXPIRED') => ({
    type: 'CheckoutPaymentUpdated' as const,
    data: {
      workspaceId: 'ws-1',
      checkoutId: 'checkout-1',
      sessionId: 'cs_pay_1',
      status,
      updatedAt: at(0).toISOString(),
    },
  });

  it('follows a delayed payment until it fails', () => {
    given(checkoutStarted(), checkoutOpened()).when(checkoutPayment('PROCESSING')).then(update('PROCESSING'));
    given(checkoutStarted(), checkoutOpened(), update('PROCESSING')).when(checkoutPayment('PROCESSING')).thenNothing();
    given(checkoutStarted(), checkoutOpened(), update('PROCESSING'))
      .when(checkoutPayment('FAILED'))
      .then(update('FAILED'));
  });

  it('changes nothing once the checkout was paid', () =>
    given(checkoutStarted(), checkoutOpened(), withCheckout).when(checkoutPayment('EXPIRED')).thenNothing());
});
