/**
 * The final state does not depend on delivery order: the payment provider's messages about a
 * purchase (its payment, each refund's status changes, a dispute opening and closing), delivered
 * in two random orders, some before the payment itself, leave the same balance, the same money and
 * credits on the purchase, and the same statuses.
 */
import fc from 'fast-check';
import type { WorkspaceCreditsCommand } from '../../../src/domain/commands';
import { creditBalance } from '../../../src/domain/balance';
import type { ProviderRefundFact } from '../../../src/domain/events';
import { MoneyModel, WORKSPACE } from './money-model';

const seed = Number(process.env.FC_SEED ?? 20261202);
const numRuns = Number(process.env.FC_RUNS ?? 300);

const PACKS = [
  { credits: 2000, price: 18000 },
  { credits: 3, price: 1000 },
  { credits: 500, price: 5000 },
];

/** A refund's life as the provider reports it: statuses only move forward. */
const life = fc.constantFrom<ProviderRefundFact['status'][]>(
  ['SUCCEEDED'],
  ['PENDING'],
  ['PENDING', 'SUCCEEDED'],
  ['PENDING', 'FAILED'],
  ['SUCCEEDED', 'FAILED'],
  ['PENDING', 'SUCCEEDED', 'FAILED'],
  ['REQUIRES_ACTION', 'CANCELED'],
  ['FAILED'],
);

const scenario = fc.record({
  pack: fc.constantFrom(...PACKS),
  spentShare: fc.constantFrom(0, 0.3, 0.9, 1),
  spendFirst: fc.boolean(),
  refunds: fc.array(fc.record({ share: fc.constantFrom(0.1, 0.25, 0.5, 1), life }), { maxLength: 3 }),
  dispute: fc.option(
    fc.constantFrom<('OPEN' | 'WON' | 'LOST')[]>(['OPEN'], ['OPEN', 'WON'], ['OPEN', 'LOST'], ['LOST']),
  ),
  orders: fc.tuple(
    fc.array(fc.double({ noNaN: true }), { minLength: 20, maxLength: 20 }),
    fc.array(fc.double({ noNaN: true }), { minLength: 20, maxLength: 20 }),
  ),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** The provider's messages of a scenario, each as the command it becomes. */
function messages(model: MoneyModel, s: Scenario): WorkspaceCreditsCommand[] {
  const data = () => ({ workspaceId: WORKSPACE, now: new Date(model.now) });
  const list: WorkspaceCreditsCommand[] = [];
  let room = s.pack.price;
  s.refunds.forEach((refund, i) => {
    const amount = Math.min(room, Math.max(1, Math.floor(s.pack.price * refund.share)));
    if (amount < 1) return;
    if (!refund.life.includes('FAILED') && !refund.life.includes('CANCELED')) room -= amount;
    for (const status of refund.life) {
      list.push({
        type: 'RecordProviderRefund',
        data: {
          ...data(),
          paymentIntentId: 'pi_1',
          refund: { providerRefundId: `re_${i}`, amount, currency: 'USD', status },
          recordedBy: 'stripe',
        },
      });
    }
  });
  if (s.dispute && room > 0) {
    for (const status of s.dispute) {
      list.push({
        type: 'RecordProviderDispute',
        data: {
          ...data(),
          paymentIntentId: 'pi_1',
          dispute: { disputeId: 'dp_1', amount: room, currency: 'USD', status, reason: 'fraudulent' },
          recordedBy: 'stripe',
        },
      });
    }
  }
  return list;
}

function play(s: Scenario, order: number[]) {
  const model = new MoneyModel();
  try {
    const data = () => ({ workspaceId: WORKSPACE, now: new Date(model.now) });
    const offer = {
      packageId: 'pack',
      packageName: 'pack',
      credits: s.pack.credits,
      price: { amount: s.pack.price, currency: 'USD' },
    };
    model.run({ type: 'StartCheckout', data: { ...data(), checkoutId: 'checkout-1', offer, startedBy: 'manager' } });
    const paid: WorkspaceCreditsCommand = {
      type: 'CreditPaidCheckout',
      data: {
        ...data(),
        sessionId: 'cs_1',
        checkoutId: 'checkout-1',
        paymentIntentId: 'pi_1',
        amountPaid: offer.price,
        grantId: 'purchase-grant',
        purchasedBy: 'manager',
      },
    };
    const spent = Math.floor(s.pack.credits * s.spentShare);
    const spend: WorkspaceCreditsCommand = {
      type: 'ConsumeCredits',
      data: {
        ...data(),
        consumptionId: 'spend-1',
        idempotencyKey: 'k',
        action: 'PERSON_ENRICHMENT',
        units: spent,
        creditsPerUnit: 1,
        actorId: 'm',
      },
    };
    // Either the purchase and a spend come first and the rest follows in any order, or the
    // payment itself is among the messages (no spend then: there is nothing to spend before it).
    const rest = messages(model, s);
    let deliveries: WorkspaceCreditsCommand[];
    if (s.spendFirst) {
      model.run(paid);
      if (spent > 0) model.run(spend);
      deliveries = rest;
    } else {
      deliveries = [paid, ...rest];
    }
    const sorted = deliveries
      .map((command, i) => ({ command, key: order[i % order.length] ?? 0, i }))
      .sort((a, b) => a.key - b.key || a.i - b.i);
    for (const { command } of sorted) {
      model.run(command);
      model.checkInvariants();
    }
    const purchase = model.state.purchases.get('cs_1');
    const grant = purchase && model.state.grants.get(purchase.grantId);
    return {
      balance: creditBalance(model.state.grants.values(), undefined, model.now),
      purchase: purchase && { ...purchase },
      grant: grant && { ...grant, seq: 0 },
      refunds: [...model.state.purchaseRefunds.values()]
        .map((refund) => [refund.providerRefundId, refund.status])
        .sort(),
      disputes: [...model.state.disputes.values()].map((dispute) => dispute.status),
    };
  } finally {
    model.close();
  }
}

it('ends the same whatever order the provider’s messages arrive in', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      expect(play(s, s.orders[0])).toEqual(play(s, s.orders[1]));
    }),
    { seed, numRuns },
  );
});
