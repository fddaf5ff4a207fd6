import type { Catalog } from '../catalog/catalog';
import type { AutoTopUpCommands } from '../commands/auto-top-up-commands';
import type { CreditsCommands } from '../commands/credits-commands';
import type { HoldCommands } from '../commands/hold-commands';
import type { PaymentCommands } from '../commands/payment-commands';
import type { Principal } from '../auth/principal';
import type { AutoTopUpQueries } from '../queries/auto-top-up-queries';
import type { CreditsPubSub } from '../queries/credits-changes';
import type { CreditsQueries } from '../queries/credits-queries';
import type { HoldQueries } from '../queries/hold-queries';
import type { ParkedWork } from '../queries/reactions';
import type { WebhookEndpointCommands } from '../commands/webhook-endpoint-commands';
import type { WebhookReader } from '../queries/webhooks';

/**
 * What resolvers need from the rest of the service. The command-side services answer only once the
 * read models include what they wrote (read-your-writes), so a resolver maps results and nothing else.
 */
export interface Services {
  catalog: Catalog;
  commands: CreditsCommands;
  payments: PaymentCommands;
  /** The saved card and auto top-up's settings. */
  autoTopUp: AutoTopUpCommands;
  /** The saved card, the settings in force and this month's top-ups. */
  autoTopUpQueries: AutoTopUpQueries;
  queries: CreditsQueries;
  /** Holds of long-running actions: reserve, settle, release, extend, and list them. */
  holds: { commands: HoldCommands; queries: HoldQueries };
  /** Announces workspaces whose balance changed, once the read models include the change. */
  pubSub: CreditsPubSub;
  /** Whether a payment provider is configured: without one, buying and refunding through it are off. */
  paymentsEnabled: boolean;
  /** The reactions' work an operator looks after: what is parked, and trying it again. */
  reactions: {
    parked(): ParkedWork[];
    retry(reaction: string, key: string, requestedBy: string): Promise<void>;
  };
  /** Outbound webhook endpoints: their commands (read-your-writes) and what the reaction keeps of them. */
  webhooks: { commands: WebhookEndpointCommands; reader: WebhookReader };
}

export interface GraphQLContext {
  /** The verified caller; undefined without a valid token. */
  principal: Principal | undefined;
  /** Why the presented token was refused, if one was presented. */
  authError: string | undefined;
  services: Services;
}
