/**
 * StartCheckout records the offer before the provider is asked, once per checkout.
 */
import { checkoutStarted, OFFER_2000, startCheckout } from '../payment-builders';
import { given } from '../spec';

describe('StartCheckout', () => {
  it('records the offer', () => given().when(startCheckout()).then(checkoutStarted()));

  it('records it once per checkout, and refuses the same id for another offer', () => {
    given(checkoutStarted()).when(startCheckout()).thenNothing();
    given(checkoutStarted())
      .when(startCheckout({ offer: { ...OFFER_2000, credits: 2500 } }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED');
  });
});
