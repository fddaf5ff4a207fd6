/** Promotional / goodwill credits granted by an admin, idempotent by their key. */
import { at, DAY, grant, granted } from '../builders';
import { given } from '../spec';

describe('GrantCredits', () => {
  it('records a promotional grant with its reason and who gave it', () =>
    given()
      .when(grant({ credits: 100, reason: 'Org chart run failed', grantedBy: 'admin-7', now: at(DAY) }))
      .then(granted({ credits: 100, reason: 'Org chart run failed', grantedBy: 'admin-7', grantedAt: at(DAY) })));

  it('records an expiry when it has one', () =>
    given()
      .when(grant({ expiresAt: at(30 * DAY) }))
      .then(granted({ expiresAt: at(30 * DAY) })));
});

describe('GrantCredits: idempotency by key', () => {
  it('changes nothing on a retry with the same key and request', () =>
    given(granted())
      .when(grant({ grantId: 'promo-retry', now: at(DAY) }))
      .thenNothing());

  it('changes nothing on a retry of a grant with an expiry', () =>
    given(granted({ expiresAt: at(30 * DAY) }))
      .when(grant({ expiresAt: at(30 * DAY), now: at(DAY) }))
      .thenNothing());

  it.each([
    ['different credits', { credits: 101 }],
    ['a different reason', { reason: 'Another reason' }],
    ['an expiry where there was none', { expiresAt: at(30 * DAY) }],
  ])('refuses the same key with %s', (_, change) =>
    given(granted())
      .when(grant({ ...change, now: at(DAY) }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED', { idempotencyKey: 'promo-key-1' }),
  );

  it('refuses the same key with a different expiry', () =>
    given(granted({ expiresAt: at(30 * DAY) }))
      .when(grant({ expiresAt: at(31 * DAY), now: at(DAY) }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED', { idempotencyKey: 'promo-key-1' }));

  it('refuses the same key without the expiry it had', () =>
    given(granted({ expiresAt: at(30 * DAY) }))
      .when(grant({ now: at(DAY) }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED', { idempotencyKey: 'promo-key-1' }));
});

describe('GrantCredits: validation', () => {
  it.each(['', '   '])('refuses an empty reason %p', (reason) =>
    given().when(grant({ reason })).thenThrows('BAD_USER_INPUT'),
  );

  it.each([0, -10, 0.5])('refuses %p credits', (credits) =>
    given().when(grant({ credits })).thenThrows('BAD_USER_INPUT'),
  );

  it('refuses an expiry in the past', () =>
    given()
      .when(grant({ expiresAt: at(DAY - 1), now: at(DAY) }))
      .thenThrows('BAD_USER_INPUT'));
});
