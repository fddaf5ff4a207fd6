/**
 * Purchased credits: added only once the payment succeeded, as their own PURCHASED grant; the
 * payment reference (purchaseId) is the idempotency key, so a redelivered webhook credits once.
 */
import { at, consumed, DAY, draw, HOUR, purchase, purchased } from '../builders';
import { checkoutOpened, checkoutStarted } from '../payment-builders';
import { given } from '../spec';

describe('PurchaseCredits', () => {
  it('records the purchased package, its credits and its price in minor units', () =>
    given()
      .when(
        purchase({
          packageId: 'pack-2000',
          packageName: '2,000 credits',
          credits: 2000,
          price: { amount: 17900, currency: 'USD' },
          now: at(DAY),
        }),
      )
      .then(
        purchased({
          packageId: 'pack-2000',
          packageName: '2,000 credits',
          credits: 2000,
          price: { amount: 17900, currency: 'USD' },
          purchasedAt: at(DAY),
        }),
      ));

  it('records an expiry when the package has one', () =>
    given()
      .when(purchase({ expiresAt: at(365 * DAY) }))
      .then(purchased({ expiresAt: at(365 * DAY) })));

  it('adds a second purchase as a separate grant', () =>
    given(purchased())
      .when(purchase({ grantId: 'purchase-2', purchaseId: 'cs_pay_2', now: at(DAY) }))
      .then(purchased({ grantId: 'purchase-2', purchaseId: 'cs_pay_2', purchasedAt: at(DAY) })));
});

describe('PurchaseCredits: idempotency by purchaseId', () => {
  it('credits a redelivered payment once: same purchaseId, package and credits → nothing', () =>
    given(purchased())
      .when(purchase({ grantId: 'purchase-retry', now: at(HOUR) }))
      .thenNothing());

  it('still credits once after the purchased credits were spent', () =>
    given(purchased(), consumed({ credits: 8, drawdown: [draw('purchase-1', 'PURCHASED', 8)], availableAfter: 492 }))
      .when(purchase({ now: at(DAY) }))
      .thenNothing());

  it('refuses the same purchaseId for a different package', () =>
    given(purchased())
      .when(purchase({ packageId: 'pack-2000', now: at(DAY) }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED', { idempotencyKey: 'cs_pay_1' }));

  it('refuses the same purchaseId for a different number of credits', () =>
    given(purchased())
      .when(purchase({ credits: 501, now: at(DAY) }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED', { idempotencyKey: 'cs_pay_1' }));
});

describe('PurchaseCredits: validation', () => {
  it.each([0, -500, 2.5])('refuses %p credits', (credits) =>
    given().when(purchase({ credits })).thenThrows('BAD_USER_INPUT'),
  );

  it('refuses an expiry in the past', () =>
    given()
      .when(purchase({ expiresAt: at(-1), now: at(0) }))
      .thenThrows('BAD_USER_INPUT'));

  it('refuses an expiry of right now', () =>
    given()
      .when(purchase({ expiresAt: at(DAY), now: at(DAY) }))
      .thenThrows('BAD_USER_INPUT'));

  it.each([-100, 49.99])('refuses a price of %p minor units', (amount) =>
    given()
      .when(purchase({ price: { amount, currency: 'USD' } }))
      .thenThrows('BAD_USER_INPUT'),
  );

  it('refuses a manual purchase whose reference is a Checkout session of the workspace: Stripe credits it', () => {
    const manual = (reference: string) =>
      purchase({ grantId: 'manual-1', purchaseId: reference, payment: { provider: 'MANUAL', reference } });
    given(checkoutStarted(), checkoutOpened()).when(manual('cs_pay_1')).thenThrows('CONFLICT');
    // Any other reference is the admin's to give.
    given(checkoutStarted(), checkoutOpened())
      .when(manual('INV-2026-001'))
      .then(
        purchased({
          grantId: 'manual-1',
          purchaseId: 'INV-2026-001',
          payment: { provider: 'MANUAL', reference: 'INV-2026-001' },
        }),
      );
  });
});
