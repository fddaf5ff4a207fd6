/**
 * Auto top-up's crossings (src/domain/auto-top-up.ts): one request per fall below the threshold,
 * in the same append as the change that made it; re-armed once back at the threshold; never past
 * the monthly limit; skipped, with the reason, when it cannot charge.
 */
import { NOT_CHARGED } from '../../reactions/payments/performer';
import { decide } from '../../src/domain/decide';
import type { WorkspaceCreditsCommand } from '../../src/domain/commands';
import type { WorkspaceCreditsEvent } from '../../src/domain/events';
import { evolve } from '../../src/domain/evolve';
import { initialState } from '../../src/domain/state';
import { autoTopUpTerms, chargedInMonth, topUpCharge } from '../../src/domain/auto-top-up';
import {
  CARD,
  cardReplaced,
  cardSaved,
  recordSetup,
  cardRemoved,
  charge,
  configureTopUp,
  declined,
  removeCard,
  rearmed,
  SETTINGS,
  skipped,
  succeeded,
  topUpConfigured,
  topUpFailed,
  topUpPurchased,
  topUpRequested,
} from './auto-top-up-builders';
import { at, consumed, DAY, draw, expireCredits, granted, purchased, spend, WORKSPACE } from './builders';
import { release, released, reserve, reserved, settle, settled } from './hold-builders';
import { disputeFact, providerDispute, providerRefund, refundFact, requestRefund } from './payment-builders';
import { given, stateOf } from './spec';

const spent = (credits: number, availableAfter: number, grantId = 'purchase-1') =>
  consumed({
    units: 1,
    creditsPerUnit: credits,
    credits,
    drawdown: [draw(grantId, 'PURCHASED', credits)],
    availableAfter,
  });

/** Decides each command on the state the ones before it left, as one append of a burst would. */
function burst(history: WorkspaceCreditsEvent[], commands: WorkspaceCreditsCommand[]): WorkspaceCreditsEvent[] {
  const state = history.reduce(evolve, initialState());
  const out: WorkspaceCreditsEvent[] = [];
  for (const command of commands) {
    for (const event of decide(command, state)) {
      evolve(state, event);
      out.push(event);
    }
  }
  return out;
}

const armed = [purchased({ credits: 150 }), cardSaved(), topUpConfigured()];
const USD50 = { amount: 5000, currency: 'USD' };
/** The charge's outcome with retries an hour apart, then two. */
const retryingHourly = (command: ReturnType<typeof charge>): ReturnType<typeof charge> => ({
  ...command,
  data: { ...command.data, retry: { maxAttempts: 3, firstDelayMs: 60 * 60 * 1000 } },
});

