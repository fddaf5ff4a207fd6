/**
 * The vocabulary of workspace credits: where credits come from, what spends them, and the grant,
 * the unit in which a workspace holds credits.
 */

export const GRANT_SOURCES = ['INCLUDED', 'PROMOTIONAL', 'PURCHASED'] as const;
/** Where a grant's credits came from; the order above is the drawdown order among equal expiries. */
export type GrantSource = (typeof GRANT_SOURCES)[number];

export const CREDIT_ACTIONS = [
  'ORG_CHART_GENERATION',
  'ORG_CHART_SYNC',
  'BUYING_COMMITTEE_MAPPING',
  'ACTION_PLAN_GENERATION',
  'PERSON_ENRICHMENT',
] as const;
export type CreditAction = (typeof CREDIT_ACTIONS)[number];

/** Money is always an integer amount of the currency's minor unit (cents for USD). */
export interface Money {
  amount: number;
  currency: string;
}

/**
 * A block of credits with one source and an optional expiry. Every credit a workspace holds lives
 * in exactly one grant; `remaining = granted - consumed - expired - refunded - held` at all times.
 */
export interface Grant {
  id: string;
  source: GrantSource;
  granted: number;
  remaining: number;
  /** Spent, net of spends given back. */
  consumed: number;
  expired: number;
  /** Taken back by refunds (requested, pending or done) and lost disputes of the purchase. */
  refunded: number;
  /** Reserved by holds of long-running actions (issue 15); not spendable by anything else. */
  held: number;
  /** Under an open dispute of its purchase: what remains is out of the balance until it closes. */
  frozen: boolean;
  /** Epoch milliseconds; the credits are unavailable from this instant on. */
  expiresAt: number | undefined;
  grantedAt: number;
  /** Creation order within the workspace: the last tie-breaker of the drawdown order. */
  seq: number;
}

/** How many credits one grant contributed to a spend. */
export interface Drawdown {
  grantId: string;
  source: GrantSource;
  credits: number;
}
