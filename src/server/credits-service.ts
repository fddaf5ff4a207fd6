/**
 * The composition root: opens the event store and the read-model database, starts the projection
 * thread (read models and the reactions' derivations), and wires the command side, the query side
 * and the reactions' performers. Used by the HTTP server and the CLIs.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { newId } from '../ids';
import { openReadModelDb } from '../../projections/read-model-db';
import { CreditHoldsReader } from '../../projections/credit-holds-reader';
import { CreditLedgerReader } from '../../projections/credit-ledger-reader';
import { CreditAlertsReader } from '../../projections/credit-alerts';
import { CreditPurchasesReader } from '../../projections/credit-purchases-reader';
import { WorkspaceBalanceReader, workspaceBalanceProjection } from '../../projections/workspace-balance';
import { ReactionExecutor } from '../../reactions/executor';
import { ExpirySweeper } from '../../reactions/expiry-sweeper';
import { HoldExpiryPerformer } from '../../reactions/hold-expiry/performer';
import { reactionProjectionName } from '../../reactions/reaction-projection';
import { ReactorLease } from '../../reactions/lease';
import { PaymentsPerformer } from '../../reactions/payments/performer';
import { WorkReader } from '../../reactions/work-reader';
import { Catalog } from '../catalog/catalog';
import { systemClock, type Clock } from '../clock';
import { WorkspaceCreditsCommandHandler } from '../commands/command-handler';
import { CreditsCommands } from '../commands/credits-commands';
import { HoldCommands } from '../commands/hold-commands';
import { PaymentCommands } from '../commands/payment-commands';
import { ProviderEvents } from '../commands/provider-events';
import { probeHead, type EventStore } from '../eventstore/port';
import { SqliteEventStore } from '../eventstore/sqlite/sqlite-event-store';
import type { Services } from '../graphql/context';
import { unconfiguredPaymentGateway, type PaymentGateway } from '../payments/payment-gateway';
import { createStripeGateway } from '../payments/stripe-gateway';
import { openFileSnapshotStore } from '../snapshots/file-snapshot-store';
import { openSqliteRetryRecords } from '../snapshots/sqlite-retry-records';
import { createCreditsPubSub, publishChangedWorkspaces } from '../queries/credits-changes';
import { CreditsQueries, type ReadModelWatch } from '../queries/credits-queries';
import { HoldQueries } from '../queries/hold-queries';
import type { Config } from './config';
import { AutoTopUpCommands } from '../commands/auto-top-up-commands';
import { AutoTopUpQueries } from '../queries/auto-top-up-queries';
import { AutoTopUpReader } from '../../projections/auto-top-up-reader';
import { workspaceLookup } from './lookups';
import { ProjectionThread } from './projection-thread';
import { checkoutUrls, PublicUrl } from './public-url';
import { readYourWrites } from '../commands/read-your-writes';
import { eventStoreLocation, openEventStore } from './stores';
import { wireWebhooks } from './webhooks';
import { withTimeout } from './with-timeout';

/**
 * How long a settle, release or extension (or a refund of a spend or a purchase) waits for this
 * server's read models to catch up with the log before it says an id it has not seen is not known
 * yet (written through another replica).
 */
const LOOKUP_WAIT_MS = 5_000;

/**
 * How long finding the log's head may take, for an answer that appended nothing (a retry) and for
 * a hold lookup, before the head counts as unknown.
 */
const HEAD_LOOKUP_MS = 5_000;

export interface CreditsService {
  services: Services;
  store: EventStore;
  /** Why the event store can take no more appends (the embedded store's append thread failed). */
  appendFailure(): Error | undefined;
  projections: ProjectionThread;
  /** Where browsers reach the server; the HTTP server tells it the port it listens on. */
  publicUrl: PublicUrl;
  reactions: { reader: WorkReader; executor: ReactionExecutor };
  gateway: PaymentGateway;
  /** The payment provider's webhooks, turned into commands; waits for the read models like a mutation. */
  providerEvents: ProviderEvents;
  /** The command side's workspace states in memory (STATE_CACHE_MB bounds the bytes). */
  stateCache(): { workspaces: number; bytes: number };
  /**
   * Answers at once every request waiting for a provider's outcome (a refund, a checkout, a card
   * setup) with what the read models show now, and every later one without waiting: the server is
   * shutting down, and an answer cut off by the drain's deadline would hide a write that happened.
   */
  stopWaiting(): void;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /**
   * Who this process is to the reactor lease (default: a new id), and the holder whose lease it may
   * take over at once, known to have ended: the server passes its DATA_DIR lock's (data-dir-lock.ts).
   */
  reactor?: { holder: string; predecessor: string | undefined };
}

