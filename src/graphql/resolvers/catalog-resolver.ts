import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { CreditPackage, CreditRate, Plan } from '../types/catalog';

/** The catalog: readable with any valid token. */
@Authorized()
@Resolver()
export class CatalogResolver {
  @Query(() => [Plan])
  plans(@Ctx() { services }: GraphQLContext): readonly Plan[] {
    return services.catalog.plans;
  }

  @Query(() => [CreditPackage])
  creditPackages(@Ctx() { services }: GraphQLContext): readonly CreditPackage[] {
    return services.catalog.packages;
  }

  @Query(() => [CreditRate], { description: 'The rate card: what each action costs.' })
  creditRates(@Ctx() { services }: GraphQLContext): readonly CreditRate[] {
    return services.catalog.rates.map((rate) => ({ id: rate.action, ...rate }));
  }
}
