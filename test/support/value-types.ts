/**
 * The object types that are values inside another object, not things with an identity of their
 * own, and so have no `id`: a client cache keeps them inside their parent. Every other object type
 * has `id: ID!` (test/schema.test.ts), which is what Apollo Client and urql normalize by. The list
 * lives in value-types.json so that eslint.config.mjs excepts the same types from graphql-eslint's
 * strict-id-in-types; the README's "GraphQL conventions" section names them too.
 */
import valueTypes from './value-types.json';

export const VALUE_TYPES: readonly string[] = valueTypes;
