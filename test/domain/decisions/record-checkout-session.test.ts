/**
 * RecordCheckoutSession records the payment page the provider opened, or its refusal.
 */
import { at } from '../builders';
import { checkoutOpened, checkoutStarted, recordSession } from '../payment-builders';
import { given } from '../spec';

describe('RecordCheckoutSession', () => {
  it('records the payment page once', () => {
    given(checkoutStarted())
      .when(recordSession({ opened: true }))
      .then(checkoutOpened());
    given(checkoutStarted(), checkoutOpened())
      .when(recordSession({ opened: true }))
      .thenNothing();
  });

  it('records a refusal', () =>
    given(checkoutStarted())
      .when(recordSession({ opened: false, error: 'card payments are not enabled' }))
      .then({
        type: 'CheckoutSessionFailed',
        data: {
          workspaceId: 'ws-1',
          checkoutId: 'checkout-1',
          error: 'card payments are not enabled',
          failedAt: at(0).toISOString(),
        },
      }));

  it('refuses a checkout that was never started', () =>
    given()
      .when(recordSession({ opened: true }))
      .thenThrows('NOT_FOUND'));
});
