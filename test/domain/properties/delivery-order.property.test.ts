/**
 * The final state does not depend on delivery order: the payment provider's messages about a
 * purchase (its payment, each refund's status changes, a dispute opening and closing), delivered
 * in two random orders, some before the payment itself, leave the same balance, the same money and
 * credits on the purchase, the same statuses, and each refund paying for the same credits. The
 * purchase may expire a day after it is paid, a hold may be running on it (ending with it, or
 * later), and, when the payment was recorded first, the messages may come 1 ms before its expiry
 * instant, at it or 1 ms after: every money invariant (money-model.ts) is checked after each message.
 */
import fc from 'fast-check';
import type { WorkspaceCreditsCommand } from '../../../src/domain/commands';
import { creditBalance } from '../../../src/domain/balance';
import type { ProviderRefundFact } from '../../../src/domain/events';
import { MoneyModel, WORKSPACE } from './money-model';

const seed = Number(process.env.FC_SEED ?? 20261202);
const numRuns = Number(process.env.FC_RUNS ?? 300);

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

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
  /** Whether the package expires a day after it is paid. */
  expiring: fc.boolean(),
  /** Credits a running action holds from the purchase (with the spend first), 0 for no hold. */
  hold: fc.constantFrom(0, 1, 2, 100),
  /** When the hold ends: at the day's end (the expiry instant, if the package expires) or later. */
  holdEnds: fc.constantFrom(0, HOUR),
  /** When the messages come, against the day's end: 1 ms before, at, 1 ms after; or at once. */
  at: fc.constantFrom(-1, 0, 1, null),
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
      ...(s.expiring && { expiresAfterDays: 1 }),
    };
    const start = model.now;
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
    // Either the purchase, a spend and a hold come first and the rest follows in any order, or
    // the payment itself is among the messages (nothing to spend or hold then: there is nothing
    // before it).
    let deliveries: WorkspaceCreditsCommand[] = [];
    if (s.spendFirst) {
      model.run(paid);
      if (spent > 0) model.run(spend);
      if (s.hold > 0) {
        model.now = start + DAY - HOUR;
        model.run({
          type: 'ReserveCredits',
          data: {
            ...data(),
            holdId: 'hold-1',
            idempotencyKey: 'hold-key',
            action: 'ORG_CHART_GENERATION',
            units: s.hold,
            creditsPerUnit: 1,
            expiresAt: new Date(start + DAY + s.holdEnds),
            actorId: 'service',
          },
        });
      }
    } else {
      deliveries = [paid];
    }
    if (s.at !== null) model.now = start + DAY + s.at;
    deliveries.push(...messages(model, s));
    const sorted = deliveries
      .map((command, i) => ({ command, key: order[i % order.length] ?? 0, i }))
      .sort((a, b) => a.key - b.key || a.i - b.i);
    for (const { command } of sorted) {
      // All the messages come at one instant (the payment too: it is credited when it arrives).
      model.run({ ...command, data: { ...command.data, now: new Date(model.now) } } as WorkspaceCreditsCommand);
      model.checkInvariants();
    }
    const purchase = model.state.purchases.get('cs_1');
    const grant = purchase && model.state.grants.get(purchase.grantId);
    return {
      balance: creditBalance(model.state.grants.values(), undefined, model.now),
      purchase: purchase && { ...purchase },
      grant: grant && { ...grant, seq: 0 },
      // Each refund's money and the credits it pays for by itself are promised whatever the order
      // (repaidBy is a function of the set of returns). How they split between taken back and
      // owed (credits, creditsOwed) and which refund the last credits fall to (creditsRepaid,
      // once every cent is back) are not: the first to arrive takes what is unspent; only their
      // totals on the purchase are compared, above.
      refunds: [...model.state.purchaseRefunds.values()]
        .map((refund) => [refund.providerRefundId, refund.status, refund.amount.amount, refund.paysFor])
        .sort(),
      holds: [...model.state.activeHolds.values(), ...model.state.closedHolds.values()].map((hold) => [
        hold.holdId,
        hold.status,
        hold.credits,
      ]),
      disputes: [...model.state.disputes.values()].map((dispute) => dispute.status),
    };
  } finally {
    model.close();
  }
}

const inTurn = Array.from({ length: 20 }, () => 0);

/**
 * Found by this property (another seed): a package expired with 600 of its 2,000 credits spent; a
 * Dashboard refund of half its price succeeds (1,000 credits repaid, the 600 spent ones owed), and
 * one of a tenth is heard of as pending, then succeeded, then failed. Its failure must leave the 600
 * owed whether all of its news comes after the first refund, or its failure is the first news of
 * it, before the first refund.
 */
const failedRefundAfterExpiry: Scenario = {
  pack: { credits: 2000, price: 18000 },
  spentShare: 0.3,
  spendFirst: true,
  expiring: true,
  hold: 0,
  holdEnds: 0,
  at: 1,
  refunds: [
    { share: 0.5, life: ['SUCCEEDED'] },
    { share: 0.1, life: ['PENDING', 'SUCCEEDED', 'FAILED'] },
  ],
  dispute: null,
  orders: [inTurn, inTurn.map((key, i) => (i === 3 ? -1 : key))],
};

it('ends the same whatever order the provider’s messages arrive in', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      expect(play(s, s.orders[0])).toEqual(play(s, s.orders[1]));
    }),
    { seed, numRuns, examples: [[failedRefundAfterExpiry]] },
  );
});
