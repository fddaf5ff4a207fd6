/**
 * The composition root: opens the event store and the read-model database, starts the
 * projections, and wires the command and query sides. Used by the HTTP server and the CLIs.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { newId } from '../ids';
import { openReadModelDb } from '../../projections/read-model-db';
import { CreditLedgerReader } from '../../projections/credit-ledger-reader';
import { CreditPurchasesReader } from '../../projections/credit-purchases';
import { WorkspaceBalanceReader } from '../../projections/workspace-balance';
import { Catalog } from '../catalog/catalog';
import { WorkspaceCreditsCommandHandler } from '../commands/command-handler';
import { CreditPayments } from '../commands/credit-payments';
import { systemClock, type Clock } from '../clock';
import { CreditsCommands } from '../commands/credits-commands';
import { ExpirySweeper } from '../commands/expiry-sweeper';
import type { EventStore } from '../eventstore/port';
import { SqliteEventStore } from '../eventstore/sqlite/sqlite-event-store';
import type { Services } from '../graphql/context';
import { unconfiguredPaymentGateway, type PaymentGateway } from '../payments/payment-gateway';
import { createStripeGateway } from '../payments/stripe-gateway';
import { openFileSnapshotStore } from '../snapshots/snapshot-store';
import { createCreditsPubSub, publishChangedWorkspaces } from '../queries/credits-changes';
import { CreditsQueries } from '../queries/credits-queries';
import type { Config } from './config';
import { ProjectionThread } from './projection-thread';
import { eventStoreLocation, openEventStore } from './stores';

export interface CreditsService {
  services: Services;
  store: EventStore;
  /** Why the event store can take no more appends (the embedded store's append thread failed). */
  appendFailure(): Error | undefined;
  projections: ProjectionThread;
  gateway: PaymentGateway;
  close(): Promise<void>;
}

export async function startCreditsService(
  config: Config,
  logger: Logger,
  clock: Clock = systemClock,
): Promise<CreditsService> {
  const catalog = Catalog.load(config.catalogFile);
  const store = await openEventStore(eventStoreLocation(config), { logger });
  const pubSub = createCreditsPubSub();
  // The read models are migrated and caught up by the projection thread before this thread reads them.
  const projections = await ProjectionThread.start({
    store: eventStoreLocation(config),
    readModelFile: config.readModelFile,
    logLevel: config.logLevel,
    logger,
    ...(store instanceof SqliteEventStore && { onAppended: (listener: () => void) => store.onAppended(listener) }),
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  // Whatever fails from here on leaves nothing running behind it.
  let readModels: Database | undefined;
  try {
    readModels = openReadModelDb(config.readModelFile);
    if (store instanceof SqliteEventStore) {
      await store.ready();
      if (store.appendFailure) throw store.appendFailure;
    }
    return wire(readModels);
  } catch (error) {
    await projections.stop();
    await store.close();
    readModels?.close();
    throw error;
  }

  function wire(readModels: Database): CreditsService {
    const snapshots = openFileSnapshotStore(config.snapshotDir);
    const handler = new WorkspaceCreditsCommandHandler(store, { snapshots });
    const commands = new CreditsCommands(handler, catalog, clock);
    const balances = new WorkspaceBalanceReader(readModels, { cachedWorkspaces: 10_000 });
    projections.onCommitted((workspaces) => {
      balances.forget(workspaces);
      publishChangedWorkspaces(pubSub, workspaces);
    });
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
      newId,
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
      appendFailure: () => (store instanceof SqliteEventStore ? store.appendFailure : undefined),
      projections,
      gateway,
      async close() {
        await sweeper.stop();
        await handler.close();
        await projections.stop();
        await store.close();
        readModels.close();
      },
    };
  }
}
