/**
 * How errors reach clients. Domain refusals keep their code and details (INSUFFICIENT_CREDITS with
 * required/available); validation failures say which argument broke which rule; anything
 * unexpected is logged and, in production, answered without its message or stack.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';
import { isCreditsError } from '../domain/errors';
import { PaymentProviderError, PaymentsNotConfigured } from '../payments/payment-gateway';
import { ReadModelUnavailable } from '../queries/credits-queries';
import { CommittedButNotVisible } from '../commands/read-your-writes';
import { UnsafeWebhookUrl } from '../webhooks/port';
import { QueryLimitExceeded, tokenLimitRefusal } from './limits/query-limit-exceeded';
import { logRepeatedError } from './repeated-errors';

interface ValidationErrorLike {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationErrorLike[];
}

function describeValidationErrors(errors: ValidationErrorLike[], prefix = ''): { field: string; problems: string[] }[] {
  return errors.flatMap((error) => [
    ...(error.constraints ? [{ field: prefix + error.property, problems: Object.values(error.constraints) }] : []),
    ...describeValidationErrors(error.children ?? [], `${prefix}${error.property}.`),
  ]);
}

/**
 * The event store could not take a write for a fault of the machine or the network, a full disk or
 * an EventStoreDB out of reach (eventstore/port.ts, StoreUnavailable): the caller may repeat it
 * later with the same idempotency key, which answers the first result if it was recorded after all.
 * Told by its code, since this layer does not import the store's port.
 */
const isStoreUnavailable = (error: unknown): error is Error & { code: 'STORE_UNAVAILABLE'; publicMessage?: string } =>
  error instanceof Error && (error as { code?: unknown }).code === 'STORE_UNAVAILABLE';

/**
 * graphql-js ends some messages with "Did you mean …?", naming fields, arguments, types and enum
 * values close to what was sent: with introspection off, that hands out the schema piece by piece.
 */
const SUGGESTION = / ?Did you mean .+\?$/s;

export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  options: { production: boolean; logger: Logger },
): GraphQLFormattedError {
  const answer = explain(formatted, error, options);
  if (!options.production) return answer;
  // Apollo's refusal tells how to turn introspection on in its own options: it names the framework.
  if (answer.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' && /introspection/i.test(answer.message)) {
    return { ...answer, message: 'Introspection is not allowed on this server.' };
  }
  return SUGGESTION.test(answer.message) ? { ...answer, message: answer.message.replace(SUGGESTION, '') } : answer;
}

function explain(
  formatted: GraphQLFormattedError,
  error: unknown,
  options: { production: boolean; logger: Logger },
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  // Apollo reports a validation rule's error under its own code, GRAPHQL_VALIDATION_FAILED, and the
  // parser's refusal at the token limit as a syntax error, GRAPHQL_PARSE_FAILED.
  const cause = error instanceof GraphQLError ? error.originalError : undefined;
  if (cause instanceof QueryLimitExceeded) {
    return { ...formatted, extensions: { ...formatted.extensions, code: cause.code } };
  }
  const tooLarge = formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' && tokenLimitRefusal(formatted.message);
  if (tooLarge) return { message: tooLarge.message, extensions: { code: tooLarge.code, limit: tooLarge.limit } };
  if (isCreditsError(original)) {
    return { ...formatted, message: original.message, extensions: { code: original.code, ...original.details } };
  }
  if (isStoreUnavailable(original)) {
    // Every write meets it while it lasts: logged whole once, then once per interval with a count.
    logRepeatedError(
      options.logger,
      original,
      'the event store could not take a write for a fault of the machine or the network',
    );
    // The store's own error may name files, hosts and ports: in production it is only logged.
    const message = (options.production && original.publicMessage) || original.message;
    return { ...formatted, message, extensions: { code: original.code, retryable: true } };
  }
  if (original instanceof CommittedButNotVisible) {
    options.logger.warn({ err: original }, 'a write committed but the read models did not show it in time');
    return {
      ...formatted,
      message: original.message,
      extensions: { code: original.code, committed: true, position: original.position.toString() },
    };
  }
  if (original instanceof ReadModelUnavailable) {
    return {
      ...formatted,
      message: options.production ? original.publicMessage : original.message,
      extensions: { code: original.code, readModel: original.readModel },
    };
  }
  if (original instanceof PaymentsNotConfigured || original instanceof UnsafeWebhookUrl) {
    return { ...formatted, message: original.message, extensions: { code: original.code } };
  }
  if (original instanceof PaymentProviderError) {
    options.logger.warn({ err: original }, 'payment provider error');
    return {
      ...formatted,
      message: original.retryable
        ? 'The payment provider could not be reached; nothing was changed. Try again.'
        : `The payment provider refused: ${original.message}`,
      extensions: { code: original.code, retryable: original.retryable },
    };
  }
  const validationErrors = formatted.extensions?.validationErrors as ValidationErrorLike[] | undefined;
  if (validationErrors) {
    const invalid = describeValidationErrors(validationErrors);
    return {
      ...formatted,
      message: `Invalid input: ${invalid.map(({ problems }) => problems.join(', ')).join('; ')}.`,
      extensions: { code: 'BAD_USER_INPUT', invalidFields: invalid },
    };
  }
  const code = formatted.extensions?.code;
  if (code === undefined || code === 'INTERNAL_SERVER_ERROR') {
    options.logger.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL operation');
    if (options.production) {
      return {
        message: 'Internal server error',
        ...(formatted.path && { path: formatted.path }),
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      };
    }
  }
  return formatted;
}