describe('a fall below the threshold requests one top-up', () => {
  it('requests it in the same append as the spend that crossed the line', () =>
    given(...armed)
      .when(spend({ units: 1, creditsPerUnit: 60 }))
      .then(spent(60, 90), topUpRequested({ available: 90 })));

  it('requests one for a burst of spends, not one per spend', () => {
    const spends = Array.from({ length: 10 }, (_, i) =>
      spend({ consumptionId: `s-${i}`, idempotencyKey: `k-${i}`, units: 1, creditsPerUnit: 14 }),
    );
    const events = burst(armed, spends);
    expect(events.filter((event) => event.type === 'AutoTopUpRequested')).toHaveLength(1);
  });

  it('asks nothing more while that top-up is being charged, even after being re-armed', () => {
    const events = burst(
      [...armed, spent(60, 90), topUpRequested(), granted({ credits: 100 }), rearmed(190)],
      [spend({ units: 1, creditsPerUnit: 150 })],
    );
    expect(events.map((event) => event.type).filter((type) => type.startsWith('AutoTopUp'))).toEqual([]);
  });

  it('is re-armed once the top-up brings the balance back to the threshold, and tops up again next time', () => {
    const events = burst(
      [...armed, spent(60, 90), topUpRequested()],
      [charge(succeeded()), spend({ consumptionId: 's-2', idempotencyKey: 'k-2', units: 1, creditsPerUnit: 500 })],
    );
    expect(events.map((event) => event.type).filter((type) => type !== 'CreditsLow')).toEqual([
      'CreditsPurchased',
      'AutoTopUpRearmed',
      'CreditsConsumed',
      'AutoTopUpRequested',
    ]);
    expect(events.find((event) => event.type === 'AutoTopUpRequested')).toMatchObject({
      data: { topUpId: 'topup-2', available: 90 },
    });
  });

  it('charges, with a target, the credits that bring the balance back to it, at the package price rounded up', () => {
    expect(topUpCharge({ ...SETTINGS, targetCredits: 1000 }, 41)).toEqual({
      credits: 959,
      amount: { amount: 9590, currency: 'USD' },
    });
    expect(
      topUpCharge({ ...SETTINGS, targetCredits: 1000, packagePrice: { amount: 4999, currency: 'USD' } }, 41),
    ).toEqual({
      credits: 959,
      amount: { amount: 9589, currency: 'USD' }, // 959 × 4999 / 500 = 9588.08, rounded up
    });
  });

  it('requests at once when turned on below the threshold', () =>
    given(purchased({ credits: 50 }), cardSaved())
      .when(configureTopUp())
      .then(topUpConfigured(), topUpRequested({ available: 50 })));

  it('notices a fall made by an expiry, or by a refund', () =>
    given(granted({ credits: 500, expiresAt: at(DAY) }), purchased({ credits: 50 }), cardSaved(), topUpConfigured())
      .when({ type: 'ExpireCredits', data: { workspaceId: WORKSPACE, now: at(DAY) } })
      .then(
        {
          type: 'CreditsExpired',
          data: {
            workspaceId: WORKSPACE,
            grantId: 'promo-1',
            source: 'PROMOTIONAL',
            credits: 500,
            reason: 'EXPIRED',
            expiredAt: at(DAY).toISOString(),
          },
        },
        topUpRequested({ available: 50, when: at(DAY) }),
      ));

  it('does nothing while off or paused', () => {
    given(purchased({ credits: 150 }), cardSaved(), topUpConfigured({ enabled: false }))
      .when(spend({ units: 1, creditsPerUnit: 60 }))
      .then(spent(60, 90));
    given(...armed, {
      type: 'AutoTopUpPaused',
      data: { workspaceId: WORKSPACE, topUpId: 'topup-0', reason: 'x', pausedAt: at(0).toISOString() },
    })
      .when(spend({ units: 1, creditsPerUnit: 60 }))
      .then(spent(60, 90));
  });
});

describe('money going back to the buyer charges nothing', () => {
  const topUpEvents = (events: WorkspaceCreditsEvent[]) => events.filter((event) => event.type.startsWith('AutoTopUp'));
  // 150 purchased credits (USD 49.00) and 50 promotional ones: 200 available, threshold 100.
  const history = [purchased({ credits: 150 }), granted({ credits: 50 }), cardSaved(), topUpConfigured()];

  it.each([
    ['an admin’s refund', requestRefund({ credits: 120 }), 80],
    [
      'a refund made in the provider’s dashboard',
      providerRefund(refundFact({ providerRefundId: 're_d', amount: 4900 })),
      50,
    ],
    ['a dispute', providerDispute(disputeFact({ amount: 4900 })), 50],
  ])('%s that takes available below the threshold requests no top-up', (_what, moneyBack, availableAfter) => {
    const state = history.reduce(evolve, initialState());
    const events = decide(moneyBack, state);
    expect(topUpEvents(events)).toEqual([]);
    for (const event of events) evolve(state, event);
    // The next spend below the threshold tops up as usual.
    const next = spend({ consumptionId: 's-9', idempotencyKey: 'k-9', units: 1, creditsPerUnit: 10, now: at(DAY) });
    expect(topUpEvents(decide(next, state))).toEqual([
      expect.objectContaining({
        type: 'AutoTopUpRequested',
        data: expect.objectContaining({ available: availableAfter - 10 }) as unknown,
      }),
    ]);
  });
});

