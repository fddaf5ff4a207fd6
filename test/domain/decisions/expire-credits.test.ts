/**
 * Expiry is exact: a grant expiring at T is spendable up to T - 1 ms and gone from T on, whether or
 * not its expiry is in the ledger yet; the ledger then records the expiry as its own entry.
 */
import {
  allowance,
  at,
  consumed,
  DAY,
  draw,
  expireCredits,
  expired,
  grant,
  granted,
  HOUR,
  MINUTE,
  purchase,
  purchased,
  spend,
} from '../builders';
import { reserved } from '../hold-builders';
import { decide } from '../../../src/domain/decide';
import type { WorkspaceCreditsEvent } from '../../../src/domain/events';
import { MAX_EXPIRIES_PER_DECISION } from '../../../src/domain/decisions/expiries';
import { given, stateOf } from '../spec';

const T = at(7 * DAY);
const justBefore = new Date(T.getTime() - 1);
const promo = granted({ credits: 100, expiresAt: T });

describe('Exact expiry when spending', () => {
  it('a grant expiring at T is spendable at T - 1 ms, with no expiry recorded', () =>
    given(promo)
      .when(spend({ now: justBefore }))
      .then(
        consumed({
          credits: 8,
          drawdown: [draw('promo-1', 'PROMOTIONAL', 8)],
          availableAfter: 92,
          consumedAt: justBefore,
        }),
      ));

  it('the last millisecond can spend all of it', () =>
    given(promo)
      .when(spend({ units: 1, creditsPerUnit: 100, now: justBefore }))
      .then(
        consumed({
          units: 1,
          creditsPerUnit: 100,
          credits: 100,
          drawdown: [draw('promo-1', 'PROMOTIONAL', 100)],
          availableAfter: 0,
          consumedAt: justBefore,
        }),
      ));

  it('at T the grant is gone: a spend it alone could pay is refused, and nothing is recorded', () =>
    given(promo)
      .when(spend({ now: T }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 8, available: 0 }));

  it('at T the spend is drawn from another grant, after an EXPIRED entry for what was left, at the grant expiresAt', () =>
    given(promo, purchased({ credits: 500 }))
      .when(spend({ now: T }))
      .then(
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: T }),
        consumed({ credits: 8, drawdown: [draw('purchase-1', 'PURCHASED', 8)], availableAfter: 492, consumedAt: T }),
      ));

  it('a spend long after T dates the expiry at T, not at the time of the spend', () =>
    given(promo, purchased({ credits: 500 }))
      .when(spend({ now: at(40 * DAY) }))
      .then(
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: T }),
        consumed({
          credits: 8,
          drawdown: [draw('purchase-1', 'PURCHASED', 8)],
          availableAfter: 492,
          consumedAt: at(40 * DAY),
        }),
      ));

  it('expires only what was left of a partly spent grant', () =>
    given(
      promo,
      purchased({ credits: 500 }),
      consumed({ units: 5, credits: 40, drawdown: [draw('promo-1', 'PROMOTIONAL', 40)], availableAfter: 560 }),
    )
      .when(spend({ idempotencyKey: 'spend-key-2', consumptionId: 'spend-2', now: T }))
      .then(
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 60, expiredAt: T }),
        consumed({
          idempotencyKey: 'spend-key-2',
          consumptionId: 'spend-2',
          credits: 8,
          drawdown: [draw('purchase-1', 'PURCHASED', 8)],
          availableAfter: 492,
          consumedAt: T,
        }),
      ));

  it('records an expiry once: not again after it is in the ledger', () =>
    given(
      promo,
      purchased({ credits: 500 }),
      expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: T }),
    )
      .when(spend({ now: at(8 * DAY) }))
      .then(
        consumed({
          credits: 8,
          drawdown: [draw('purchase-1', 'PURCHASED', 8)],
          availableAfter: 492,
          consumedAt: at(8 * DAY),
        }),
      ));

  it('records no expiry for a grant that was fully spent before T', () =>
    given(
      granted({ credits: 8, expiresAt: T }),
      purchased({ credits: 500 }),
      consumed({ credits: 8, drawdown: [draw('promo-1', 'PROMOTIONAL', 8)], availableAfter: 500 }),
    )
      .when(spend({ idempotencyKey: 'spend-key-2', consumptionId: 'spend-2', now: T }))
      .then(
        consumed({
          idempotencyKey: 'spend-key-2',
          consumptionId: 'spend-2',
          credits: 8,
          drawdown: [draw('purchase-1', 'PURCHASED', 8)],
          availableAfter: 492,
          consumedAt: T,
        }),
      ));

  it('the plan allowance is gone at its periodEnd', () =>
    given(allowance({ credits: 1000, periodEnd: at(30 * DAY) }))
      .when(spend({ now: at(30 * DAY) }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 8, available: 0 }));

  it('the plan allowance is spendable 1 ms before its periodEnd', () =>
    given(allowance({ credits: 1000, periodEnd: at(30 * DAY) }))
      .when(spend({ now: at(30 * DAY - 1) }))
      .then(
        consumed({
          credits: 8,
          drawdown: [draw('allowance-1', 'INCLUDED', 8)],
          availableAfter: 992,
          consumedAt: at(30 * DAY - 1),
        }),
      ));
});

