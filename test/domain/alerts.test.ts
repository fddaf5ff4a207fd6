/**
 * Balance crossings (src/domain/alerts.ts): whatever command moves the balance across a line, the
 * crossing is recorded once, with the change that made it.
 */
import { decide } from '../../src/domain/decide';
import type { WorkspaceCreditsCommand } from '../../src/domain/commands';
import type { WorkspaceCreditsEvent } from '../../src/domain/events';
import { evolve } from '../../src/domain/evolve';
import { initialState } from '../../src/domain/state';
import {
  allowance,
  at,
  consumed,
  DAY,
  draw,
  granted,
  grant,
  HOUR,
  MINUTE,
  purchased,
  spend,
  WORKSPACE,
} from './builders';
import { configure, configured, depleted, low, recovered } from './alert-builders';
import { holdExpired, release, released, reserve, reserved, settle, settled } from './hold-builders';
import { given } from './spec';

/** CreditsConsumed of one unit costing `credits`, all drawn from one grant (a purchase unless named). */
const oneSpend = (
  credits: number,
  availableAfter: number,
  [grantId, source]: [string, 'PURCHASED' | 'INCLUDED' | 'PROMOTIONAL'] = ['purchase-1', 'PURCHASED'],
) =>
  consumed({ units: 1, creditsPerUnit: credits, credits, drawdown: [draw(grantId, source, credits)], availableAfter });

/** The purchase's 100 credits spent in one go. */
const consumedAll = () => oneSpend(100, 0);

/** The balance crossings among `events` (CreditsLow, CreditsDepleted, CreditsRecovered), in order. */
const crossings = (events: WorkspaceCreditsEvent[]) =>
  events.filter((event) => /^Credits(Low|Depleted|Recovered)$/.test(event.type));

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

describe('low balance: the catalog rule, or the workspace’s own', () => {
  it('raises CreditsLow with the spend that goes below max(100, 10 % of the allowance)', () =>
    given(allowance({ credits: 2000 }))
      .when(spend({ units: 1, creditsPerUnit: 1850 }))
      .thenExactly(oneSpend(1850, 150, ['allowance-1', 'INCLUDED']), low(150, 200)));

  it('says nothing while the balance stays at or above the threshold', () =>
    given(allowance({ credits: 2000 }))
      .when(spend({ units: 1, creditsPerUnit: 1800 }))
      .thenExactly(oneSpend(1800, 200, ['allowance-1', 'INCLUDED'])));

  it('gives one CreditsLow for a burst of spends, not one per spend', () => {
    const spends = Array.from({ length: 20 }, (_, i) =>
      spend({ consumptionId: `s-${i}`, idempotencyKey: `k-${i}`, units: 1, creditsPerUnit: 10 }),
    );
    const events = burst([purchased({ credits: 250 })], spends);
    expect(events.filter((event) => event.type === 'CreditsLow')).toEqual([low(90, 100)]);
    expect(events.filter((event) => event.type === 'CreditsConsumed')).toHaveLength(20);
  });

  it('uses a threshold in credits the workspace set', () =>
    given(purchased({ credits: 500 }), configured({ lowBalanceCredits: 450 }))
      .when(spend({ units: 1, creditsPerUnit: 60 }))
      .thenExactly(oneSpend(60, 440), low(440, 450)));

  it("uses a percentage of the plan's included credits the workspace set", () =>
    given(allowance({ credits: 1000 }), configured({ lowBalancePercent: 50 }))
      .when(spend({ units: 1, creditsPerUnit: 501 }))
      .thenExactly(oneSpend(501, 499, ['allowance-1', 'INCLUDED']), low(499, 500)));

  it.each([
    [
      'falls back to the catalog minimum for a percentage of an allowance the workspace does not have',
      50,
      [low(90, 100)],
    ],
    ['keeps a percentage of 0 at 0 without an allowance: told only at depletion', 0, []],
  ] as const)('%s', (_title, lowBalancePercent, alerts) =>
    given(purchased({ credits: 150 }), configured({ lowBalancePercent }))
      .when(spend({ units: 1, creditsPerUnit: 60 }))
      .thenExactly(oneSpend(60, 90), ...alerts),
  );

  it('records the crossing even when the workspace asked not to be told, marked so', () =>
    given(purchased({ credits: 150 }), configured({ notify: { low: false, depleted: true, recovered: true } }))
      .when(spend({ units: 1, creditsPerUnit: 100 }))
      .thenExactly(oneSpend(100, 50), low(50, 100, at(0), false)));
});