describe('the monthly limit and the card', () => {
  const fourPaid = [1, 2, 3, 4].flatMap((n) => [
    topUpRequested({ topUpId: `topup-${n}` }),
    topUpPurchased({ topUpId: `topup-${n}`, paymentIntentId: `pi_${n}`, grantId: `g-${n}`, credits: 1 }),
    rearmed(151),
  ]);

  it('skips a crossing whose charge would pass the monthly limit, once', () =>
    given(...armed, ...fourPaid)
      .when(spend({ units: 1, creditsPerUnit: 60 }))
      .then(spent(60, 94), skipped('MONTHLY_LIMIT', 94)));

  it('counts the calendar month: the next month has its whole limit again', () =>
    given(...armed, ...fourPaid)
      .when(spend({ units: 1, creditsPerUnit: 60, now: new Date('2025-02-01T00:00:00.000Z') }))
      .then(
        consumed({
          units: 1,
          creditsPerUnit: 60,
          credits: 60,
          drawdown: [draw('purchase-1', 'PURCHASED', 60)],
          availableAfter: 94,
          consumedAt: new Date('2025-02-01T00:00:00.000Z'),
        }),
        topUpRequested({ topUpId: 'topup-5', available: 94, when: new Date('2025-02-01T00:00:00.000Z') }),
      ));

  it('tops up in the next month a workspace still below the threshold since a skip for the limit', () => {
    const february = new Date('2025-02-01T00:00:00.000Z');
    const again = { consumptionId: 'spend-2', idempotencyKey: 'spend-key-2', units: 1, creditsPerUnit: 4 };
    given(...armed, ...fourPaid, spent(60, 94), skipped('MONTHLY_LIMIT', 94))
      .when(spend({ ...again, now: february }))
      .then(
        consumed({
          consumptionId: 'spend-2',
          idempotencyKey: 'spend-key-2',
          units: 1,
          creditsPerUnit: 4,
          credits: 4,
          drawdown: [draw('purchase-1', 'PURCHASED', 4)],
          availableAfter: 90,
          consumedAt: february,
        }),
        topUpRequested({ topUpId: 'topup-5', available: 90, when: february }),
      );
    // In the month of the skip, the next spend below the line still charges nothing.
    given(...armed, ...fourPaid, spent(60, 94), skipped('MONTHLY_LIMIT', 94))
      .when(spend(again))
      .then({
        ...spent(4, 90),
        data: { ...spent(4, 90).data, consumptionId: 'spend-2', idempotencyKey: 'spend-key-2' },
      });
  });

  it('counts against the limit only the charges in its currency, after a change to a package priced in another', () => {
    // $200 of a $200 limit paid this month; then the settings move to a package at €50, €60 a month.
    const euros = {
      packageId: 'credits-500-eur',
      packageName: '500 credits (EUR)',
      packagePrice: { amount: 5000, currency: 'EUR' },
      monthlyLimit: { amount: 6000, currency: 'EUR' },
    };
    const events = burst(
      [...armed, ...fourPaid, topUpConfigured(euros)],
      [
        spend({ units: 1, creditsPerUnit: 60 }),
        spend({ consumptionId: 'spend-2', idempotencyKey: 'spend-key-2', units: 1, creditsPerUnit: 1 }),
      ],
    );
    // No euro was charged this month: €50 fits the €60 limit, where $200 counted as €200 did not.
    const requested = events.filter((event) => event.type === 'AutoTopUpRequested');
    expect(requested).toHaveLength(1);
    expect(requested[0]?.data).toMatchObject({
      amount: { amount: 5000, currency: 'EUR' },
      packageId: 'credits-500-eur',
    });
    const state = stateOf([...armed, ...fourPaid, topUpConfigured(euros), ...events]);
    expect(chargedInMonth(state, '2025-01', 'EUR')).toBe(5000);
    expect(chargedInMonth(state, '2025-01', 'USD')).toBe(20000);
  });

  it('counts a top-up against the month its retry is charged in, not the month it was requested in', () => {
    // A $50 limit, one package a month. Requested on 31 January, declined; the retry falls in February.
    const oneAMonth = [purchased({ credits: 150 }), cardSaved(), topUpConfigured({ monthlyLimit: USD50 })];
    const jan31 = new Date('2025-01-31T23:30:00.000Z');
    const feb1 = new Date('2025-02-01T00:31:00.000Z');
    const feb2 = new Date('2025-02-02T10:00:00.000Z');
    const events = burst(oneAMonth, [
      spend({ units: 1, creditsPerUnit: 60, now: jan31 }),
      retryingHourly(charge(declined('pi_a1'), { attempt: 1, now: jan31 })),
    ]);
    const failure = events.find((event) => event.type === 'AutoTopUpFailed');
    expect(failure?.data).toMatchObject({ attempt: 1, retryAt: '2025-02-01T00:30:00.000Z', retryMonth: '2025-02' });
    const paidInFebruary = burst(
      [...oneAMonth, ...events],
      [
        charge(succeeded('pi_a2'), { attempt: 2, now: feb1, grantId: 'g-top-1' }),
        spend({ consumptionId: 'spend-2', idempotencyKey: 'spend-key-2', units: 1, creditsPerUnit: 520, now: feb2 }),
      ],
    );
    // February's limit already paid for the retry: the next crossing is skipped, not charged again.
    expect(paidInFebruary.filter((event) => event.type === 'AutoTopUpRequested')).toEqual([]);
    expect(paidInFebruary.at(-1)).toMatchObject({ type: 'AutoTopUpSkipped', data: { reason: 'MONTHLY_LIMIT' } });
    // A retry within the month moves nothing.
    const sameMonth = burst(oneAMonth, [
      spend({ units: 1, creditsPerUnit: 60, now: at(0) }),
      charge(declined('pi_a1'), { attempt: 1, now: at(0) }),
    ]);
    expect(sameMonth.find((event) => event.type === 'AutoTopUpFailed')?.data).not.toHaveProperty('retryMonth');
  });

  it('counts a top-up requested in a month’s last moment against the month it was paid in', () => {
    // A $50 limit, one package a month. Requested a second before February, paid just after.
    const oneAMonth = [purchased({ credits: 150 }), cardSaved(), topUpConfigured({ monthlyLimit: USD50 })];
    const lastSecond = new Date('2025-01-31T23:59:59.000Z');
    const feb1 = new Date('2025-02-01T00:00:01.000Z');
    const feb2 = new Date('2025-02-02T10:00:00.000Z');
    const events = burst(oneAMonth, [
      spend({ units: 1, creditsPerUnit: 60, now: lastSecond }),
      charge(succeeded('pi_a1'), { attempt: 1, now: feb1, grantId: 'g-top-1' }),
    ]);
    const state = stateOf([...oneAMonth, ...events]);
    expect(chargedInMonth(state, '2025-01', 'USD')).toBe(0);
    expect(chargedInMonth(state, '2025-02', 'USD')).toBe(5000);
    // February's limit is spent on it: the next crossing that month is skipped, not charged again.
    const next = burst(
      [...oneAMonth, ...events],
      [spend({ consumptionId: 'spend-2', idempotencyKey: 'spend-key-2', units: 1, creditsPerUnit: 520, now: feb2 })],
    );
    expect(next.filter((event) => event.type === 'AutoTopUpRequested')).toEqual([]);
    expect(next.at(-1)).toMatchObject({ type: 'AutoTopUpSkipped', data: { reason: 'MONTHLY_LIMIT' } });
  });

  it('leaves a top-up that had failed in its own month when Stripe reports it paid in a later one', () => {
    // Failed for good in January (it stopped counting); February's limit went to another top-up;
    // then Stripe's late success of the January charge arrives.
    const feb3 = new Date('2025-02-03T00:00:00.000Z');
    const state = stateOf([
      topUpRequested(),
      topUpFailed({ attempt: 3, retryAt: null }),
      topUpRequested({ topUpId: 'topup-2', when: new Date('2025-02-01T10:00:00.000Z') }),
      topUpPurchased({
        topUpId: 'topup-2',
        paymentIntentId: 'pi_2',
        grantId: 'g-2',
        when: new Date('2025-02-01T10:00:01.000Z'),
      }),
      topUpPurchased({ when: feb3 }),
    ]);
    expect(chargedInMonth(state, '2025-01', 'USD')).toBe(5000);
    expect(chargedInMonth(state, '2025-02', 'USD')).toBe(5000);
  });

  it('tops up at the sweep of a new month a workspace skipped for the limit, with no command of its own', () => {
    const february = new Date('2025-02-01T00:00:00.000Z');
    // Every spend it tries is refused for want of credits: only the sweep comes.
    given(...armed, ...fourPaid, spent(60, 94), skipped('MONTHLY_LIMIT', 94))
      .when(expireCredits(february))
      .then(topUpRequested({ topUpId: 'topup-5', available: 94, when: february }));
    // In the month of the skip, the sweep records nothing.
    given(...armed, ...fourPaid, spent(60, 94), skipped('MONTHLY_LIMIT', 94))
      .when(expireCredits(at(DAY)))
      .then();
  });

  it('does not count top-ups that failed', () =>
    given(
      ...armed,
      ...[1, 2, 3, 4].flatMap((n) => [
        topUpRequested({ topUpId: `topup-${n}` }),
        topUpFailed({ topUpId: `topup-${n}` }),
        rearmed(150),
      ]),
    )
      .when(spend({ units: 1, creditsPerUnit: 60 }))
      .then(spent(60, 90), topUpRequested({ topUpId: 'topup-5', available: 90 })));

  it('skips, once, when the card was removed', () => {
    const removed: WorkspaceCreditsEvent = {
      type: 'PaymentMethodRemoved',
      data: { workspaceId: WORKSPACE, paymentMethodId: 'pm_1', removedBy: 'manager-1', removedAt: at(0).toISOString() },
    };
    const events = burst(
      [...armed, removed],
      [
        spend({ consumptionId: 's-1', idempotencyKey: 'k-1', units: 1, creditsPerUnit: 60 }),
        spend({ consumptionId: 's-2', idempotencyKey: 'k-2', units: 1, creditsPerUnit: 10 }),
      ],
    );
    expect(events.filter((event) => event.type.startsWith('AutoTopUp'))).toEqual([skipped('NO_PAYMENT_METHOD', 90)]);
  });

  it('tops up at once when a new card is saved after a skip', () =>
    given(...armed, spent(60, 90), skipped('NO_PAYMENT_METHOD', 90))
      .when(
        recordSetup({
          outcome: 'SAVED',
          setupId: 'setup-2',
          customerId: 'cus_1',
          paymentMethodId: 'pm_2',
          card: CARD,
        }),
      )
      .then(
        cardReplaced('pm_1'),
        cardSaved({ setupId: 'setup-2', paymentMethodId: 'pm_2' }),
        topUpRequested({ available: 90, paymentMethodId: 'pm_2' }),
      ));
});