describe('ExpireCredits (the sweeper)', () => {
  const history = [
    allowance({ credits: 1000, periodEnd: at(30 * DAY) }),
    granted({ credits: 100, expiresAt: T }),
    purchased({ credits: 500, expiresAt: T }),
    purchased({ grantId: 'purchase-2', purchaseId: 'cs_pay_2', credits: 500 }),
  ];

  it('records nothing before anything is due', () =>
    given(...history)
      .when(expireCredits(justBefore))
      .thenNothing());

  it('records an EXPIRED entry for every grant due at T, dated T, and leaves the others alone', () =>
    given(...history)
      .when(expireCredits(T))
      .then(
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: T }),
        expired({ grantId: 'purchase-1', source: 'PURCHASED', credits: 500, expiredAt: T }),
      ));

  it('dates each expiry at its own expiresAt when it runs late', () =>
    given(...history)
      .when(expireCredits(at(31 * DAY)))
      .then(
        expired({ grantId: 'allowance-1', source: 'INCLUDED', credits: 1000, expiredAt: at(30 * DAY) }),
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: T }),
        expired({ grantId: 'purchase-1', source: 'PURCHASED', credits: 500, expiredAt: T }),
      ));

  it('records nothing once the expiries are in the ledger', () =>
    given(
      ...history,
      expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: T }),
      expired({ grantId: 'purchase-1', source: 'PURCHASED', credits: 500, expiredAt: T }),
    )
      .when(expireCredits(at(8 * DAY)))
      .thenNothing());

  it('records nothing for a workspace without grants', () => given().when(expireCredits(T)).thenNothing());
});

describe('Other commands write the expiries that are due before their own entry', () => {
  it('a purchase', () =>
    given(promo)
      .when(purchase({ now: T }))
      .then(
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: T }),
        purchased({ purchasedAt: T }),
      ));

  it('a promotional grant', () =>
    given(promo)
      .when(grant({ grantId: 'promo-2', idempotencyKey: 'promo-key-2', now: T }))
      .then(
        expired({ grantId: 'promo-1', source: 'PROMOTIONAL', credits: 100, expiredAt: T }),
        granted({ grantId: 'promo-2', idempotencyKey: 'promo-key-2', grantedAt: T }),
      ));
});

describe('Many grants ending at one instant', () => {
  it('writes at most a thousand expiries per decision, oldest first, and the rest next time', () => {
    const grants = Array.from({ length: 1_200 }, (_, i) =>
      granted({ grantId: `many-${i}`, idempotencyKey: `many-${i}`, credits: 1, expiresAt: at(DAY + (i % 3)) }),
    );
    // Only the expiries are counted (the balance's crossing alerts come with them).
    const expiries = (events: WorkspaceCreditsEvent[]) => events.filter((event) => event.type === 'CreditsExpired');
    const firstDecided = decide(expireCredits(T), stateOf(grants));
    const first = expiries(firstDecided);
    expect(first).toHaveLength(MAX_EXPIRIES_PER_DECISION);
    const instants = first.map((event) => (event.type === 'CreditsExpired' ? Date.parse(event.data.expiredAt) : 0));
    expect(instants).toEqual([...instants].sort((a, b) => a - b));
    expect(instants[0]).toBe(at(DAY).getTime());

    const restDecided = decide(expireCredits(T), stateOf([...grants, ...firstDecided]));
    const rest = expiries(restDecided);
    expect(rest).toHaveLength(200);
    const written = new Set(
      [...first, ...rest].map((event) => (event.type === 'CreditsExpired' ? event.data.grantId : '')),
    );
    expect(written.size).toBe(1_200);
    expect(expiries(decide(expireCredits(T), stateOf([...grants, ...firstDecided, ...restDecided])))).toEqual([]);
  });

  it('keeps to one budget when holds end after them: not a thousand expiries per hold', () => {
    const ended = at(30 * MINUTE);
    const grants = Array.from({ length: 3_000 }, (_, i) =>
      granted({ grantId: `many-${i}`, idempotencyKey: `many-${i}`, credits: 1, expiresAt: ended }),
    );
    // Three holds on the purchase, each ending after the grants: each would write the grants due by its instant.
    const holds = [1, 2, 3].map((i) =>
      reserved({
        holdId: `hold-${i}`,
        idempotencyKey: `hold-key-${i}`,
        drawdown: [draw('purchase-1', 'PURCHASED', 10)],
        availableAfter: 1_000 + 3_000 - 10 * i,
        expiresAt: new Date(ended.getTime() + i * 1000),
      }),
    );
    const history: WorkspaceCreditsEvent[] = [purchased({ credits: 1_000 }), ...grants, ...holds];
    const expiries = (events: WorkspaceCreditsEvent[]) =>
      events.filter((event) => event.type === 'CreditsExpired' && event.data.grantId.startsWith('many-'));

    const decided = decide(spend({ now: at(2 * HOUR) }), stateOf(history));
    // One budget for the holds' loop, and the spend's own: never the 3,000 at once.
    expect(expiries(decided)).toHaveLength(2 * MAX_EXPIRIES_PER_DECISION);
    expect(decided.filter((event) => event.type === 'CreditHoldExpired')).toHaveLength(3);
    // The grants have ended whether or not their expiry is written: the spend is paid by the purchase, held credits back.
    expect(decided.at(-1)).toMatchObject({
      type: 'CreditsConsumed',
      data: { credits: 8, drawdown: [draw('purchase-1', 'PURCHASED', 8)], availableAfter: 992 },
    });

    const next = decide(spend({ idempotencyKey: 'spend-2', now: at(2 * HOUR) }), stateOf([...history, ...decided]));
    expect(expiries(next)).toHaveLength(1_000);
    expect(next.at(-1)).toMatchObject({ type: 'CreditsConsumed', data: { availableAfter: 984 } });
    const written = new Set(
      [...expiries(decided), ...expiries(next)].map((event) =>
        event.type === 'CreditsExpired' ? event.data.grantId : '',
      ),
    );
    expect(written.size).toBe(3_000);
  });
});
