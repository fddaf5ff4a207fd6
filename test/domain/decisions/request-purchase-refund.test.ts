/**
 * RequestPurchaseRefund: an admin's refund takes the credits out at once and fixes the money, both
 * decided on the stream at the revision it is appended at; the provider is asked afterwards.
 */
import { availableCredits } from '../../../src/domain/drawdown';
import { at, consumed, DAY, draw, HOUR, purchased } from '../builders';
import {
  disputeOpened,
  refundFailed,
  refundPending,
  refundRequested,
  refundSucceeded,
  requestRefund,
} from '../payment-builders';
import { keylessRefundId } from '../../../src/domain/decisions/request-purchase-refund';
import { decide } from '../../../src/domain/decide';
import { released, reserved } from '../hold-builders';
import { given, stateOf } from '../spec';

const USD = (amount: number) => ({ amount, currency: 'USD' });
const bought = purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' } });
const spent = (credits: number, id = 'spend-1') =>
  consumed({
    consumptionId: id,
    idempotencyKey: `key-${id}`,
    credits,
    drawdown: [draw('purchase-1', 'PURCHASED', credits)],
    availableAfter: 0,
  });

describe('RequestPurchaseRefund', () => {
  it('takes every unspent credit out of the balance at once and fixes the money pro rata', () => {
    given(bought, spent(500))
      .when(requestRefund())
      .then(
        refundRequested({
          credits: 1500,
          creditsRepaid: 1500,
          paysFor: 1500,
          amount: { amount: 13500, currency: 'USD' },
        }),
      );
    const after = stateOf([bought, spent(500), refundRequested({ credits: 1500, creditsRepaid: 1500 })]);
    expect(availableCredits(after.grants.values(), at(DAY).getTime())).toBe(0);
  });

  it('prices the refund on the stream as it is, so a spend that got there first is not refunded', () => {
    given(bought, spent(500), spent(1200, 'spend-2'))
      .when(requestRefund())
      .then(
        refundRequested({ credits: 300, creditsRepaid: 300, paysFor: 300, amount: { amount: 2700, currency: 'USD' } }),
      );
  });

  it('refunds part of the credits when asked for a number', () =>
    given(bought)
      .when(requestRefund({ credits: 200 }))
      .then(
        refundRequested({
          creditsAsked: 200,
          credits: 200,
          creditsRepaid: 200,
          paysFor: 200,
          amount: { amount: 1800, currency: 'USD' },
        }),
      ));

  it('is done at once for a purchase paid outside the provider', () => {
    const invoiced = purchased({ credits: 2000, payment: { provider: 'MANUAL', reference: 'cs_pay_1' } });
    given(invoiced)
      .when(requestRefund({ credits: 500 }))
      .then(
        refundRequested({
          creditsAsked: 500,
          credits: 500,
          creditsRepaid: 500,
          paysFor: 500,
          amount: { amount: 1225, currency: 'USD' },
          paymentIntentId: undefined,
        }),
        {
          type: 'PurchaseRefundSucceeded',
          data: {
            workspaceId: 'ws-1',
            refundId: 'refund-1',
            purchaseId: 'cs_pay_1',
            succeededAt: at(DAY).toISOString(),
          },
        },
      );
  });

  it('returns the first refund for a repeat of the request, with or without a key', () => {
    given(bought, refundRequested())
      .when(requestRefund({ credits: 1000 }))
      .thenNothing();
    given(bought, refundRequested({ idempotencyKey: 'ticket-7' }))
      .when(requestRefund({ refundId: 'another-id', idempotencyKey: 'ticket-7' }))
      .thenNothing();
  });

  it('repeats a refund asked for with a key when the same request comes without one, on the same terms', () => {
    /** A refund of `credits` of the 2,000 bought for $180, priced pro rata. */
    const refundOf = (credits: number, f: Parameters<typeof refundRequested>[0] = {}) =>
      refundRequested({
        creditsAsked: credits,
        credits,
        creditsRepaid: credits,
        paysFor: credits,
        amount: USD(credits * 9),
        ...f,
      });
    const keyed = refundOf(300, { refundId: 'refund-keyed', idempotencyKey: 'ui-1' });
    const again = (now: Date, f: { credits?: number; reason?: string } = {}) =>
      requestRefund({ credits: f.credits ?? 300, ...(f.reason !== undefined && { reason: f.reason }), now });
    // Within a day, or while Stripe is still making it: that refund, no money sent twice.
    given(bought, keyed)
      .when(again(at(DAY + HOUR)))
      .thenNothing();
    given(bought, keyed, refundPending({ refundId: 'refund-keyed' }))
      .when(again(at(5 * DAY)))
      .thenNothing();
    const request = { refundId: 'refund-1', purchaseId: 'cs_pay_1', credits: 300, reason: 'customer request' };
    expect(keylessRefundId(stateOf([bought, keyed]), request, at(DAY + HOUR).getTime())).toBe('refund-keyed');
    // Another number of credits, or another reason, is another request.
    given(bought, keyed)
      .when(again(at(DAY + HOUR), { credits: 200 }))
      .then(refundOf(200, { at: at(DAY + HOUR) }));
    given(bought, keyed)
      .when(again(at(DAY + HOUR), { reason: 'goodwill' }))
      .then(refundOf(300, { reason: 'goodwill', at: at(DAY + HOUR) }));
    // Failed, or made more than a day ago: a new refund.
    given(
      bought,
      keyed,
      refundFailed({ refundId: 'refund-keyed', credits: 300, creditsRepaid: 300, amount: USD(2700) }),
    )
      .when(again(at(DAY + HOUR)))
      .then(refundOf(300, { at: at(DAY + HOUR) }));
    given(bought, keyed, refundSucceeded({ refundId: 'refund-keyed' }))
      .when(again(at(3 * DAY)))
      .then(refundOf(300, { at: at(3 * DAY) }));
    // A keyed refund of everything that took 300 is not a keyless request for 300: other terms.
    const keyedAll = refundRequested({
      refundId: 'refund-keyed',
      idempotencyKey: 'ui-1',
      credits: 300,
      creditsRepaid: 300,
      paysFor: 300,
      amount: USD(2700),
    });
    given(bought, keyedAll)
      .when(again(at(DAY + HOUR)))
      .then(refundOf(300, { at: at(DAY + HOUR) }));
  });

  it('makes a new refund for a request without a key a day later, or once the first failed or was canceled', () => {
    const first = refundRequested({
      creditsAsked: 200,
      credits: 200,
      creditsRepaid: 200,
      paysFor: 200,
      amount: USD(1800),
    });
    const again = (now: Date) => requestRefund({ credits: 200, now });
    const second = refundRequested({
      refundId: 'refund-1_2',
      creditsAsked: 200,
      credits: 200,
      creditsRepaid: 200,
      paysFor: 200,
      amount: USD(1800),
      at: at(2 * DAY),
    });
    // The same request an hour later is a retry: the first refund.
    given(bought, first)
      .when(again(at(DAY + HOUR)))
      .thenNothing();
    // A day later: another refund, paid back too.
    given(bought, first, refundSucceeded())
      .when(again(at(2 * DAY)))
      .then(second);
    // Still under way at Stripe a day later (or its work parked): the same refund, never a second.
    given(bought, first)
      .when(again(at(5 * DAY)))
      .thenNothing();
    given(bought, first, refundPending())
      .when(again(at(5 * DAY)))
      .thenNothing();
    // The first failed (or was canceled): asking again refunds, at once.
    for (const ended of [
      refundFailed({ credits: 200, creditsRepaid: 200, amount: USD(1800) }),
      refundFailed({ credits: 200, creditsRepaid: 200, amount: USD(1800), status: 'CANCELED' }),
    ]) {
      given(bought, first, ended)
        .when(again(at(DAY + HOUR)))
        .then({ ...second, data: { ...second.data, requestedAt: at(DAY + HOUR).toISOString() } });
    }
    // The answer names the refund the request made or repeated.
    const request = { refundId: 'refund-1', purchaseId: 'cs_pay_1', credits: 200, reason: 'customer request' };
    const state = stateOf([bought, first, refundSucceeded(), second]);
    expect(keylessRefundId(state, request, at(2 * DAY + HOUR).getTime())).toBe('refund-1_2');
    expect(keylessRefundId(state, request, at(4 * DAY).getTime())).toBe('refund-1_2'); // still under way
    const paid = stateOf([bought, first, refundSucceeded(), second, refundSucceeded({ refundId: 'refund-1_2' })]);
    expect(keylessRefundId(paid, request, at(4 * DAY).getTime())).toBe('refund-1_3');
  });

  it('makes a new refund of all that is unspent once credits came back since the same request without a key', () => {
    // 1,500 of the purchase's 2,000 are held by a running action: "everything" refunds the 500 left.
    const hold = reserved({
      drawdown: [draw('purchase-1', 'PURCHASED', 1500)],
      availableAfter: 500,
      expiresAt: at(3 * DAY),
    });
    const first = refundRequested({ credits: 500, creditsRepaid: 500, paysFor: 500, amount: USD(4500) });
    const everything = (now: Date) => requestRefund({ now });
    // A retry with nothing left to refund: the first refund, under way or paid.
    given(bought, hold, first)
      .when(everything(at(DAY + HOUR)))
      .thenNothing();
    given(bought, hold, first, refundSucceeded())
      .when(everything(at(DAY + HOUR)))
      .thenNothing();
    // The hold released its 1,500: the same request refunds them, as a new refund.
    const back = released([draw('purchase-1', 'PURCHASED', 1500)], { at: at(DAY + HOUR) });
    const second = refundRequested({
      refundId: 'refund-1_2',
      credits: 1500,
      creditsRepaid: 1500,
      paysFor: 1500,
      amount: USD(13500),
      at: at(DAY + 2 * HOUR),
    });
    given(bought, hold, first, refundSucceeded(), back)
      .when(everything(at(DAY + 2 * HOUR)))
      .then(second);
    given(bought, hold, first, back)
      .when(everything(at(DAY + 2 * HOUR)))
      .then(second);
    // A retry of that one, with nothing left again, is that one; the answer names it.
    given(bought, hold, first, refundSucceeded(), back, second)
      .when(everything(at(DAY + 3 * HOUR)))
      .thenNothing();
    const request = { refundId: 'refund-1', purchaseId: 'cs_pay_1', reason: 'customer request' };
    expect(keylessRefundId(stateOf([bought, hold, first, back, second]), request, at(DAY + 3 * HOUR).getTime())).toBe(
      'refund-1_2',
    );
    // A number of credits is its own request: a repeat of 500 is the first refund, whatever came back.
    given(bought, hold, first, refundSucceeded(), back)
      .when(requestRefund({ credits: 500, now: at(DAY + 2 * HOUR) }))
      .thenNothing();
    // Asked as a number without a key, it has an id of its own: the "everything" refund that took
    // 500 is another request (only one made with a key is looked for beyond the request's own ids).
    given(bought, hold, first, refundSucceeded(), back)
      .when(requestRefund({ refundId: 'refund-500', credits: 500, now: at(DAY + 2 * HOUR) }))
      .then(
        refundRequested({
          refundId: 'refund-500',
          creditsAsked: 500,
          credits: 500,
          creditsRepaid: 500,
          paysFor: 500,
          amount: USD(4500),
          at: at(DAY + 2 * HOUR),
        }),
      );
  });

  it('refuses a key used for a different refund', () => {
    given(bought, refundRequested({ idempotencyKey: 'ticket-7' }))
      .when(requestRefund({ refundId: 'another-id', idempotencyKey: 'ticket-7', credits: 5 }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED');
    given(bought, refundRequested({ idempotencyKey: 'ticket-7' }))
      .when(requestRefund({ refundId: 'another-id', idempotencyKey: 'ticket-7', reason: 'another reason' }))
      .thenThrows('IDEMPOTENCY_KEY_REUSED');
  });

  it('tells a keyed request for all that is left from one that named its credits', () => {
    const named = refundRequested({ idempotencyKey: 'ticket-7', creditsAsked: 100, credits: 100, paysFor: 100 });
    const repeat = (credits?: number) =>
      requestRefund({ refundId: 'another-id', idempotencyKey: 'ticket-7', ...(credits !== undefined && { credits }) });
    // The first named 100: only a request naming 100 repeats it; one for everything is another request.
    given(bought, named).when(repeat(100)).thenNothing();
    given(bought, named).when(repeat()).thenThrows('IDEMPOTENCY_KEY_REUSED');
    given(bought, named).when(repeat(1000)).thenThrows('IDEMPOTENCY_KEY_REUSED');
    // The first asked for everything (1,000 then): a request for everything repeats it, and so does
    // one naming the 1,000 it took; fewer is another request.
    const everything = refundRequested({ idempotencyKey: 'ticket-7' });
    given(bought, everything).when(repeat()).thenNothing();
    given(bought, everything).when(repeat(1000)).thenNothing();
    given(bought, everything).when(repeat(100)).thenThrows('IDEMPOTENCY_KEY_REUSED');
  });

  it('refuses when nothing is left, more than is left, under a dispute, and for unknown purchases', () => {
    given(bought, spent(2000)).when(requestRefund()).thenThrows('CONFLICT');
    given(bought, spent(500))
      .when(requestRefund({ credits: 1501 }))
      .thenThrows('BAD_USER_INPUT');
    given(bought, disputeOpened()).when(requestRefund()).thenThrows('CONFLICT');
    given(bought)
      .when(requestRefund({ purchaseId: 'cs_other' }))
      .thenThrows('NOT_FOUND');
    given(bought)
      .when(requestRefund({ reason: '  ' }))
      .thenThrows('BAD_USER_INPUT');
  });

  it('leaves held credits out, and says how many running actions hold', () => {
    const hold = reserved({ drawdown: [draw('purchase-1', 'PURCHASED', 400)], availableAfter: 100 });
    const now = at(60_000); // the hold is still running
    const [refund] = decide(requestRefund({ now }), stateOf([bought, spent(1500), hold]));
    expect(refund).toMatchObject({ data: { credits: 100, amount: { amount: 900, currency: 'USD' } } });
    expect(() => decide(requestRefund({ now }), stateOf([bought, spent(1600), hold]))).toThrow(
      'Purchase cs_pay_1 has no unspent credits left to refund. 400 more are held by running actions until their holds end.',
    );
    expect(() => decide(requestRefund({ now, credits: 200 }), stateOf([bought, spent(1500), hold]))).toThrow(
      /Only 100 credits .* are unspent; 200 cannot be refunded\. 400 more are held/,
    );
  });

  it('has nothing to refund once a capped dashboard refund has paid back more than was unspent', () => {
    // 1,800 spent; $90 back at the provider paid for 1,000 credits: the 200 unspent were taken back
    // and 800 are owed. A spend given back afterwards lapses against what is owed, so nothing is
    // left to refund, and no negative amount is ever worked out.
    const dashboard = refundRequested({
      origin: 'PROVIDER',
      refundId: 'provider-re_9',
      providerRefundId: 're_9',
      credits: 200,
      creditsOwed: 800,
      creditsRepaid: 1000,
    });
    given(bought, spent(1800), dashboard)
      .when(requestRefund({ credits: 1 }))
      .thenThrows('CONFLICT');
  });
});
