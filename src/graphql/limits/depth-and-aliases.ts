/**
 * Depth and alias limits as validation rules, counted by GraphQL Armor's rules (fragments followed,
 * cycles cut, introspection's own depth ignored). They depend on the document alone, so Apollo runs
 * them once per distinct query text and keeps the validated document.
 *
 * Armor reports a refusal as a message ("… limit of 8 exceeded, found 9."); the rules here report
 * a QueryLimitExceeded instead, whose code, limit and actual value clients can read.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import type { GraphQLError, ValidationRule } from 'graphql';
import { QueryLimitExceeded } from './query-limit-exceeded';
import type { QueryLimits } from './query-limits';

/** The count Armor found, from its message (exposeLimits is on); past the limit if it ever changes. */
const foundIn = (error: GraphQLError, limit: number): number => {
  const found = /found (\d+)/.exec(error.message);
  return found ? Number(found[1]) : limit + 1;
};

/** The options both of Armor's rules take. */
type ArmorOptions = NonNullable<Parameters<typeof maxAliasesRule>[0]>;

/** Armor's options that report a refusal as `refusal(actual)` instead of its own error. */
const reporting = (limit: number, refusal: (actual: number) => QueryLimitExceeded): ArmorOptions => ({
  n: limit,
  exposeLimits: true,
  propagateOnRejection: false,
  onReject: [(context, error) => context?.reportError(refusal(foundIn(error, limit)))],
});

export function depthAndAliasRules(limits: Pick<QueryLimits, 'maxDepth' | 'maxAliases'>): ValidationRule[] {
  const { maxDepth, maxAliases } = limits;
  return [
    maxDepthRule({
      ...reporting(
        maxDepth,
        (actual) =>
          new QueryLimitExceeded(
            'QUERY_TOO_DEEP',
            `The query nests fields ${actual} deep; at most ${maxDepth} is allowed.`,
            maxDepth,
            actual,
          ),
      ),
      // Fragments are a way of writing a selection, not a level of the answer.
      flattenFragments: true,
    }),
    maxAliasesRule(
      reporting(
        maxAliases,
        (actual) =>
          new QueryLimitExceeded(
            'TOO_MANY_ALIASES',
            `The query uses ${actual} aliases; at most ${maxAliases} are allowed.`,
            maxAliases,
            actual,
          ),
      ),
    ),
  ];
}