describe('consent and card in force, or no charge', () => {
  // A top-up whose first attempt was declined, waiting for its retry.
  const retrying = [
    ...armed,
    spent(60, 90),
    topUpRequested({ available: 90 }),
    topUpFailed({ retryAt: at(60_000).toISOString() }),
  ];
  const canceled = (
    reason: 'TURNED_OFF' | 'CARD_REMOVED' | 'CARD_REPLACED' | 'SETTINGS_CHANGED',
    topUpId = 'topup-1',
  ): WorkspaceCreditsEvent => ({
    type: 'AutoTopUpCanceled',
    data: { workspaceId: WORKSPACE, topUpId, reason, canceledAt: at(0).toISOString() },
  });

  it('cancels a top-up waiting for its retry when auto top-up is turned off, in the same append', () =>
    given(...retrying)
      .when(configureTopUp({ enabled: false }))
      .then(topUpConfigured({ enabled: false }), canceled('TURNED_OFF')));

  it('cancels it when the settings change: a retry under the old terms could pass a lower limit or charge another price', () => {
    const lowerLimit = { monthlyLimit: { amount: 5000, currency: 'USD' } };
    given(...retrying)
      .when(configureTopUp(lowerLimit))
      .then(topUpConfigured(lowerLimit), canceled('SETTINGS_CHANGED'));
    // Known not charged: the crossing is decided again under the new settings.
    given(...retrying, topUpConfigured(lowerLimit), canceled('SETTINGS_CHANGED'))
      .when(notCharged(2))
      .then(failedAfterCancel(2), topUpRequested({ topUpId: 'topup-2', available: 90 }));
    // The same settings again record nothing and cancel nothing.
    given(...retrying)
      .when(configureTopUp())
      .thenNothing();
  });

  it('cancels it when the card is removed', () =>
    given(...retrying)
      .when(removeCard)
      .then(cardRemoved(), canceled('CARD_REMOVED')));

  // What the payments reaction records when it finds the top-up canceled before charging it.
  const notCharged = (attempt: number) => charge(NOT_CHARGED, { attempt });
  const failedAfterCancel = (attempt: number, topUpId = 'topup-1'): WorkspaceCreditsEvent => ({
    type: 'AutoTopUpFailed',
    data: {
      workspaceId: WORKSPACE,
      topUpId,
      attempt,
      paymentIntentId: null,
      reason: 'ERROR',
      code: 'not_charged',
      message: NOT_CHARGED.message,
      retryAt: null,
      afterCancel: true,
      failedAt: at(0).toISOString(),
    },
  });

  it('cancels it when a new card replaces its card, and waits for what came of the attempt on its way', () =>
    given(...retrying)
      .when(
        recordSetup({ outcome: 'SAVED', setupId: 'setup-2', customerId: 'cus_1', paymentMethodId: 'pm_2', card: CARD }),
      )
      .then(
        cardReplaced('pm_1'),
        cardSaved({ setupId: 'setup-2', paymentMethodId: 'pm_2' }),
        canceled('CARD_REPLACED'),
      ));

  it('requests the crossing again on the new card once the canceled attempt is known not charged', () =>
    given(
      ...retrying,
      cardReplaced('pm_1'),
      cardSaved({ setupId: 'setup-2', paymentMethodId: 'pm_2' }),
      canceled('CARD_REPLACED'),
    )
      .when(notCharged(2))
      .then(failedAfterCancel(2), topUpRequested({ topUpId: 'topup-2', available: 90, paymentMethodId: 'pm_2' })));

  it('requests nothing while a charge made before the cancel may still be paid (one still processing)', () => {
    // The first attempt is on its way (nothing recorded of it): turned off and on again, or a new card.
    const processing = [...armed, spent(60, 90), topUpRequested({ available: 90 })];
    const offAndOn = burst(processing, [configureTopUp({ enabled: false }), configureTopUp()]);
    expect(offAndOn.map((event) => event.type).filter((type) => type.startsWith('AutoTopUp'))).toEqual([
      'AutoTopUpConfigured',
      'AutoTopUpCanceled',
      'AutoTopUpConfigured',
    ]);
    const newCard = burst(processing, [
      recordSetup({ outcome: 'SAVED', setupId: 'setup-2', customerId: 'cus_1', paymentMethodId: 'pm_2', card: CARD }),
    ]);
    expect(newCard.map((event) => event.type).filter((type) => type !== 'CreditsLow')).toEqual([
      'PaymentMethodRemoved',
      'PaymentMethodSaved',
      'AutoTopUpCanceled',
    ]);
  });

  it('records a later failure of a canceled top-up as the end of it: no retry, no pause, no alert', () =>
    given(...retrying, topUpConfigured({ enabled: false }), canceled('TURNED_OFF'))
      .when(charge(declined('pi_top_2'), { attempt: 2 }))
      .then({
        type: 'AutoTopUpFailed',
        data: {
          workspaceId: WORKSPACE,
          topUpId: 'topup-1',
          attempt: 2,
          paymentIntentId: 'pi_top_2',
          reason: 'DECLINED',
          code: 'card_declined',
          message: 'Your card was declined.',
          retryAt: null,
          afterCancel: true,
          failedAt: at(0).toISOString(),
        },
      }));

  it('still credits a charge made before the cancel that is paid after it: the money came', () => {
    const events = burst(
      [...retrying, topUpConfigured({ enabled: false }), canceled('TURNED_OFF')],
      [charge(succeeded())],
    );
    expect(events.map((event) => event.type)).toEqual(['CreditsPurchased']);
  });

  it('counts a canceled top-up against the monthly limit until it is known not charged', () => {
    const limited = [
      purchased({ credits: 150 }),
      cardSaved(),
      topUpConfigured({ monthlyLimit: { amount: 5000, currency: 'USD' } }),
    ];
    // Canceled with its first attempt on its way, then turned on again: the limit is spent.
    given(
      ...limited,
      topUpRequested({ available: 150 }),
      canceled('TURNED_OFF'),
      topUpConfigured({ monthlyLimit: { amount: 5000, currency: 'USD' } }),
    )
      .when(spend({ units: 1, creditsPerUnit: 60 }))
      .then(spent(60, 90));
    // Known not charged: out of the limit, and the crossing is topped up.
    given(
      ...limited,
      topUpRequested({ available: 150 }),
      canceled('TURNED_OFF'),
      failedAfterCancel(1),
      topUpConfigured({ monthlyLimit: { amount: 5000, currency: 'USD' } }),
    )
      .when(spend({ units: 1, creditsPerUnit: 60 }))
      .then(spent(60, 90), topUpRequested({ topUpId: 'topup-2', available: 90 }));
  });
});

