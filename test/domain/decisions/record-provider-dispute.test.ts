/**
 * RecordProviderDispute: a chargeback freezes what is left of the purchase's credits until the
 * bank decides; a lost dispute takes them back (and records what was spent as owed), a won one
 * returns them. Deliveries in any order, repeated, come to the same end.
 */
import { availableCredits } from '../../../src/domain/drawdown';
import { at, consumed, DAY, draw, expired, purchased } from '../builders';
import {
  disputeClosed,
  disputeFact,
  disputeOpened,
  providerDispute,
  refundSpend,
  spendRefunded,
} from '../payment-builders';
import { given, stateOf } from '../spec';

const bought = purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' } });
const spent = consumed({ credits: 500, drawdown: [draw('purchase-1', 'PURCHASED', 500)], availableAfter: 1500 });
const opened = disputeOpened({ creditsHeld: 1500, creditsSpent: 500 });
const available = (events: Parameters<typeof stateOf>[0]) =>
  availableCredits(stateOf(events).grants.values(), at(DAY).getTime());

describe('RecordProviderDispute', () => {
  it('freezes what is left of the purchase while the dispute is open', () => {
    given(bought, spent).when(providerDispute(disputeFact())).then(opened);
    expect(available([bought, spent, opened])).toBe(0);
  });

  it('returns the frozen credits when the dispute is won', () => {
    given(bought, spent, opened)
      .when(providerDispute(disputeFact({ status: 'WON' })))
      .then(disputeClosed());
    expect(available([bought, spent, opened, disputeClosed()])).toBe(1500);
  });

  it('takes them back when it is lost, and records the spent ones as owed', () => {
    const lost = disputeClosed({
      outcome: 'LOST',
      creditsTakenBack: 1500,
      creditsOwed: 500,
      creditsRepaid: 2000,
      paysFor: 2000,
      amountLost: { amount: 18000, currency: 'USD' },
    });
    given(bought, spent, opened)
      .when(providerDispute(disputeFact({ status: 'LOST' })))
      .then(lost);
    const state = stateOf([bought, spent, opened, lost]);
    expect(availableCredits(state.grants.values(), at(DAY).getTime())).toBe(0);
    expect(state.purchases.get('cs_pay_1')).toMatchObject({ amountReturned: 18000, creditsOwed: 500 });
  });

  it('records nothing as owed for credits that expired unspent before it was lost', () => {
    const expiring = purchased({ credits: 2000, price: { amount: 18000, currency: 'USD' }, expiresAt: at(2 * DAY) });
    const heldAtOpen = disputeOpened({ creditsHeld: 1500, creditsSpent: 500 });
    const later = at(3 * DAY);
    given(expiring, spent, heldAtOpen)
      .when(providerDispute(disputeFact({ status: 'LOST' }), { now: later }))
      .then(
        expired({ grantId: 'purchase-1', source: 'PURCHASED', credits: 1500, expiredAt: at(2 * DAY) }),
        disputeClosed({
          outcome: 'LOST',
          creditsTakenBack: 0,
          creditsOwed: 500,
          creditsRepaid: 2000,
          paysFor: 2000,
          amountLost: { amount: 18000, currency: 'USD' },
          closedAt: later.toISOString(),
        }),
      );
  });

  it('never makes a charged-back purchase spendable again, not even by giving a spend back', () => {
    const lost = disputeClosed({ outcome: 'LOST', creditsTakenBack: 1500, creditsOwed: 500, creditsRepaid: 2000 });
    const drawdown = [draw('purchase-1', 'PURCHASED', 500)];
    given(bought, spent, opened, lost)
      .when(refundSpend(drawdown))
      .then(spendRefunded(drawdown), {
        type: 'CreditsExpired',
        data: {
          workspaceId: 'ws-1',
          grantId: 'purchase-1',
          source: 'PURCHASED',
          credits: 500,
          reason: 'MONEY_RETURNED',
          expiredAt: at(DAY).toISOString(),
        },
      });
  });

  it('keeps a spend given back during the dispute frozen with the rest', () => {
    const drawdown = [draw('purchase-1', 'PURCHASED', 500)];
    expect(available([bought, spent, opened, spendRefunded(drawdown)])).toBe(0);
  });

  it('opens and closes at once when the closing arrives first', () =>
    given(bought, spent)
      .when(providerDispute(disputeFact({ status: 'WON' })))
      .then(opened, disputeClosed()));

  it('records each change once, and nothing after it closed', () => {
    given(bought, spent, opened).when(providerDispute(disputeFact())).thenNothing();
    given(bought, spent, opened, disputeClosed())
      .when(providerDispute(disputeFact({ status: 'LOST' })))
      .thenNothing();
    given(bought, spent, opened, disputeClosed()).when(providerDispute(disputeFact())).thenNothing();
  });

  it('keeps a dispute of a payment not recorded yet', () =>
    given()
      .when(providerDispute(disputeFact()))
      .then({
        type: 'ProviderEventDeferred',
        data: {
          workspaceId: 'ws-1',
          paymentIntentId: 'pi_1',
          fact: { kind: 'DISPUTE', dispute: disputeFact() },
          recordedBy: 'payment-provider',
          receivedAt: at(DAY).toISOString(),
        },
      }));
});
