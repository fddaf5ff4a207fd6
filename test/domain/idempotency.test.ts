/**
 * Spends are idempotent by key: a retry with the same key and request returns the first result
 * (no new entry, no second charge); the same key for a different request is an error. Keys are
 * remembered for IDEMPOTENCY_RETENTION_MS (7 days; the contract promises at least 24 hours).
 */
import { IDEMPOTENCY_RETENTION_MS } from '../../src/domain/state';
import { at, consumed, DAY, draw, HOUR, purchased, spend } from './builders';
import { given } from './spec';

const firstSpend = consumed({
  action: 'PERSON_ENRICHMENT',
  units: 3,
  creditsPerUnit: 7,
  credits: 21,
  reference: 'account-9',
  drawdown: [draw('purchase-1', 'PURCHASED', 21)],
  availableAfter: 479,
});
const retry = (changes: Parameters<typeof spend>[0] = {}) =>
  spend({ action: 'PERSON_ENRICHMENT', units: 3, creditsPerUnit: 7, reference: 'account-9', ...changes });

describe('ConsumeCredits: retries', () => {
  it('the retention window is 7 days', () => expect(IDEMPOTENCY_RETENTION_MS).toBe(7 * DAY));

  it('a retry with the same key and request records nothing', () =>
    given(purchased(), firstSpend)
      .when(retry({ consumptionId: 'spend-retry', now: at(1000) }))
      .thenNothing());

  it('the first result is what the state remembers for the key', () =>
    expect(given(purchased(), firstSpend).state().consumptions.get('spend-key-1')).toStrictEqual({
      consumptionId: 'spend-1',
      idempotencyKey: 'spend-key-1',
      action: 'PERSON_ENRICHMENT',
      units: 3,
      credits: 21,
      reference: 'account-9',
      drawdown: [draw('purchase-1', 'PURCHASED', 21)],
      availableAfter: 479,
      consumedAt: at(0).getTime(),
    }));

  it('a retry is not refused for lack of credits: the first spend already paid', () =>
    given(purchased({ credits: 21 }), consumed({ ...firstSpend.data, availableAfter: 0, consumedAt: at(0) }))
      .when(retry({ now: at(HOUR) }))
      .thenNothing());

  it('a retry 24 hours later still records nothing', () =>
    given(purchased(), firstSpend)
      .when(retry({ now: at(DAY) }))
      .thenNothing());

  it('a retry at the very end of the 7-day retention still records nothing', () =>
    given(purchased(), firstSpend)
      .when(retry({ now: at(7 * DAY) }))
      .thenNothing());

  it.each([
    ['different units', { units: 4 }],
    ['a different action', { action: 'BUYING_COMMITTEE_MAPPING' as const }],
    ['a different reference', { reference: 'account-10' }],
  ])('the same key with %s is refused', (_, changes) =>
    given(purchased(), firstSpend)
      .when(retry({ ...changes, now: at(HOUR) }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED', { idempotencyKey: 'spend-key-1' }),
  );

  it('the same key without the reference it had is refused', () =>
    given(purchased(), firstSpend)
      .when(spend({ action: 'PERSON_ENRICHMENT', units: 3, creditsPerUnit: 7, now: at(HOUR) }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED', { idempotencyKey: 'spend-key-1' }));

  it('a different key is a different spend', () =>
    given(purchased(), firstSpend)
      .when(retry({ idempotencyKey: 'spend-key-2', consumptionId: 'spend-2', now: at(HOUR) }))
      .then(
        consumed({
          ...firstSpend.data,
          idempotencyKey: 'spend-key-2',
          consumptionId: 'spend-2',
          availableAfter: 458,
          consumedAt: at(HOUR),
        }),
      ));
});

describe('ConsumeCredits: keys older than the retention are forgotten', () => {
  const eightDaysLater = at(8 * DAY);

  it('the same key and request 8 days later is a new spend', () =>
    given(purchased(), firstSpend)
      .when(retry({ consumptionId: 'spend-later', now: eightDaysLater }))
      .then(
        consumed({ ...firstSpend.data, consumptionId: 'spend-later', availableAfter: 458, consumedAt: eightDaysLater }),
      ));

  it('the same key with a different request 8 days later is a new spend, not a reused key', () =>
    given(purchased(), firstSpend)
      .when(retry({ consumptionId: 'spend-later', units: 1, now: eightDaysLater }))
      .then(
        consumed({
          ...firstSpend.data,
          consumptionId: 'spend-later',
          units: 1,
          credits: 7,
          drawdown: [draw('purchase-1', 'PURCHASED', 7)],
          availableAfter: 472,
          consumedAt: eightDaysLater,
        }),
      ));

  it('a later spend prunes the keys that are past the retention and keeps the recent ones', () => {
    const consumptions = given(
      purchased(),
      firstSpend,
      consumed({
        idempotencyKey: 'day-2',
        consumptionId: 's2',
        credits: 8,
        drawdown: [draw('purchase-1', 'PURCHASED', 8)],
        availableAfter: 471,
        consumedAt: at(2 * DAY),
      }),
      consumed({
        idempotencyKey: 'day-8',
        consumptionId: 's3',
        credits: 8,
        drawdown: [draw('purchase-1', 'PURCHASED', 8)],
        availableAfter: 463,
        consumedAt: eightDaysLater,
      }),
    ).state().consumptions;
    expect([...consumptions.keys()]).toEqual(['day-2', 'day-8']);
  });
});
