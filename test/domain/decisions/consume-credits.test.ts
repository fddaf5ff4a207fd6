/** Spending credits: the cost in whole credits, and no overdraft. */
import { allowance, at, consumed, DAY, draw, purchased, spend } from '../builders';
import { given } from '../spec';

describe('ConsumeCredits: the cost is units × creditsPerUnit, in whole credits', () => {
  it.each([
    ['ORG_CHART_GENERATION', 2, 100, 200],
    ['ORG_CHART_SYNC', 1, 100, 100],
    ['BUYING_COMMITTEE_MAPPING', 1, 21, 21],
    ['ACTION_PLAN_GENERATION', 1, 8, 8],
    ['PERSON_ENRICHMENT', 3, 7, 21],
  ] as const)('%s × %i units at %i credits per unit costs %i credits', (action, units, creditsPerUnit, credits) =>
    given(purchased({ credits: 500 }))
      .when(spend({ action, units, creditsPerUnit, now: at(DAY) }))
      .then(
        consumed({
          action,
          units,
          creditsPerUnit,
          credits,
          drawdown: [draw('purchase-1', 'PURCHASED', credits)],
          availableAfter: 500 - credits,
          consumedAt: at(DAY),
        }),
      ),
  );

  it('carries the caller reference and actor into the ledger entry', () =>
    given(purchased({ credits: 500 }))
      .when(spend({ reference: 'org-chart-run-42', actorId: 'user-7', units: 1, creditsPerUnit: 100 }))
      .then(
        consumed({
          reference: 'org-chart-run-42',
          actorId: 'user-7',
          units: 1,
          creditsPerUnit: 100,
          credits: 100,
          drawdown: [draw('purchase-1', 'PURCHASED', 100)],
          availableAfter: 400,
        }),
      ));

  it('refuses a rate that makes a fractional number of credits', () =>
    given(purchased({ credits: 500 }))
      .when(spend({ units: 3, creditsPerUnit: 2.5 }))
      .thenThrows('BAD_USER_INPUT'));

  it('refuses a rate of zero credits per unit (a spend must cost something)', () =>
    given(purchased({ credits: 500 }))
      .when(spend({ units: 3, creditsPerUnit: 0 }))
      .thenThrows('BAD_USER_INPUT'));

  it.each([0, -1, 1.5, Number.NaN])('refuses units = %p', (units) =>
    given(purchased({ credits: 500 }))
      .when(spend({ units }))
      .thenThrows('BAD_USER_INPUT'),
  );
});

describe('ConsumeCredits: no overdraft', () => {
  it('allows a spend of exactly the available balance, leaving zero', () =>
    given(purchased({ credits: 500 }))
      .when(spend({ units: 5, creditsPerUnit: 100 }))
      .then(
        consumed({
          units: 5,
          creditsPerUnit: 100,
          credits: 500,
          drawdown: [draw('purchase-1', 'PURCHASED', 500)],
          availableAfter: 0,
        }),
      ));

  it('refuses a spend one credit larger than the balance, saying what was required and available', () =>
    given(purchased({ credits: 500 }))
      .when(spend({ units: 1, creditsPerUnit: 501 }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 501, available: 500 }));

  it('refuses the spend whole when all grants together cannot cover it (no partial charge)', () =>
    given(allowance({ credits: 100 }), purchased({ credits: 50 }))
      .when(spend({ units: 2, creditsPerUnit: 100, now: at(DAY) }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 200, available: 150 }));

  it('counts what earlier spends already took', () =>
    given(
      purchased({ credits: 500 }),
      consumed({
        units: 4,
        creditsPerUnit: 100,
        credits: 400,
        drawdown: [draw('purchase-1', 'PURCHASED', 400)],
        availableAfter: 100,
      }),
    )
      .when(spend({ idempotencyKey: 'spend-key-2', consumptionId: 'spend-2', units: 2, creditsPerUnit: 100 }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 200, available: 100 }));

  it('refuses any spend from a workspace that has never had credits', () =>
    given().when(spend()).thenThrows('INSUFFICIENT_CREDITS', { required: 8, available: 0 }));

  it('refuses any spend once every grant is used up', () =>
    given(
      purchased({ credits: 8 }),
      consumed({ credits: 8, drawdown: [draw('purchase-1', 'PURCHASED', 8)], availableAfter: 0 }),
    )
      .when(spend({ idempotencyKey: 'spend-key-2', consumptionId: 'spend-2' }))
      .thenThrows('INSUFFICIENT_CREDITS', { required: 8, available: 0 }));
});
