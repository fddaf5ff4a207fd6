import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { validateOrReject, type ValidatorOptions } from 'class-validator';
import { ArgumentValidationError, buildSchemaSync, type ValidatorFn } from 'type-graphql';
import { createCreditsPubSub, type CreditsPubSub } from '../queries/credits-changes';
import { authChecker } from './guards';
import { AlertsResolver } from './resolvers/alerts-resolver';
import { AutoTopUpResolver } from './resolvers/auto-top-up-resolver';
import { CatalogResolver } from './resolvers/catalog-resolver';
import { CreditHistoryResolver } from './resolvers/credit-history-resolver';
import { CreditMutationsResolver } from './resolvers/credit-mutations-resolver';
import { HoldsResolver } from './resolvers/holds-resolver';
import { PaymentsResolver } from './resolvers/payments-resolver';
import { WebhooksResolver } from './resolvers/webhooks-resolver';
import { WorkspaceCreditsResolver } from './resolvers/workspace-credits-resolver';

/** What type-graphql would pass class-validator for `validate: { forbidUnknownValues: false }`. */
const VALIDATOR_OPTIONS: ValidatorOptions = { forbidUnknownValues: false, skipMissingProperties: true };

const validatable = (value: unknown): value is object => value !== null && typeof value === 'object';

/**
 * class-validator on every argument and input object, exactly as type-graphql's built-in `validate`
 * runs it (same options, same ArgumentValidationError), without the module lookup type-graphql
 * repeats for every argument of every request.
 */
export const validateArgument: ValidatorFn = async (value) => {
  if (!validatable(value)) return;
  try {
    if (Array.isArray(value)) {
      await Promise.all(value.filter(validatable).map((item) => validateOrReject(item, VALIDATOR_OPTIONS)));
    } else {
      await validateOrReject(value, VALIDATOR_OPTIONS);
    }
  } catch (errors) {
    throw new ArgumentValidationError(errors as ConstructorParameters<typeof ArgumentValidationError>[0]);
  }
};

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
      AlertsResolver,
      WebhooksResolver,
      HoldsResolver,
      AutoTopUpResolver,
    ],
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    validateFn: validateArgument,
    authChecker,
  });
}