export async function startCreditsService(
  config: Config,
  logger: Logger,
  clock: Clock = systemClock,
  options: ServiceOptions = {},
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
    const retryRecords = openSqliteRetryRecords(config.retryRecordsFile);
    const handler = new WorkspaceCreditsCommandHandler(store, {
      snapshots,
      retryRecords,
      ...config.memory,
      lowBalancePolicy: catalog.lowBalance,
      onSnapshotRejected: (stream, reason) => logger.warn({ stream, reason }, 'snapshot not used: folding the stream'),
      onRetryRecordsProblem: (stream, problem) => logger.warn({ stream, problem }, 'retry records: ' + problem),
    });
    const balances = new WorkspaceBalanceReader(readModels, {
      cachedWorkspaces: 10_000,
      // What onCommitted below has forgotten: the thread advances its progress after its listeners.
      seen: () => projections.progress.find((entry) => entry.name === workspaceBalanceProjection.name)?.checkpoint,
    });
    const ledger = new CreditLedgerReader(readModels);
    const purchases = new CreditPurchasesReader(readModels);
    const alerts = new CreditAlertsReader(readModels);
    const waitFor = (position: bigint) => projections.waitFor(position);
    // For answers that appended nothing: the log's head, found with bounded work (or 'unknown').
    const head = () => withTimeout(probeHead(store), HEAD_LOOKUP_MS).catch(() => 'unknown' as const);
    const commands = new CreditsCommands(handler, catalog, clock);
    const gateway = config.stripe ? createStripeGateway(config.stripe) : unconfiguredPaymentGateway();
    // Waits until the read models include the log as it is now. Bounded: an unknown head
    // (EventStoreDB shared with busy applications) is not caught up.
    const catchUp = async (): Promise<boolean> => {
      const at = await head();
      if (at === 'unknown') return false;
      return at === undefined
        ? true
        : projections.waitFor(at, LOOKUP_WAIT_MS).then(
            () => true,
            () => false,
          );
    };
    const lookup = workspaceLookup(readModels, purchases, catchUp);
    const payments = new PaymentCommands(handler, catalog, lookup, store, clock, newId);
    const autoTopUp = new AutoTopUpCommands(handler, catalog, clock, newId, config.autoTopUpRetry);
    const reader = new WorkReader(readModels);
    const webhooks = wireWebhooks(config, store, readModels, clock, logger);
    const publicUrl = new PublicUrl(config);
    const executor = new ReactionExecutor({
      reader,
      store,
      performers: [
        new PaymentsPerformer(
          gateway,
          payments,
          catalog,
          () => checkoutUrls(config, publicUrl),
          clock,
          autoTopUp,
          config.reactionRetry,
        ),
        webhooks.performer,
        new HoldExpiryPerformer(commands),
      ],
      lease: new ReactorLease(store, options.reactor?.holder ?? newId(), clock, {
        predecessor: options.reactor?.predecessor,
      }),
      clock,
      logger,
      checkpoint: () => projections.checkpoint,
      derivationStopped: (reaction) => projections.failureOf(reactionProjectionName(reaction)) !== undefined,
    });
    const watchers = new Set<() => void>();
    /** Each waiting watch's way to end now, without what it waited for. */
    const giveUps = new Set<() => void>();
    let waiting = true;
    const watch: ReadModelWatch = (read, timeoutMs) => {
      const found = read();
      if (found !== undefined || !waiting) return Promise.resolve(found);
      return new Promise((resolve) => {
        const check = (): void => {
          const value = read();
          if (value === undefined) return;
          done();
          resolve(value);
        };
        const giveUp = (): void => {
          done();
          resolve(undefined);
        };
        const timer = setTimeout(giveUp, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          watchers.delete(check);
          giveUps.delete(giveUp);
        };
        watchers.add(check);
        giveUps.add(giveUp);
      });
    };
    projections.onCommitted((workspaces) => {
      balances.forget(workspaces);
      publishChangedWorkspaces(pubSub, workspaces);
      // After the listeners above, so that what the executor and watchers read is fresh.
      setImmediate(() => {
        executor.wake();
        for (const check of watchers) check();
      });
    });
    const autoTopUpQueries = new AutoTopUpQueries(new AutoTopUpReader(readModels), catalog, clock, watch, (name) =>
      projections.failureOf(name),
    );
    const queries = new CreditsQueries(balances, ledger, purchases, alerts, store, catalog, clock, watch, (name) =>
      projections.failureOf(name),
    );
    const sweeper = new ExpirySweeper(balances, alerts, new AutoTopUpReader(readModels), commands, clock, logger);
    // Reactions take their work from the read models: none is performed before they have caught up
    // with the log (a start with read models that cannot be written yet does not wait for that), or
    // work whose outcome they do not show yet would be found due and performed again.
    let closing = false;
    void projections.caughtUp.then(() => {
      if (closing) return;
      sweeper.start(config.expirySweepIntervalMs);
      executor.start();
    });
    const visiblePayments = readYourWrites(payments, waitFor, head);
    const visibleAutoTopUp = readYourWrites(autoTopUp, waitFor, head);
    return {
      services: {
        catalog,
        commands: readYourWrites(commands, waitFor, head),
        payments: visiblePayments,
        autoTopUp: visibleAutoTopUp,
        autoTopUpQueries,
        queries,
        holds: {
          commands: readYourWrites(new HoldCommands(handler, catalog, clock), waitFor, head),
          queries: new HoldQueries(
            new CreditHoldsReader(readModels),
            clock,
            (name) => projections.failureOf(name),
            catchUp,
          ),
        },
        pubSub,
        paymentsEnabled: gateway.enabled,
        reactions: {
          parked: () => reader.parked(),
          retry: async (reaction, key, requestedBy) => waitFor(await executor.retry(reaction, key, requestedBy)),
        },
        webhooks: { commands: readYourWrites(webhooks.commands, waitFor, head), reader: webhooks.reader },
      },
      store,
      appendFailure: () => (store instanceof SqliteEventStore ? store.appendFailure : undefined),
      projections,
      publicUrl,
      reactions: { reader, executor },
      gateway,
      // Stripe's webhooks wait for what they record, but a repeat (Stripe delivers at least once)
      // answers at once: it shows no balance, and read models lagging would turn its 200 into a 500.
      providerEvents: new ProviderEvents(
        readYourWrites(payments, waitFor),
        lookup,
        gateway,
        store,
        readYourWrites(autoTopUp, waitFor),
      ),
      stateCache: () => handler.cacheUsage(),
      stopWaiting() {
        waiting = false;
        for (const giveUp of giveUps) giveUp();
      },
      async close() {
        closing = true;
        await sweeper.stop();
        await executor.stop();
        await webhooks.close();
        await handler.close();
        retryRecords.close();
        await projections.stop();
        await store.close();
        readModels.close();
      },
    };
  }
}