describe('depleted and recovered', () => {
  it('raises CreditsLow then CreditsDepleted when one spend takes everything (the deeper state last)', () =>
    given(purchased({ credits: 500 }))
      .when(spend({ units: 1, creditsPerUnit: 500 }))
      .thenExactly(oneSpend(500, 0), low(0, 100), depleted(100)));

  it('raises CreditsDepleted once when an already low balance runs out', () =>
    given(purchased({ credits: 50 }), low(50, 100))
      .when(spend({ units: 1, creditsPerUnit: 50 }))
      .thenExactly(oneSpend(50, 0), depleted(100)));

  it('raises CreditsRecovered once credits bring the balance past the threshold and its band (a tenth)', () =>
    given(purchased({ credits: 50 }), low(50, 100))
      .when(grant({ credits: 60 }))
      .thenExactly(granted({ credits: 60 }), recovered(110, 100)));

  it('stays low, without a second alert, when credits come back short of the threshold', () =>
    given(purchased({ credits: 50 }), low(50, 100))
      .when(grant({ credits: 10 }))
      .thenExactly(granted({ credits: 10 })));

  it('stays low at the threshold and inside its band: recovering takes the threshold plus a tenth', () =>
    given(purchased({ credits: 50 }), low(50, 100))
      .when(grant({ credits: 59 }))
      .thenExactly(granted({ credits: 59 })));

  it('recovers from a depletion with one credit when the threshold is 0', () => {
    const events = burst(
      [purchased({ credits: 10 }), configured({ lowBalanceCredits: 0 })],
      [spend({ units: 1, creditsPerUnit: 10 }), grant({ credits: 1 })],
    );
    expect(crossings(events)).toEqual([depleted(0), recovered(1, 0)]);
  });

  it('alerts again on the next crossing after a recovery', () => {
    const events = burst(
      [purchased({ credits: 150 })],
      [
        spend({ consumptionId: 's-1', idempotencyKey: 'k-1', units: 1, creditsPerUnit: 100 }),
        grant({ credits: 200 }),
        spend({ consumptionId: 's-2', idempotencyKey: 'k-2', units: 1, creditsPerUnit: 200 }),
      ],
    );
    expect(crossings(events)).toEqual([low(50, 100), recovered(250, 100), low(50, 100)]);
  });

  it('leaves depletion once the band is back though still low, so running out again is told again', () => {
    // Threshold 500, band 50: 0 → 500 is out of depletion (RECOVERED, stillLow) yet inside the low
    // band, and 500 → 0 is a second depletion, not silence.
    const events = burst(
      [purchased({ credits: 500 }), configured({ lowBalanceCredits: 500 })],
      [
        spend({ consumptionId: 's-1', idempotencyKey: 'k-1', units: 1, creditsPerUnit: 500 }),
        grant({ credits: 500 }),
        spend({ consumptionId: 's-2', idempotencyKey: 'k-2', units: 1, creditsPerUnit: 500 }),
        grant({ credits: 600, grantId: 'promo-2', idempotencyKey: 'grant-key-2' }),
      ],
    );
    expect(crossings(events)).toEqual([
      low(0, 500),
      depleted(500),
      recovered(500, 500, at(0), true),
      depleted(500),
      recovered(600, 500),
    ]);
  });

  it('stays depleted, without a second alert, while the balance wavers between nothing and less than the band', () => {
    const events = burst(
      [purchased({ credits: 100 })],
      [
        spend({ consumptionId: 's-1', idempotencyKey: 'k-1', units: 1, creditsPerUnit: 100 }),
        grant({ credits: 9 }),
        spend({ consumptionId: 's-2', idempotencyKey: 'k-2', units: 1, creditsPerUnit: 9 }),
      ],
    );
    expect(crossings(events)).toEqual([low(0, 100), depleted(100)]);
  });

  it('judges a low workspace against a threshold it just lowered without the band, so the next drop is told', () => {
    // 440 is inside the band over 420 (recovery at 462): only the rule change makes it a recovery.
    const events = burst(
      [purchased({ credits: 500 }), configured({ lowBalanceCredits: 450 })],
      [
        spend({ consumptionId: 's-1', idempotencyKey: 'k-1', units: 1, creditsPerUnit: 60 }),
        configure({ lowBalanceCredits: 420 }),
        spend({ consumptionId: 's-2', idempotencyKey: 'k-2', units: 1, creditsPerUnit: 30 }),
      ],
    );
    expect(crossings(events)).toEqual([low(440, 450), recovered(440, 420), low(410, 420)]);
  });

  it('keeps the band when the rules change but the threshold does not', () =>
    // Low at 105 inside the band over 100 (recovery at 110): a new notice period is no new line.
    given(purchased({ credits: 105 }), low(90, 100))
      .when(configure({ expiringSoonDays: 14 }))
      .thenExactly(configured({ expiringSoonDays: 14 })));

  it('recovers nothing at zero, even when the threshold is set to 0 while depleted', () =>
    given(purchased({ credits: 100 }), consumedAll(), low(0, 100), depleted(100))
      .when(configure({ lowBalanceCredits: 0 }))
      .thenExactly(configured({ lowBalanceCredits: 0 })));

  it('keeps a low workspace low when the threshold it sets is still above its balance', () =>
    given(purchased({ credits: 440 }), configured({ lowBalanceCredits: 450 }), low(440, 450))
      .when(configure({ lowBalanceCredits: 445 }))
      .thenExactly(configured({ lowBalanceCredits: 445 })));

  it('is silent for a workspace that never had credits', () =>
    given()
      .when(configure({ lowBalanceCredits: 10 }))
      .thenExactly(configured({ lowBalanceCredits: 10 })));

  it('raises a crossing when credits expire below the threshold', () =>
    given(granted({ credits: 500, expiresAt: at(DAY) }), purchased({ credits: 50 }))
      .when({ type: 'ExpireCredits', data: { workspaceId: WORKSPACE, now: at(DAY) } })
      .thenExactly(
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
        low(50, 100, at(DAY)),
      ));
});