describe('a top-up that leaves the balance below the threshold', () => {
  // Threshold 550: a package of 500 from 90 would reach it (590), had nothing been spent meanwhile.
  const line550 = (monthlyLimit = 20000) => [
    purchased({ credits: 150 }),
    cardSaved(),
    topUpConfigured({ thresholdCredits: 550, monthlyLimit: { amount: monthlyLimit, currency: 'USD' } }),
    spent(60, 90),
    topUpRequested({ available: 90 }),
    spent(80, 10), // spent while it was being charged
  ];

  it('re-arms when credited below the line because of spends made meanwhile, and requests the next one in the same append', () =>
    given(...line550())
      .when(charge(succeeded()))
      .then(topUpPurchased(), rearmed(510), topUpRequested({ topUpId: 'topup-2', available: 510 })));

  it('skips the next one for the monthly limit rather than pass it', () =>
    given(...line550(5000))
      .when(charge(succeeded()))
      .then(topUpPurchased(), rearmed(510), skipped('MONTHLY_LIMIT', 510)));

  it('answers its crossing once when one package could not reach the threshold anyway, as the terms say', () =>
    given(
      purchased({ credits: 150 }),
      cardSaved(),
      topUpConfigured({ thresholdCredits: 999 }),
      spent(60, 90),
      topUpRequested({ available: 90 }),
    )
      .when(charge(succeeded()))
      .then(topUpPurchased()));

  it('charges nothing again when a dispute reported before the payment is applied with its credit', () => {
    const disputedEarly: WorkspaceCreditsEvent = {
      type: 'ProviderEventDeferred',
      data: {
        workspaceId: WORKSPACE,
        paymentIntentId: 'pi_top_1',
        fact: { kind: 'DISPUTE', dispute: disputeFact({ amount: 5000 }) },
        recordedBy: 'stripe',
        receivedAt: at(0).toISOString(),
      },
    };
    const events = burst([...line550(), disputedEarly], [charge(succeeded())]);
    // The dispute is of this very charge, to the card still saved: auto top-up pauses with it.
    expect(events.map((event) => event.type).filter((type) => type !== 'CreditsLow')).toEqual([
      'CreditsPurchased',
      'PurchaseDisputeOpened',
      'AutoTopUpPaused',
    ]);
  });
});

