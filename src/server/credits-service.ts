/**
 * The composition root: opens the event store and the read-model database, starts the
 * projections, and wires the command and query sides. Used by the HTTP server and the CLIs.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { openReadModelDb } from '../../projections/read-model-db';
import { creditLedgerProjection } from '../../projections/credit-ledger';
import { CreditLedgerReader } from '../../projections/credit-ledger-reader';
import { CreditPurchasesReader, creditPurchasesProjection } from '../../projections/credit-purchases';
import { ProjectionRunner } from '../../projections/runner';
import { WorkspaceBalanceReader, workspaceBalanceProjection } from '../../projections/workspace-balance';
import { Catalog } from '../catalog/catalog';
import { WorkspaceCreditsCommandHandler } from '../commands/command-handler';
import { CreditPayments } from '../commands/credit-payments';
import { CreditsCommands, systemClock, type Clock } from '../commands/credits-commands';
import { ExpirySweeper } from '../commands/expiry-sweeper';
import { openEsdbEventStore } from '../eventstore/esdb/esdb-event-store';
import type { EventStore } from '../eventstore/port';
import { openSqliteEventStore } from '../eventstore/sqlite/sqlite-event-store';
import { WORKSPACE_CREDITS_CATEGORY } from '../events/workspace-stream';
import type { Services } from '../graphql/context';
import { unconfiguredPaymentGateway, type PaymentGateway } from '../payments/payment-gateway';
import { createStripeGateway } from '../payments/stripe-gateway';
import { openFileSnapshotStore } from '../snapshots/snapshot-store';
import { createCreditsPubSub, publishChangedWorkspaces } from '../queries/credits-changes';
import { CreditsQueries } from '../queries/credits-queries';
import type { Config } from './config';

export const PROJECTIONS = [workspaceBalanceProjection, creditLedgerProjection, creditPurchasesProjection];

export interface CreditsService {
  services: Services;
  store: EventStore;
  projections: ProjectionRunner;
  gateway: PaymentGateway;
  close(): Promise<void>;
}

/**
 * The event store is EventStoreDB when EVENTSTORE_URL is set, reading only the workspace credits
 * streams of `$all`, and the embedded SQLite file otherwise. The read models always stay in this
 * process's own SQLite file under DATA_DIR.
 */
export function openStores(config: Config, logger?: Logger): { store: EventStore; readModels: Database } {
  return {
    store: config.eventStoreUrl
      ? openEsdbEventStore({
          connectionString: config.eventStoreUrl,
          streamPrefixes: [`${WORKSPACE_CREDITS_CATEGORY}-`],
          ...(logger && { logger }),
        })
      : openSqliteEventStore({ file: config.eventStoreFile }),
    readModels: openReadModelDb(config.readModelFile),
  };
}

export async function startCreditsService(
  config: Config,
  logger: Logger,
  clock: Clock = systemClock,
): Promise<CreditsService> {
  const catalog = Catalog.load(config.catalogFile);
  const { store, readModels } = openStores(config, logger);
  const pubSub = createCreditsPubSub();
  const projections = new ProjectionRunner(store, readModels, PROJECTIONS, {
    logger,
    onCommitted: (batch) => publishChangedWorkspaces(pubSub, batch),
  });
  await projections.start();
  const snapshots = openFileSnapshotStore(config.snapshotDir);
  const handler = new WorkspaceCreditsCommandHandler(store, { snapshots });
  const commands = new CreditsCommands(handler, catalog, clock);
  const balances = new WorkspaceBalanceReader(readModels);
  const ledger = new CreditLedgerReader(readModels);
  const purchases = new CreditPurchasesReader(readModels);
  const queries = new CreditsQueries(balances, ledger, purchases, store, catalog, clock);
  const gateway = config.stripe ? createStripeGateway(config.stripe) : unconfiguredPaymentGateway();
  const payments = new CreditPayments(
    handler,
    commands,
    catalog,
    gateway,
    purchases,
    ledger,
    { successUrl: config.checkoutSuccessUrl, cancelUrl: config.checkoutCancelUrl },
    clock,
    logger,
    randomUUID,
  );
  const sweeper = new ExpirySweeper(balances, commands, clock, logger);
  sweeper.start(config.expirySweepIntervalMs);
  return {
    services: {
      catalog,
      commands,
      payments,
      queries,
      pubSub,
      waitForProjections: (position) => (position === undefined ? Promise.resolve() : projections.waitFor(position)),
    },
    store,
    projections,
    gateway,
    async close() {
      await sweeper.stop();
      await handler.idle();
      await projections.stop();
      await store.close();
      readModels.close();
    },
  };
}
