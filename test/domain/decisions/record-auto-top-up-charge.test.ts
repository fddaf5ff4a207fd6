/**
 * RecordAutoTopUpCharge: a paid top-up credited once as a purchase; failures retried a bounded
 * number of times, then auto top-up paused; reports in any order and any number of times.
 */
import {
  cardSaved,
  charge,
  configureTopUp,
  declined,
  rearmed,
  RETRY,
  succeeded,
  topUpConfigured,
  topUpFailed,
  topUpPurchased,
  topUpRequested,
} from '../auto-top-up-builders';
import { at, purchased, WORKSPACE } from '../builders';
import { refundFact } from '../payment-builders';
import { given } from '../spec';
import { decide } from '../../../src/domain/decide';
import { chargedInMonth } from '../../../src/domain/auto-top-up';
import { evolve } from '../../../src/domain/evolve';

const requested = [purchased({ credits: 50 }), cardSaved(), topUpConfigured(), topUpRequested()];
const paused = (reason: string) =>
  ({
    type: 'AutoTopUpPaused',
    data: { workspaceId: WORKSPACE, topUpId: 'topup-1', reason, pausedAt: at(0).toISOString() },
  }) as const;

/** A payment of `amount` by `paymentIntentId` recorded as not credited, for `reason`. */
const topUpNotCredited = (paymentIntentId: string, amount: number, reason: string) =>
  ({
    type: 'PaidCheckoutNotCredited',
    data: {
      workspaceId: WORKSPACE,
      sessionId: paymentIntentId,
      paymentIntentId,
      amountPaid: { amount, currency: 'USD' },
      reason,
      receivedAt: at(0).toISOString(),
    },
  }) as const;

describe('RecordAutoTopUpCharge: paid', () => {
  it('credits the top-up as a purchase of its package, paid by its payment intent', () =>
    given(...requested)
      .when(charge(succeeded()))
      .then(topUpPurchased(), rearmed(550)));

  it('credits it once, whether the reaction or the webhook reports it first', () =>
    given(...requested, topUpPurchased())
      .when(charge(succeeded()))
      .thenNothing());

  it('applies a refund the provider reported before the payment, in the same append', () => {
    const deferred = {
      type: 'ProviderEventDeferred',
      data: {
        workspaceId: WORKSPACE,
        paymentIntentId: 'pi_top_1',
        fact: {
          kind: 'REFUND',
          refund: refundFact({ providerRefundId: 're_early', amount: 5000, refundId: undefined }),
        },
        recordedBy: 'stripe',
        receivedAt: at(0).toISOString(),
      },
    } as const;
    const state = given(...requested, deferred).state();
    const types = decide(charge(succeeded()), state).map((event) => event.type);
    expect(types.slice(0, 2)).toEqual(['CreditsPurchased', 'PurchaseRefundRequested']);
  });

  /** The top-up ends with money that cannot be credited, and auto top-up pauses until someone looks. */
  const endedNotCredited = (amount: number, reason: string) => {
    const message = `Stripe collected ${amount} USD (pi_top_1) for this top-up, but it could not be credited: ${reason}. An admin will credit or refund it.`;
    return [
      topUpNotCredited('pi_top_1', amount, reason),
      topUpFailed({ reason: 'ERROR', code: 'not_credited', message, collected: { amount, currency: 'USD' } }),
      paused(message),
    ];
  };

  it('records money it cannot credit: another amount, or a top-up it does not know', () => {
    // The top-up ends with it: left awaiting its money, it would keep every later top-up from being
    // requested; charging again before an admin has credited or refunded it would take more money.
    given(...requested)
      .when(charge(succeeded('pi_top_1', 4000)))
      .then(...endedNotCredited(4000, 'collected 4000 USD for a top-up of 5000 USD'));
    const ended = given(...requested, ...endedNotCredited(4000, 'collected 4000 USD for a top-up of 5000 USD')).state();
    expect(ended.autoTopUp.topUps.get('topup-1')?.status).toBe('FAILED');
    expect(ended.autoTopUp.paused).toBe(true);
    given()
      .when(charge(succeeded('pi_x'), { topUpId: 'topup-9' }))
      .then(topUpNotCredited('pi_x', 5000, 'no auto top-up topup-9 was requested in this workspace'));
  });

  it('counts money taken but not credited against the monthly limit: restarting charges no more', () => {
    const limit = { monthlyLimit: { amount: 5000, currency: 'USD' } }; // one $50 package a month
    const state = given(purchased({ credits: 50 }), cardSaved(), topUpConfigured(limit), topUpRequested()).state();
    const ended = decide(charge(succeeded('pi_top_1', 5001)), state);
    for (const event of ended) evolve(state, event);
    expect(state.autoTopUp.topUps.get('topup-1')?.status).toBe('FAILED');
    expect(chargedInMonth(state, '2025-01', 'USD')).toBe(5001);
    // A billing manager starts auto top-up again before an admin has refunded the $50.01.
    const restarted = decide(configureTopUp(limit, { now: at(60_000) }), state);
    expect(restarted.filter((event) => event.type === 'AutoTopUpRequested')).toEqual([]);
  });

  it('counts money taken but not credited in the month it was taken, as a payment credited then', () => {
    const state = given(purchased({ credits: 50 }), cardSaved(), topUpConfigured(), topUpRequested()).state();
    const february = new Date('2025-02-01T00:00:00Z');
    for (const event of decide(charge(succeeded('pi_top_1', 5001), { now: february }), state)) evolve(state, event);
    expect(chargedInMonth(state, '2025-01', 'USD')).toBe(0);
    expect(chargedInMonth(state, '2025-02', 'USD')).toBe(5001);
  });

  it('records as not credited a payment whose id a manual purchase took as its reference: never hidden', () => {
    const manual = purchased({
      grantId: 'manual-1',
      purchaseId: 'pi_top_1',
      payment: { provider: 'MANUAL', reference: 'pi_top_1' },
    });
    given(...requested, manual)
      .when(charge(succeeded()))
      .then(...endedNotCredited(5000, 'the purchase id pi_top_1 is already a manual purchase of this workspace')); // paused: not re-armed, though the manual purchase's 500 credits took the balance over the line
  });

  it('counts against the month a declined attempt paid late, after another attempt paid the top-up', () => {
    const limit = { monthlyLimit: { amount: 10000, currency: 'USD' } }; // two $50 packages a month
    const state = given(purchased({ credits: 50 }), cardSaved(), topUpConfigured(limit), topUpRequested()).state();
    const record = (command: Parameters<typeof decide>[0]) => {
      const events = decide(command, state);
      for (const event of events) evolve(state, event);
      return events;
    };
    record(charge(declined('pi_attempt_1')));
    record(charge(succeeded('pi_attempt_2'), { attempt: 2 }));
    expect(chargedInMonth(state, '2025-01', 'USD')).toBe(5000);
    // Stripe then reports attempt 1's charge paid after all: $100 taken this month, the limit.
    const late = record(charge(succeeded('pi_attempt_1'), { now: at(60_000) }));
    expect(late).toEqual([
      {
        type: 'PaidCheckoutNotCredited',
        data: {
          ...topUpNotCredited('pi_attempt_1', 5000, 'auto top-up topup-1 was already paid by pi_attempt_2').data,
          autoTopUpId: 'topup-1',
          receivedAt: at(60_000).toISOString(),
        },
      },
    ]);
    expect(chargedInMonth(state, '2025-01', 'USD')).toBe(10000);
    // Delivered again, it is counted once.
    expect(record(charge(succeeded('pi_attempt_1'), { now: at(120_000) }))).toEqual([]);
    expect(chargedInMonth(state, '2025-01', 'USD')).toBe(10000);
  });

  it('counts a late payment in the month it came, leaving the paid top-up in its own month', () => {
    const state = given(purchased({ credits: 50 }), cardSaved(), topUpConfigured(), topUpRequested()).state();
    const record = (command: Parameters<typeof decide>[0]) => {
      for (const event of decide(command, state)) evolve(state, event);
    };
    record(charge(declined('pi_attempt_1')));
    record(charge(succeeded('pi_attempt_2'), { attempt: 2 }));
    record(charge(succeeded('pi_attempt_1'), { now: new Date('2025-02-02T00:00:00Z') }));
    expect(chargedInMonth(state, '2025-01', 'USD')).toBe(5000);
    expect(chargedInMonth(state, '2025-02', 'USD')).toBe(5000);
  });

  it('counts money that came for a top-up after it ended, in the month it came', () => {
    const state = given(...requested, topUpFailed(), paused('declined')).state();
    const february = new Date('2025-02-01T00:00:00Z');
    for (const event of decide(charge(succeeded('pi_top_1', 4000), { now: february }), state)) evolve(state, event);
    expect(state.uncreditedSessions.has('pi_top_1')).toBe(true);
    expect(chargedInMonth(state, '2025-02', 'USD')).toBe(4000);
  });

  it('credits a payment that succeeds after its top-up was given up on: the money was taken', () =>
    given(...requested, topUpFailed(), paused('declined'))
      .when(charge(succeeded()))
      .then(topUpPurchased()));
});