describe('a disputed top-up charge pauses auto top-up', () => {
  const topUps = (events: WorkspaceCreditsEvent[]) => events.filter((event) => event.type.startsWith('AutoTopUp'));
  // Top-up 1 paid (pi_top_1), 550 available: above the threshold of 100, armed again.
  const paidTopUp = [...armed, spent(60, 90), topUpRequested({ available: 90 }), topUpPurchased(), rearmed(590)];
  const disputeOfTopUp = providerDispute(disputeFact({ disputeId: 'dp_top', amount: 5000 }), {
    paymentIntentId: 'pi_top_1',
  });
  const paused: WorkspaceCreditsEvent = {
    type: 'AutoTopUpPaused',
    data: {
      workspaceId: WORKSPACE,
      topUpId: 'topup-1',
      reason:
        "the card's holder disputed the charge of top-up topup-1 (dispute dp_top); saving the settings again, or another card, starts auto top-up again",
      pausedAt: at(DAY).toISOString(),
    },
  };
  const below = (n: number, credits = 10) =>
    spend({ consumptionId: `s-${n}`, idempotencyKey: `k-${n}`, units: 1, creditsPerUnit: credits, now: at(DAY) });

  it('pauses in the same append as the dispute, and the next fall below the threshold charges nothing', () => {
    const events = burst(paidTopUp, [disputeOfTopUp]);
    expect(events.map((event) => event.type)).toEqual(['PurchaseDisputeOpened', 'AutoTopUpPaused', 'CreditsLow']);
    expect(events[1]).toEqual(paused);
    expect(topUps(burst(paidTopUp, [disputeOfTopUp, below(2)]))).toEqual([paused]);
  });

  it('starts again when a billing manager saves the settings again, consenting afresh, or another card', () => {
    const afterDispute = [...paidTopUp, ...burst(paidTopUp, [disputeOfTopUp])];
    expect(topUps(burst(afterDispute, [configureTopUp(), below(2)])).map((event) => event.type)).toEqual([
      'AutoTopUpConfigured',
      'AutoTopUpRequested',
    ]);
    const newCard = recordSetup({
      outcome: 'SAVED',
      setupId: 'setup-2',
      customerId: 'cus_1',
      paymentMethodId: 'pm_2',
      card: CARD,
    });
    expect(topUps(burst(afterDispute, [newCard, below(2)]))).toEqual([
      expect.objectContaining({
        type: 'AutoTopUpRequested',
        data: expect.objectContaining({ paymentMethodId: 'pm_2' }) as unknown,
      }),
    ]);
  });

  it('cancels a top-up waiting for its retry on that card', () => {
    // Top-up 2 declined once, its retry due in a minute, when top-up 1's charge is disputed.
    const retrying = [
      ...paidTopUp,
      spent(500, 90, 'topup-grant-1'),
      topUpRequested({ topUpId: 'topup-2', available: 90 }),
      topUpFailed({ topUpId: 'topup-2', paymentIntentId: 'pi_top_2', retryAt: at(60_000).toISOString() }),
    ];
    const events = burst(retrying, [disputeOfTopUp]);
    expect(topUps(events)).toEqual([
      paused,
      {
        type: 'AutoTopUpCanceled',
        data: { workspaceId: WORKSPACE, topUpId: 'topup-2', reason: 'PAUSED', canceledAt: at(DAY).toISOString() },
      },
    ]);
  });

  it('does not pause for a dispute of a checkout purchase, of a charge to a card replaced since, or when already paused', () => {
    // A package bought at checkout (pi_1; its 90 credits left held, 500 available): money goes back,
    // and the next fall below the threshold tops up as usual.
    expect(topUps(burst(paidTopUp, [providerDispute(disputeFact({ amount: 4900 })), below(2, 450)]))).toEqual([
      expect.objectContaining({ type: 'AutoTopUpRequested' }),
    ]);
    const replaced = [...paidTopUp, cardReplaced('pm_1'), cardSaved({ setupId: 'setup-2', paymentMethodId: 'pm_2' })];
    expect(topUps(burst(replaced, [disputeOfTopUp]))).toEqual([]);
    // A second dispute while paused adds nothing.
    const secondTopUp = [
      ...paidTopUp,
      spent(500, 90, 'topup-grant-1'),
      topUpRequested({ topUpId: 'topup-2', available: 90 }),
      topUpPurchased({ topUpId: 'topup-2', paymentIntentId: 'pi_top_2', grantId: 'topup-grant-2' }),
      rearmed(590),
    ];
    const second = providerDispute(disputeFact({ disputeId: 'dp_2', amount: 5000 }), { paymentIntentId: 'pi_top_2' });
    expect(topUps(burst(secondTopUp, [disputeOfTopUp, second]))).toEqual([paused]);
  });
});

