import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { buildSchemaSync } from 'type-graphql';
import { createCreditsPubSub, type CreditsPubSub } from '../queries/credits-changes';
import { authChecker } from './guards';
import { CatalogResolver } from './resolvers/catalog-resolver';
import { CreditHistoryResolver } from './resolvers/credit-history-resolver';
import { CreditMutationsResolver } from './resolvers/credit-mutations-resolver';
import { PaymentsResolver } from './resolvers/payments-resolver';
import { WorkspaceCreditsResolver } from './resolvers/workspace-credits-resolver';

/** The one GraphQL schema; `npm run schema:emit` writes it to schema/schema.graphql. */
export function buildCreditsSchema(pubSub: CreditsPubSub = createCreditsPubSub()): GraphQLSchema {
  return buildSchemaSync({
    pubSub,
    resolvers: [
      CatalogResolver,
      WorkspaceCreditsResolver,
      CreditMutationsResolver,
      CreditHistoryResolver,
      PaymentsResolver,
    ],
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    validate: { forbidUnknownValues: false },
    authChecker,
  });
}
