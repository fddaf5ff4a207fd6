/**
 * The balance at an instant from the read models' pieces (grants, active holds, return terms) must
 * give an expired hold's credits back exactly as the decider will record it: here against the
 * decider itself, for credits that stay, that lapse with an expired grant, with a replaced
 * allowance and with a purchase whose money went back.
 */
import { creditBalance } from '../../src/domain/balance';
import type { Grant } from '../../src/domain/credits';
import { decide } from '../../src/domain/decide';
import type { WorkspaceCreditsEvent } from '../../src/domain/events';
import { evolve } from '../../src/domain/evolve';
import { purchaseOfGrant } from '../../src/domain/given-back';
import { returnDueHolds } from '../../src/domain/hold-returns';
import { allowance, applyAllowance, at, DAY, draw, expireCredits, granted, HOUR, purchased } from './builders';
import { reserved } from './hold-builders';
import { providerRefund, refundFact } from './payment-builders';
import { stateOf } from './spec';

const MINUTE = 60_000;

/** The balance at `now` as the query computes it, and as the decider's due expiries leave it. */
function bothWays(history: WorkspaceCreditsEvent[], now: number) {
  const state = stateOf(history);
  const holds = [...state.activeHolds.values()];
  const termsOf = (grant: Grant) => ({
    replaced: state.replacedAllowances.has(grant.id),
    money: purchaseOfGrant(state, grant.id),
  });
  const grants = returnDueHolds([...state.grants.values()], holds, termsOf, now);
  const queried = creditBalance(grants, state.period?.grantId, now);
  const after = decide(expireCredits(new Date(now)), state).reduce(evolve, stateOf(history));
  const decided = creditBalance(after.grants.values(), after.period?.grantId, now);
  return { queried, decided };
}

describe('the balance gives an expired hold back at its instant, as the decider records it', () => {
  it.each([
    [
      'into a live grant',
      [purchased({ credits: 500 }), reserved({ drawdown: [draw('purchase-1', 'PURCHASED', 500)], availableAfter: 0 })],
    ],
    [
      'into a grant that expired before the hold',
      [
        granted({ credits: 500, expiresAt: at(30 * MINUTE) }),
        reserved({ units: 3, drawdown: [draw('promo-1', 'PROMOTIONAL', 300)], availableAfter: 200 }),
      ],
    ],
  ])('%s', (_what, history) => {
    const { queried, decided } = bothWays(history, at(2 * HOUR).getTime());
    expect(queried).toEqual(decided);
    expect(queried.held).toBe(0);
  });

  it('into an allowance a newer period replaced', () => {
    const first = allowance({ credits: 1000 });
    const held = reserved({
      drawdown: [draw('allowance-1', 'INCLUDED', 500)],
      availableAfter: 500,
      expiresAt: at(DAY),
    });
    const renewal = decide(
      applyAllowance({ grantId: 'allowance-2', credits: 1000, periodStart: at(HOUR), periodEnd: at(30 * DAY) }),
      stateOf([first, held]),
    );
    const { queried, decided } = bothWays([first, held, ...renewal], at(2 * DAY).getTime());
    expect(queried).toEqual(decided);
    expect(queried.available).toBe(1000);
  });

  it('into a purchase whose money went back while it was held', () => {
    const history = [
      purchased({ credits: 500 }),
      reserved({ units: 3, drawdown: [draw('purchase-1', 'PURCHASED', 300)], availableAfter: 200 }),
    ];
    const refund = decide(providerRefund(refundFact({ amount: 2000 }), { now: at(10 * MINUTE) }), stateOf(history));
    const { queried, decided } = bothWays([...history, ...refund], at(2 * HOUR).getTime());
    expect(queried).toEqual(decided);
  });

  it('counts an active hold as held until its instant', () => {
    const history = [
      purchased({ credits: 500 }),
      reserved({ drawdown: [draw('purchase-1', 'PURCHASED', 500)], availableAfter: 0 }),
    ];
    const { queried } = bothWays(history, at(HOUR - 1).getTime());
    expect(queried).toMatchObject({ available: 0, held: 500 });
  });
});
