import type { Catalog } from '../catalog/catalog';
import type { CreditPayments } from '../commands/credit-payments';
import type { CreditsCommands } from '../commands/credits-commands';
import type { Principal } from '../auth/principal';
import type { CreditsPubSub } from '../queries/credits-changes';
import type { CreditsQueries } from '../queries/credits-queries';

/** What resolvers need from the rest of the service. */
export interface Services {
  catalog: Catalog;
  commands: CreditsCommands;
  payments: CreditPayments;
  queries: CreditsQueries;
  /** Announces workspaces whose balance changed, once the read models include the change. */
  pubSub: CreditsPubSub;
  /** Resolves once the read models include the event at `position` (read-your-writes). */
  waitForProjections(position: bigint | undefined): Promise<void>;
}

export interface GraphQLContext {
  /** The verified caller; undefined without a valid token. */
  principal: Principal | undefined;
  /** Why the presented token was refused, if one was presented. */
  authError: string | undefined;
  services: Services;
}
