/**
 * RecordProviderRefund: the payment provider's word on a refund, ours or one made in its
 * dashboard. Each refund is recorded once; its status only moves forward, whatever order the
 * provider delivers in; a failed refund gives its credits back where they can still be spent.
 */
import type { RecordProviderRefund } from '../../../src/domain/commands';
import { decide } from '../../../src/domain/decide';
import { evolve } from '../../../src/domain/evolve';
import type { WorkspaceCreditsEvent } from '../../../src/domain/events';
import { availableCredits } from '../../../src/domain/drawdown';
import { at, consumed, DAY, draw, expired, purchased } from '../builders';
import {
  providerRefund,
  refundFact,
  refundFailed,
  refundPending,
  refundRequested,
  refundSucceeded,
  requestRefund,
} from '../payment-builders';
import { given, stateOf } from '../spec';

const bought = purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' } });
const ours = refundRequested(); // 1,000 credits, $90.00
const ourFact = (f: Parameters<typeof refundFact>[0] = {}) => refundFact({ refundId: 'refund-1', ...f });
const available = (events: Parameters<typeof stateOf>[0], now = at(DAY)) =>
  availableCredits(stateOf(events).grants.values(), now.getTime());

describe('RecordProviderRefund: our refunds', () => {
  it('records the provider’s success', () =>
    given(bought, ours).when(providerRefund(ourFact())).then(refundSucceeded()));

  it('keeps the credits out while the refund is pending', () => {
    given(bought, ours)
      .when(providerRefund(ourFact({ status: 'PENDING' })))
      .then(refundPending());
    expect(available([bought, ours, refundPending()])).toBe(1000);
  });

  it('gives the credits back when a pending refund fails', () => {
    given(bought, ours, refundPending())
      .when(providerRefund(ourFact({ status: 'FAILED' })))
      .then(refundFailed());
    expect(available([bought, ours, refundPending(), refundFailed()])).toBe(2000);
  });

  it('gives them back when the provider cancels it, or fails one that had succeeded', () => {
    given(bought, ours, refundPending())
      .when(providerRefund(ourFact({ status: 'CANCELED' })))
      .then(refundFailed({ status: 'CANCELED', reason: 'the payment provider reported the refund canceled' }));
    given(bought, ours, refundSucceeded())
      .when(providerRefund(ourFact({ status: 'FAILED' })))
      .then(refundFailed());
  });

  it('lets the credits of a failed refund lapse when their grant has expired meanwhile', () => {
    const expiring = purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' }, expiresAt: at(2 * DAY) });
    const later = at(3 * DAY);
    given(expiring, ours)
      .when(providerRefund(ourFact({ status: 'FAILED' }), { now: later }))
      .then(
        expired({ grantId: 'purchase-1', source: 'PURCHASED', credits: 1000, expiredAt: at(2 * DAY) }),
        refundFailed({ failedAt: later.toISOString() }),
        expired({ grantId: 'purchase-1', source: 'PURCHASED', credits: 1000, expiredAt: later }),
      );
  });

  it('never moves a status back: a late "pending" or "succeeded" after a failure changes nothing', () => {
    const failed = [bought, ours, refundFailed()];
    given(...failed)
      .when(providerRefund(ourFact({ status: 'PENDING' })))
      .thenNothing();
    given(...failed)
      .when(providerRefund(ourFact({ status: 'SUCCEEDED' })))
      .thenNothing();
    given(bought, ours, refundSucceeded())
      .when(providerRefund(ourFact({ status: 'PENDING' })))
      .thenNothing();
  });

  it('records a repeated delivery once, found by our id or by the provider’s', () => {
    given(bought, ours, refundSucceeded()).when(providerRefund(ourFact())).thenNothing();
    given(bought, ours, refundSucceeded()).when(providerRefund(refundFact())).thenNothing();
  });

  it('records a refund the provider refused to make as failed, with the credits back', () =>
    given(bought, ours)
      .when(
        providerRefund({ refundId: 'refund-1', amount: 9000, currency: 'USD', status: 'FAILED', reason: 'refused' }),
      )
      .then(refundFailed({ providerRefundId: undefined, reason: 'refused' })));
});

