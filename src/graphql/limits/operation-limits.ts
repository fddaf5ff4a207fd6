/**
 * The limits of query-limits.ts, applied the same way over HTTP (Apollo: parse options, validation
 * rules and a plugin) and over graphql-ws (subscriptions.ts): tokens while parsing, depth and
 * aliases while validating, the cost once the operation and its variables are known, before
 * anything runs.
 */
import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import {
  Lexer,
  parse,
  Source,
  TokenKind,
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import { depthAndAliasRules } from './depth-and-aliases';
import { documentShapeRefusal } from './document-shape';
import { queryCostFor } from './query-cost';
import { QueryLimitExceeded } from './query-limit-exceeded';
import type { QueryLimits } from './query-limits';

export interface OperationLimits {
  /** The token limit, for graphql-js's parser; tokenLimitRefusal() recognises its refusal. */
  parseOptions: ParseOptions;
  /**
   * Refuses, before validation, a document that would cost validation or the cost estimate far more
   * than its size: nested deeper than any query within the depth limit can be ({, [ and ( in one
   * pass of the lexer, before parsing: inline fragments do not count as depth, and a thousand of
   * them nested would cost every later step a deep recursion); or, once parsed, of a shape those
   * steps pay for many times over (document-shape.ts: fragments that expand past the cost limit, a
   * field repeated in one selection set, too many fragments). A syntax error is left to the parser.
   */
  documentRefusal: (source: string) => GraphQLError | undefined;
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

/**
 * Documents remembered as within the nesting limit (past this many the memory starts afresh), and
 * the longest remembered: at most 8 MiB of text, however many unique documents a caller sends.
 */
const PASSED_KEPT = 1_000;
const PASSED_LONGEST = 8_192;

/** Nesting allowed: fields within the depth limit, each with arguments holding lists of input objects. */
export const maxNestingFor = (maxDepth: number): number => maxDepth * 2 + 8;

/** The deepest nesting of brackets in a GraphQL document, read with graphql-js's lexer up to `maxTokens`. */
export function nestingOf(source: string, maxTokens: number): number {
  const lexer = new Lexer(new Source(source));
  let depth = 0;
  let deepest = 0;
  try {
    for (let tokens = 0; tokens <= maxTokens; tokens += 1) {
      const token = lexer.advance();
      if (token.kind === TokenKind.EOF) break;
      if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.PAREN_L) {
        depth += 1;
        if (depth > deepest) deepest = depth;
      } else if (
        token.kind === TokenKind.BRACE_R ||
        token.kind === TokenKind.BRACKET_R ||
        token.kind === TokenKind.PAREN_R
      ) {
        depth -= 1;
      }
    }
  } catch {
    // A syntax error: the parser reports it.
  }
  return deepest;
}

export function operationLimits(schema: GraphQLSchema, limits: QueryLimits): OperationLimits {
  const cost = queryCostFor(schema);
  const maxNesting = maxNestingFor(limits.maxDepth);
  // Clients send the same few documents again and again (Apollo caches their parse the same way):
  // those that passed are remembered rather than lexed and parsed at every request.
  const passed = new Set<string>();
  const refusalOf = (source: string): GraphQLError | undefined => {
    const actual = nestingOf(source, limits.maxTokens);
    if (actual > maxNesting) {
      return new QueryLimitExceeded(
        'QUERY_TOO_DEEP',
        `The query nests {, [ and ( ${actual} deep; at most ${maxNesting} is allowed.`,
        maxNesting,
        actual,
      );
    }
    let document: DocumentNode;
    try {
      document = parse(source, { maxTokens: limits.maxTokens });
    } catch {
      return undefined; // the parser that follows reports it, in its words
    }
    return documentShapeRefusal(document, limits.maxCost);
  };
  const documentRefusal: OperationLimits['documentRefusal'] = (source) => {
    if (passed.has(source)) return undefined;
    const refusal = refusalOf(source);
    if (!refusal && source.length <= PASSED_LONGEST) {
      if (passed.size >= PASSED_KEPT) passed.clear();
      passed.add(source);
    }
    return refusal;
  };
  const costRefusal: OperationLimits['costRefusal'] = (document, operationName, variables) => {
    let actual: number;
    try {
      actual = cost(document, operationName, variables);
    } catch {
      // Too deep or too large to estimate at all: refused, never an internal error.
      return new QueryLimitExceeded(
        'QUERY_TOO_COMPLEX',
        'The query could not be estimated; ask for fewer entries or fields.',
        limits.maxCost,
        undefined,
      );
    }
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
    documentRefusal,
    validationRules: depthAndAliasRules(limits),
    costRefusal,
    apolloPlugin: { requestDidStart: async () => listener },
  };
}
