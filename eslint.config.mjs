// @ts-check
import eslint from '@eslint/js';
import graphqlPlugin from '@graphql-eslint/eslint-plugin';
import boundaries from 'eslint-plugin-boundaries';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import valueTypes from './test/support/value-types.json' with { type: 'json' };
import { LAYERS } from './eslint.layers.mjs';

export default tseslint.config(
  { ignores: ['dist/', 'data/', 'coverage/', 'node_modules/', 'test/generated/', 'test/artifacts/', 'bench/peers/'] },
  {
    files: ['**/*.{ts,js,mjs,cjs}'],
    extends: [eslint.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
      // Adapters implement an async port with synchronous SQLite calls; that is not a mistake.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The layers (eslint.layers.mjs, drawn in docs/architecture.md): an import that crosses them fails.
    files: ['src/**/*.ts', 'projections/**/*.ts', 'reactions/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.test.json' } },
      // Each file belongs to the first layer whose pattern matches it.
      'boundaries/files': Object.entries(LAYERS).map(([category, { pattern }]) => ({
        category,
        pattern,
        stopMatching: true,
      })),
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          checkUnknownLocals: true,
          policies: Object.entries(LAYERS).map(([layer, { imports }]) => ({
            from: { file: { categories: layer } },
            allow: { to: { file: { categories: imports.includes('*') ? '*' : [layer, ...imports] } } },
          })),
        },
      ],
      // Every file of these folders belongs to a layer: a new folder gets its place in the table first.
      'boundaries/no-unknown-files': 'error',
    },
  },
  {
    files: ['src/cli/**', 'test/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { ...globals.node },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The Billing page: ES modules that run in the browser, served as they are.
    files: ['web/**/*.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } },
  },
  {
    // The GraphQL contract as clients see it: the emitted SDL, held to graphql-eslint's schema rules.
    files: ['schema/schema.graphql'],
    languageOptions: {
      parser: graphqlPlugin.parser,
      parserOptions: { graphQLConfig: { schema: 'schema/schema.graphql' } },
    },
    plugins: { '@graphql-eslint': graphqlPlugin },
    rules: {
      ...graphqlPlugin.configs['flat/schema-recommended'].rules,
      ...graphqlPlugin.configs['flat/schema-relay'].rules,
      // The exceptions, and why:
      // - type-graphql cannot describe the root types; every root field has its description.
      '@graphql-eslint/require-description': [
        'error',
        {
          types: true,
          rootField: true,
          DirectiveDefinition: true,
          ignoredSelectors: ['[type=ObjectTypeDefinition][name.value=/^(Query|Mutation|Subscription)$/]'],
        },
      ],
      // - Values inside another object (Money, a bucket, an edge, page info) have no identity of
      //   their own; clients keep them in their parent. test/schema.test.ts holds every other type to an id.
      '@graphql-eslint/strict-id-in-types': [
        'error',
        { acceptedIdNames: ['id'], acceptedIdTypes: ['ID'], exceptions: { types: valueTypes } },
      ],
      // - Short, complete lists (plans, packages, grants, drawdowns, usage buckets) are plain lists;
      //   what grows without bound is a connection (the ledger, holds, purchases) or a plain list
      //   paged by the last item's id (alerts, webhook deliveries: README, GraphQL conventions). Ids
      //   are unique per type, not global, and there is no node(id:) query, so edges' nodes do not
      //   implement Node.
      '@graphql-eslint/relay-edge-types': [
        'error',
        { withEdgeSuffix: true, shouldImplementNode: false, listTypeCanWrapOnlyEdgeType: false },
      ],
      // - A connection must page at least one way. The ledger pages both (first/after towards older
      //   entries, last/before towards newer ones); a connection that only ever grows at one end may
      //   page forwards alone.
      '@graphql-eslint/relay-arguments': ['error', { includeBoth: false }],
    },
  },
);