describe('RecordAutoTopUpCharge: failed', () => {
  it('schedules the next attempt after a decline, later after each', () => {
    given(...requested)
      .when(charge(declined()))
      .then(topUpFailed({ retryAt: at(RETRY.firstDelayMs).toISOString() }));
    given(...requested, topUpFailed({ retryAt: at(60_000).toISOString() }))
      .when(charge(declined('pi_top_2'), { attempt: 2 }))
      .then(
        topUpFailed({ attempt: 2, paymentIntentId: 'pi_top_2', retryAt: at(2 * RETRY.firstDelayMs).toISOString() }),
      );
  });

  it('pauses auto top-up after the last attempt', () =>
    given(...requested, topUpFailed({ retryAt: 'x' }), topUpFailed({ attempt: 2, retryAt: 'y' }))
      .when(charge(declined('pi_top_3'), { attempt: 3 }))
      .then(
        topUpFailed({ attempt: 3, paymentIntentId: 'pi_top_3', retryAt: null }),
        paused('3 attempts failed, the last: Your card was declined.'),
      ));

  it('pauses at once when the card needs its holder (3-D Secure): off-session it can never pass', () =>
    given(...requested)
      .when(
        charge({
          status: 'FAILED',
          paymentIntentId: 'pi_top_1',
          reason: 'REQUIRES_ACTION',
          code: 'authentication_required',
          message: 'This payment requires authentication.',
        }),
      )
      .then(
        topUpFailed({
          reason: 'REQUIRES_ACTION',
          code: 'authentication_required',
          message: 'This payment requires authentication.',
          retryAt: null,
        }),
        paused('the card needs its holder to authenticate each payment (3-D Secure)'),
      ));

  it('records an attempt once, whether the reaction or the webhook reports it', () =>
    given(...requested, topUpFailed({ retryAt: at(60_000).toISOString() }))
      .when(charge(declined()))
      .thenNothing());

  it('records nothing for a top-up already paid, or unknown', () => {
    given(...requested, topUpPurchased())
      .when(charge(declined(), { attempt: 2 }))
      .thenNothing();
    given().when(charge(declined())).thenNothing();
  });

  it('records nothing while the payment is still processing', () =>
    given(...requested)
      .when(charge({ status: 'PROCESSING', paymentIntentId: 'pi_top_1' }))
      .thenNothing());
});
