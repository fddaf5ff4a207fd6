/**
 * What graphql-ws runs, checked as Apollo checks an HTTP request: the same token, depth, alias and
 * cost limits, introspection off in production, and errors formatted by the same formatError (no
 * "Did you mean …?" in production, internal errors without their message). graphql-ws would
 * otherwise only parse and validate with graphql-js's own rules.
 */
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLFormattedError,
} from 'graphql';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal';
import type { GraphQLContext, Services } from '../graphql/context';
import { formatError } from '../graphql/errors';
import type { OperationLimits } from '../graphql/limits/operation-limits';
import { tokenLimitRefusal } from '../graphql/limits/query-limit-exceeded';
import { illFormedTextAt, illFormedTextMessage } from './well-formed-text';

interface Options {
  schema: ExecutionArgs['schema'];
  services: Services;
  limits: OperationLimits;
  production: boolean;
  logger: Logger;
}

interface SubscribePayload {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/** A graphql-js error without a code gets the one Apollo gives the same failure. */
const withCode = (error: GraphQLError, code: string): GraphQLError =>
  error.extensions.code
    ? error
    : new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code } });

export function subscriptionOperations(options: Options) {
  const { schema, limits } = options;
  const rules = [
    ...specifiedRules,
    ...limits.validationRules,
    ...(options.production ? [NoSchemaIntrospectionCustomRule] : []),
  ];
  return {
    /** The execution arguments of a subscribe message, or why it is refused. */
    prepare(payload: SubscribePayload, principal: Principal): ExecutionArgs | GraphQLError[] {
      const refused = limits.documentRefusal(payload.query);
      if (refused) return [refused];
      const illFormed = illFormedTextAt(payload.variables);
      if (illFormed) {
        return [new GraphQLError(illFormedTextMessage(illFormed), { extensions: { code: 'BAD_USER_INPUT' } })];
      }
      let document: DocumentNode;
      try {
        document = parse(payload.query, limits.parseOptions);
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        return [tokenLimitRefusal(error.message) ?? withCode(error, 'GRAPHQL_PARSE_FAILED')];
      }
      const invalid = validate(schema, document, rules);
      if (invalid.length > 0) return invalid.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
      const variables = payload.variables ?? undefined;
      // Which operation to run, and its variables, are the caller's to get right, as over HTTP:
      // graphql-js would otherwise refuse them at execution with errors that carry no code, read
      // as internal errors (and logged as such for every caller who sends one).
      const operation = getOperationAST(document, payload.operationName);
      if (!operation) {
        const message = payload.operationName
          ? `Unknown operation named "${payload.operationName}".`
          : 'Must provide operation name if query contains multiple operations.';
        return [new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })];
      }
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, {
        maxErrors: 50,
      });
      if (coerced.errors) return coerced.errors.map((error) => withCode(error, 'BAD_USER_INPUT'));
      const tooComplex = limits.costRefusal(document, operation.name?.value, variables);
      if (tooComplex) return [tooComplex];
      const contextValue: GraphQLContext = { services: options.services, principal, authError: undefined };
      return { schema, document, operationName: payload.operationName, variableValues: variables, contextValue };
    },

    /** Errors as the client sees them, through the HTTP endpoint's formatError. */
    formatErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
      return errors.map((error) => {
        const formatted = error.toJSON();
        // An HTTP status, for Apollo to use (limits.ts), means nothing on a socket.
        const extensions = Object.fromEntries(
          Object.entries(formatted.extensions ?? {}).filter(([key]) => key !== 'http'),
        );
        return formatError({ ...formatted, extensions }, error, options);
      });
    },
  };
}