describe('RecordProviderRefund: refunds made in the provider’s dashboard', () => {
  const dashboard = (f: Parameters<typeof refundFact>[0] = {}) =>
    refundFact({ providerRefundId: 're_9', amount: 4500, ...f });
  const recorded = (f: Parameters<typeof refundRequested>[0] = {}) =>
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
      ...f,
    });

  it('takes back the credits its money paid for, and records its status', () =>
    given(bought)
      .when(providerRefund(dashboard()))
      .then(recorded(), refundSucceeded({ refundId: 'provider-re_9', providerRefundId: 're_9' })));

  it('takes back the credits many small refunds pay for together, not the sum of each one rounded down', () => {
    // A credit of this package costs 9 cents: each refund of 8 cents pays for none by itself.
    const state = stateOf([bought]);
    for (let n = 1; n <= 100; n++) {
      const events = decide(providerRefund(dashboard({ providerRefundId: `re_small_${n}`, amount: 8 })), state);
      for (const event of events) evolve(state, event);
    }
    // $8.00 back pays for 88 credits of 2,000 bought for $180.00 (2,000 × 800 / 18,000 = 88.9).
    const purchase = state.purchases.get(bought.data.purchaseId);
    expect(purchase).toMatchObject({ amountReturned: 800, creditsRepaid: 88 });
    expect(availableCredits(state.grants.values(), at(DAY).getTime())).toBe(2000 - 88);
  });

  it('still takes the credits an admin names after small refunds that paid for some together', () => {
    // 3,000 credits for $100.00: two refunds of 2 cents pay for none alone and for one together.
    const cheap = purchased({ credits: 3000, price: { amount: 10000, currency: 'USD' } });
    const state = stateOf([cheap]);
    const apply = (command: Parameters<typeof decide>[0]) => {
      const events = decide(command, state);
      for (const event of events) evolve(state, event);
      return events;
    };
    apply(providerRefund(dashboard({ providerRefundId: 're_2c_1', amount: 2 })));
    apply(providerRefund(dashboard({ providerRefundId: 're_2c_2', amount: 2 })));
    expect(state.purchases.get(cheap.data.purchaseId)).toMatchObject({ amountReturned: 4, creditsRepaid: 1 });
    const [requested] = apply(requestRefund({ purchaseId: cheap.data.purchaseId, credits: 1 }));
    // The credit named, for the money that brings the returns to two credits' worth (6 cents).
    expect(requested).toMatchObject({
      type: 'PurchaseRefundRequested',
      data: { credits: 1, creditsRepaid: 1, amount: { amount: 2, currency: 'USD' } },
    });
    expect(state.purchases.get(cheap.data.purchaseId)).toMatchObject({ amountReturned: 6, creditsRepaid: 2 });
  });

  it('records a refund made by hand with a copy of ours (support issuing a failed one again) as its own', () => {
    // Metadata is anyone's to write at the provider: re_2 names refund-1, which is re_1's.
    const copy = dashboard({ providerRefundId: 're_2', refundId: 'refund-1', amount: 9000 });
    const copied = recorded({
      refundId: 'provider-re_2',
      providerRefundId: 're_2',
      credits: 1000,
      creditsRepaid: 1000,
      paysFor: 1000,
      amount: { amount: 9000, currency: 'USD' },
    });
    given(bought, ours, refundPending(), refundFailed())
      .when(providerRefund(copy))
      .then(copied, refundSucceeded({ refundId: 'provider-re_2', providerRefundId: 're_2' }));
    // Ours succeeded: the copy is more money back, not a repeat of it.
    given(bought, ours, refundSucceeded())
      .when(providerRefund(copy))
      .then(copied, refundSucceeded({ refundId: 'provider-re_2', providerRefundId: 're_2' }));
  });

  it('fails the refund the provider id names, not the one its metadata names', () => {
    const fromDashboard = [recorded(), refundSucceeded({ refundId: 'provider-re_9', providerRefundId: 're_9' })];
    given(bought, ours, refundSucceeded(), ...fromDashboard)
      .when(providerRefund(dashboard({ refundId: 'refund-1', status: 'FAILED' })))
      .then(
        refundFailed({
          refundId: 'provider-re_9',
          providerRefundId: 're_9',
          credits: 500,
          creditsRepaid: 500,
          amount: { amount: 4500, currency: 'USD' },
        }),
      );
  });

  it('records a refund whose metadata names a refund of another purchase on its own purchase', () => {
    const other = purchased({
      purchaseId: 'cs_pay_2',
      grantId: 'purchase-2',
      credits: 2000,
      price: { amount: 18000, currency: 'USD' },
      payment: { provider: 'STRIPE', checkoutSessionId: 'cs_pay_2', paymentIntentId: 'pi_2' },
    });
    given(bought, other, ours, refundSucceeded())
      .when(providerRefund(dashboard({ refundId: 'refund-1', amount: 18000 }), { paymentIntentId: 'pi_2' }))
      .then(
        recorded({
          purchaseId: 'cs_pay_2',
          grantId: 'purchase-2',
          paymentIntentId: 'pi_2',
          credits: 2000,
          creditsRepaid: 2000,
          paysFor: 2000,
          amount: { amount: 18000, currency: 'USD' },
        }),
        refundSucceeded({ refundId: 'provider-re_9', purchaseId: 'cs_pay_2', providerRefundId: 're_9' }),
      );
  });

  it('records the spent credits its money paid for as owed', () => {
    const spent = consumed({ credits: 1800, drawdown: [draw('purchase-1', 'PURCHASED', 1800)], availableAfter: 200 });
    given(bought, spent)
      .when(providerRefund(dashboard({ amount: 9000 })))
      .then(
        recorded({
          credits: 200,
          creditsOwed: 800,
          creditsRepaid: 1000,
          paysFor: 1000,
          amount: { amount: 9000, currency: 'USD' },
        }),
        refundSucceeded({ refundId: 'provider-re_9', providerRefundId: 're_9' }),
      );
  });

  it('records as owed only credits that were spent, not ones that expired unspent', () => {
    const expiring = purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' }, expiresAt: at(2 * DAY) });
    const spent = consumed({ credits: 300, drawdown: [draw('purchase-1', 'PURCHASED', 300)], availableAfter: 1700 });
    const later = at(3 * DAY);
    given(expiring, spent)
      .when(providerRefund(dashboard({ amount: 18000 }), { now: later }))
      .then(
        expired({ grantId: 'purchase-1', source: 'PURCHASED', credits: 1700, expiredAt: at(2 * DAY) }),
        recorded({
          credits: 0,
          creditsOwed: 300,
          creditsRepaid: 2000,
          paysFor: 2000,
          amount: { amount: 18000, currency: 'USD' },
          requestedAt: later.toISOString(),
        }),
        refundSucceeded({ refundId: 'provider-re_9', providerRefundId: 're_9', succeededAt: later.toISOString() }),
      );
  });

  it('owes nothing while the money back pays for no more than the unspent credits, whichever order news comes in', () => {
    const pack = purchased({ credits: 100, price: { amount: 10000, currency: 'USD' }, expiresAt: at(2 * DAY) });
    const spent = consumed({ credits: 10, drawdown: [draw('purchase-1', 'PURCHASED', 10)], availableAfter: 90 });
    const news = (id: string, amount: number, status: 'SUCCEEDED' | 'FAILED', when: Date) =>
      providerRefund(dashboard({ providerRefundId: id, amount, status }), { now: when });
    const beforeExpiry = news('re_a', 2000, 'SUCCEEDED', at(DAY)); // takes 20 unspent credits back
    const b = news('re_b', 3000, 'SUCCEEDED', at(3 * DAY));
    const c = news('re_c', 1000, 'SUCCEEDED', at(3 * DAY));
    const cFailed = news('re_c', 1000, 'FAILED', at(3 * DAY));
    const play = (commands: RecordProviderRefund[]) => {
      const events: WorkspaceCreditsEvent[] = [pack, spent];
      for (const command of commands) events.push(...decide(command, stateOf(events)));
      const state = stateOf(events);
      return { purchase: state.purchases.get('cs_pay_1'), grant: state.grants.get('purchase-1') };
    };
    const inOrder = play([beforeExpiry, b, c, cFailed]);
    // $50 of $100 went back: it pays for 50 of the 90 credits never spent, so nothing is owed.
    expect(inOrder.purchase).toMatchObject({ creditsOwed: 0, amountReturned: 5000 });
    expect(play([beforeExpiry, c, cFailed, b])).toEqual(inOrder);
    // Money for more than was left unspent makes the rest owed: $95 back with 10 of 100 spent.
    const more = news('re_d', 4500, 'SUCCEEDED', at(3 * DAY));
    expect(play([beforeExpiry, b, c, cFailed, more]).purchase).toMatchObject({ creditsOwed: 5 });
    expect(play([beforeExpiry, more, c, cFailed, b]).purchase).toMatchObject({ creditsOwed: 5 });

    // The same refund heard of before the package expired or after it owes the same.
    const half = (when: Date) => news('re_e', 5000, 'SUCCEEDED', when);
    const early = play([half(at(DAY))]);
    const late = play([half(at(3 * DAY))]);
    expect(early.purchase).toMatchObject({ creditsOwed: 0, creditsRepaid: 50 });
    expect(late.purchase).toMatchObject({ creditsOwed: 0, creditsRepaid: 50 });
  });

  it('keeps the credits out while it is pending and gives them back when it fails', () => {
    given(bought)
      .when(providerRefund(dashboard({ status: 'PENDING' })))
      .then(recorded(), refundPending({ refundId: 'provider-re_9', providerRefundId: 're_9' }));
    given(bought, recorded(), refundPending({ refundId: 'provider-re_9', providerRefundId: 're_9' }))
      .when(providerRefund(dashboard({ status: 'FAILED' })))
      .then(
        refundFailed({
          refundId: 'provider-re_9',
          providerRefundId: 're_9',
          credits: 500,
          creditsRepaid: 500,
          amount: { amount: 4500, currency: 'USD' },
        }),
      );
  });

  it('records one first heard of as failed as made and failed at once, so a late success changes nothing', () => {
    const failed = refundFailed({
      refundId: 'provider-re_9',
      providerRefundId: 're_9',
      credits: 500,
      creditsRepaid: 500,
      amount: { amount: 4500, currency: 'USD' },
    });
    given(bought)
      .when(providerRefund(dashboard({ status: 'FAILED' })))
      .then(recorded(), failed);
    expect(available([bought, recorded(), failed])).toBe(2000);
    given(bought, recorded(), failed)
      .when(providerRefund(dashboard({ status: 'SUCCEEDED' })))
      .thenNothing();
  });

  it('keeps a refund of a payment not recorded yet, once, to apply when its purchase is recorded', () => {
    const deferred = {
      type: 'ProviderEventDeferred' as const,
      data: {
        workspaceId: 'ws-1',
        paymentIntentId: 'pi_1',
        fact: { kind: 'REFUND' as const, refund: dashboard() },
        recordedBy: 'payment-provider',
        receivedAt: at(DAY).toISOString(),
      },
    };
    given().when(providerRefund(dashboard())).then(deferred);
    given(deferred).when(providerRefund(dashboard())).thenNothing();
  });
});