describe('the terms consented to', () => {
  it('say when, what and how much at most, in words', () => {
    expect(autoTopUpTerms(SETTINGS)).toBe(
      'When available credits fall below 100, the card saved for this workspace is charged $50.00 for 500 credits, once each time. At most $200.00 is charged per calendar month (UTC). Auto top-up can be turned off at any time.',
    );
    expect(autoTopUpTerms({ ...SETTINGS, targetCredits: 1000 })).toContain(
      'for the credits that bring the balance back to 1,000, at $50.00 per 500 credits rounded up (at most $100.00 a charge)',
    );
    // Numbers read as numbers; a package with a name of its own is named.
    expect(autoTopUpTerms({ ...SETTINGS, thresholdCredits: 4300, packageName: 'Team pack' })).toContain(
      'When available credits fall below 4,300, the card saved for this workspace is charged $50.00 for 500 credits (Team pack),',
    );
  });
});

describe('held credits count as gone for auto top-up', () => {
  const held = (credits: number) => [draw('purchase-1', 'PURCHASED', credits)];

  it('requests a top-up with the reserve that takes available below the threshold', () =>
    given(...armed)
      .when(reserve({ units: 1, creditsPerUnit: 60 }))
      .then(
        reserved({ units: 1, creditsPerUnit: 60, drawdown: held(60), availableAfter: 90 }),
        topUpRequested({ available: 90 }),
      ));

  it('is re-armed by the release that brings available back to the threshold', () =>
    given(
      ...armed,
      reserved({ units: 1, creditsPerUnit: 60, drawdown: held(60), availableAfter: 90 }),
      topUpRequested({ available: 90 }),
    )
      .when(release())
      .then(released(held(60)), rearmed(150)));

  it('requests one when a settle takes its excess from the balance below the threshold', () =>
    given(...armed, reserved({ units: 1, creditsPerUnit: 40, drawdown: held(40), availableAfter: 110 }))
      .when(settle({ units: 2, takeExcessFromBalance: true }))
      .then(
        settled({
          units: 2,
          creditsPerUnit: 40,
          fromHold: held(40),
          fromBalance: held(40),
          drawdown: held(80),
          returned: [],
          availableAfter: 70,
        }),
        topUpRequested({ available: 70 }),
      ));
});
