/**
 * The limits of query-limits.ts, applied the same way over HTTP (Apollo: parse options, validation
 * rules and a plugin) and over graphql-ws (subscriptions.ts): tokens while parsing, depth and
 * aliases while validating, the cost once the operation and its variables are known, before
 * anything runs.
 */
import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import type { DocumentNode, GraphQLSchema, ParseOptions, ValidationRule } from 'graphql';
import { depthAndAliasRules } from './depth-and-aliases';
import { queryCostFor } from './query-cost';
import { QueryLimitExceeded } from './query-limit-exceeded';
import type { QueryLimits } from './query-limits';

export interface OperationLimits {
  /** The token limit, for graphql-js's parser; tokenLimitRefusal() recognises its refusal. */
  parseOptions: ParseOptions;
  /** Depth and aliases: they depend on the document alone, so they run with validation. */
  validationRules: ValidationRule[];
  /** The cost, which depends on variables too: the refusal, or undefined within the limit. */
  costRefusal: (
    document: DocumentNode,
    operationName: string | undefined,
    variables: Record<string, unknown> | undefined,
  ) => QueryLimitExceeded | undefined;
  /** Refuses an operation over the cost limit once Apollo has resolved it, before it runs. */
  apolloPlugin: ApolloServerPlugin<BaseContext>;
}

export function operationLimits(schema: GraphQLSchema, limits: QueryLimits): OperationLimits {
  const cost = queryCostFor(schema);
  const costRefusal: OperationLimits['costRefusal'] = (document, operationName, variables) => {
    const actual = cost(document, operationName, variables);
    if (actual <= limits.maxCost) return undefined;
    return new QueryLimitExceeded(
      'QUERY_TOO_COMPLEX',
      `The query's estimated cost is ${actual}; at most ${limits.maxCost} is allowed. Ask for fewer entries or fields.`,
      limits.maxCost,
      actual,
    );
  };
  // One listener for every request: it keeps no state of its own.
  const listener: GraphQLRequestListener<BaseContext> = {
    async didResolveOperation({ document, operation, request }) {
      if (!operation) return; // nothing will run: Apollo answers that the operation is unknown
      const refusal = costRefusal(document, operation.name?.value, request.variables);
      if (refusal) throw refusal;
    },
  };
  return {
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: depthAndAliasRules(limits),
    costRefusal,
    apolloPlugin: { requestDidStart: async () => listener },
  };
}