describe('held credits count as gone: reserves cross the lines, and what comes back recovers', () => {
  const hold300 = [draw('purchase-1', 'PURCHASED', 300)];
  const holding = [
    purchased({ credits: 500 }),
    configured({ lowBalanceCredits: 300 }),
    reserved({ units: 3, drawdown: hold300, availableAfter: 200 }),
    low(200, 300),
  ];

  it('raises CreditsLow with the reserve that takes available below the threshold', () =>
    given(purchased({ credits: 500 }), configured({ lowBalanceCredits: 300 }))
      .when(reserve({ units: 3 }))
      .thenExactly(reserved({ units: 3, drawdown: hold300, availableAfter: 200 }), low(200, 300)));

  it('raises CreditsLow and CreditsDepleted with a reserve of everything', () =>
    given(purchased({ credits: 500 }))
      .when(reserve())
      .thenExactly(
        reserved({ drawdown: [draw('purchase-1', 'PURCHASED', 500)], availableAfter: 0 }),
        low(0, 100),
        depleted(100),
      ));

  it('raises CreditsRecovered with the release that brings available back', () =>
    given(...holding)
      .when(release({ now: at(MINUTE) }))
      .thenExactly(released(hold300, { at: at(MINUTE) }), recovered(500, 300, at(MINUTE))));

  it('raises CreditsRecovered with a settle for less whose unused credits bring it back', () =>
    given(...holding)
      .when(settle({ units: 1, now: at(MINUTE) }))
      .thenExactly(
        settled({
          units: 1,
          fromHold: [draw('purchase-1', 'PURCHASED', 100)],
          returned: [draw('purchase-1', 'PURCHASED', 200)],
          availableAfter: 400,
          settledAt: at(MINUTE),
        }),
        recovered(400, 300, at(MINUTE)),
      ));

  it('stays low when the settle spends what was held', () =>
    given(...holding)
      .when(settle({ units: 3, now: at(MINUTE) }))
      .thenExactly(settled({ units: 3, fromHold: hold300, returned: [], availableAfter: 200, settledAt: at(MINUTE) })));

  it('recovers with the command that writes an expiry, the hold having given its credits back at its instant', () =>
    given(...holding)
      .when(spend({ units: 1, creditsPerUnit: 10, now: at(HOUR + MINUTE) }))
      .thenExactly(
        holdExpired(hold300, at(HOUR), 'hold-1', 500),
        consumed({
          units: 1,
          creditsPerUnit: 10,
          credits: 10,
          drawdown: [draw('purchase-1', 'PURCHASED', 10)],
          availableAfter: 490,
          consumedAt: at(HOUR + MINUTE),
        }),
        recovered(490, 300, at(HOUR + MINUTE)),
      ));

  it('raises one CreditsLow, not one per hold, while holds reserved and released keep available about the line', () => {
    const events = burst(
      [purchased({ credits: 320 }), configured({ lowBalanceCredits: 300 })],
      [
        reserve({ units: 1, creditsPerUnit: 30 }),
        release({ now: at(MINUTE) }),
        reserve({ holdId: 'hold-2', idempotencyKey: 'hold-key-2', units: 1, creditsPerUnit: 30, now: at(2 * MINUTE) }),
        release({ holdId: 'hold-2', now: at(3 * MINUTE) }),
        // Past 300 + 30: recovered, and the next dip is a crossing of its own.
        grant({ credits: 10, now: at(4 * MINUTE) }),
        reserve({ holdId: 'hold-3', idempotencyKey: 'hold-key-3', units: 1, creditsPerUnit: 40, now: at(5 * MINUTE) }),
      ],
    );
    expect(crossings(events)).toEqual([
      low(290, 300),
      recovered(330, 300, at(4 * MINUTE)),
      low(290, 300, at(5 * MINUTE)),
    ]);
  });

  it('gives one CreditsLow for a burst of reserves and spends below the line', () => {
    const events = burst(
      [purchased({ credits: 500 })],
      [
        reserve({ units: 2 }),
        spend({ units: 1, creditsPerUnit: 250 }),
        reserve({ holdId: 'hold-2', idempotencyKey: 'hold-key-2', units: 1, creditsPerUnit: 10 }),
      ],
    );
    expect(events.filter((event) => event.type === 'CreditsLow')).toEqual([low(50, 100)]);
  });
});
