/**
 * An operation refused before it ran because it asks for too much, with the limit and what the
 * operation came to, so that a client can tell which limit it crossed and by how much. It answers
 * 400, and formatError keeps its code when Apollo reports it as a validation or syntax failure.
 */
import { GraphQLError } from 'graphql';

export type QueryLimitCode =
  | 'QUERY_TOO_LARGE'
  | 'QUERY_TOO_COMPLEX'
  | 'QUERY_TOO_DEEP'
  | 'TOO_MANY_ALIASES'
  | 'TOO_MANY_FRAGMENTS'
  | 'FIELD_REPEATED';

export class QueryLimitExceeded extends GraphQLError {
  constructor(
    readonly code: QueryLimitCode,
    message: string,
    readonly limit: number,
    /** What the operation came to; unknown for a document whose parsing stopped at the limit. */
    readonly actual: number | undefined,
  ) {
    super(message, { extensions: { code, limit, ...(actual !== undefined && { actual }), http: { status: 400 } } });
    this.name = 'QueryLimitExceeded';
  }
}

/** graphql-js's message when parsing stops at `maxTokens` (its wording: "more that"). */
const TOKEN_LIMIT = /Document contains more th\w+ (\d+) tokens\. Parsing aborted\./;

/** The refusal for a document whose parsing stopped at the token limit, or undefined for any other syntax error. */
export function tokenLimitRefusal(syntaxErrorMessage: string): QueryLimitExceeded | undefined {
  const found = TOKEN_LIMIT.exec(syntaxErrorMessage);
  if (!found) return undefined;
  const limit = Number(found[1]);
  return new QueryLimitExceeded(
    'QUERY_TOO_LARGE',
    `The query has more than ${limit} tokens; at most ${limit} are allowed.`,
    limit,
    undefined,
  );
}
