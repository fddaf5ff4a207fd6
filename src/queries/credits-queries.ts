/**
 * The read side as the API sees it: a workspace's balance breakdown now (from the balance read
 * model) or at any past instant (folded from its events), its ledger and its usage.
 */
import type {
  CreditLedgerReader,
  LedgerFilter,
  LedgerPage,
  LedgerWindow,
  UsageGrouping,
  UsageTotal,
} from '../../projections/credit-ledger-reader';
import type { LedgerEntry } from '../../projections/credit-ledger';
import type {
  CheckoutView,
  CreditPurchasesReader,
  CreditPurchaseView,
  PurchaseRefundView,
  RefusedProviderEventView,
  UncreditedPaymentView,
} from '../../projections/credit-purchases-reader';
import type { AlertView, CreditAlertsReader, AlertRulesView } from '../../projections/credit-alerts';
import type { WorkspaceBalanceReader } from '../../projections/workspace-balance';
import type { Catalog, Plan } from '../catalog/catalog';
import type { Clock } from '../clock';
import { lowBalanceThreshold } from '../domain/alert-rules';
import { creditBalance, type CreditBalance } from '../domain/balance';
import type { Grant, GrantSource } from '../domain/credits';
import { expireDueHolds } from '../domain/decisions/hold-expiries';
import { invalidCommand } from '../domain/errors';
import { occurredAt, type AlertRules, type WorkspaceCreditsEvent } from '../domain/events';
import { evolve } from '../domain/evolve';
import { returnDueHolds } from '../domain/hold-returns';
import { initialState, type CurrentPeriod } from '../domain/state';
import type { EventStore } from '../eventstore/port';
import { toWorkspaceCreditsEvent, workspaceStreamName } from '../events/workspace-stream';
import { FoldTurns } from './fold-turns';

/** How far ahead of this server's clock a caller's "now" may run and still be taken for now. */
const CLOCK_SKEW_MS = 60_000;

export type { AlertView, CreditPurchaseView };

export interface WorkspaceCreditsView extends Omit<CreditBalance, 'grants'> {
  /** The workspace for the balance now; `<workspace>@<instant>` for the balance at an instant. */
  id: string;
  workspaceId: string;
  plan: Plan | undefined;
  periodStart: Date | undefined;
  periodEnd: Date | undefined;
  lowBalance: boolean;
  lowBalanceThreshold: number;
  grants: {
    /** The grant's id now; `<grantId>@<instant>` at an instant, so that a cache keeps the two apart. */
    id: string;
    grantId: string;
    source: GrantSource;
    granted: number;
    remaining: number;
    expiresAt: Date | undefined;
    grantedAt: Date;
  }[];
}

/**
 * Waits for the read models to show something: `read` is asked again after every batch they commit
 * until it answers, or `timeoutMs` passes (then undefined).
 */
export type ReadModelWatch = <T>(read: () => T | undefined, timeoutMs: number) => Promise<T | undefined>;

/** Where a read model stopped, if it did (at an event it could not apply): it must not be served then. */
export type ReadModelHealth = (readModel: string) => { position: string; eventType: string; error: string } | undefined;

/** A query whose read model stopped at an event it cannot apply: answered with this, not stale numbers. */
export class ReadModelUnavailable extends Error {
  readonly code = 'READ_MODEL_UNAVAILABLE';
  constructor(
    readonly readModel: string,
    failure: { position: string; eventType: string; error: string },
  ) {
    super(
      `The ${readModel} read model stopped at event ${failure.position} (${failure.eventType}): ${failure.error}. ` +
        'Operators: see `credits projections`; everything else keeps working.',
    );
    this.name = 'ReadModelUnavailable';
    this.publicMessage =
      `The ${readModel} read model is unavailable: it stopped at an event it cannot apply, and an operator ` +
      'has been told. Everything else keeps working.';
  }

  /** The message without the event and the error, which are for operators: for production. */
  readonly publicMessage: string;
}

/** Events creditBalanceAt folds in one turn (fold-turns.ts): a few milliseconds' work. */
const FOLD_SLICE = 1_000;

export class CreditsQueries {
  constructor(
    private readonly balances: WorkspaceBalanceReader,
    private readonly ledger: CreditLedgerReader,
    private readonly purchasesReader: CreditPurchasesReader,
    private readonly alerts: CreditAlertsReader,
    private readonly store: EventStore,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly watch: ReadModelWatch,
    private readonly health: ReadModelHealth = () => undefined,
    private readonly turns = new FoldTurns(),
  ) {}

  private healthy(readModel: string): void {
    const failure = this.health(readModel);
    if (failure) throw new ReadModelUnavailable(readModel, failure);
  }

  /**
   * An unknown workspace has an all-zero balance: it simply has no grants yet. Holds past their
   * expiry count as given back from that instant, whether or not their expiry is written yet.
   */
  workspaceCredits(workspaceId: string): WorkspaceCreditsView {
    this.healthy('workspace-balance');
    this.healthy('credit-alerts');
    const now = this.clock.now().getTime();
    const { grants, holds, terms, period } = this.balances.workspace(workspaceId);
    const termsOf = (grant: Grant) => terms.get(grant.id) ?? { replaced: false, money: undefined };
    const rules = this.alerts.rules(workspaceId).rules;
    return this.view(workspaceId, returnDueHolds(grants, holds, termsOf, now), period, rules, now);
  }

  /** The workspace's alert rules, with who set them last (nobody: the defaults). */
  alertRules(workspaceId: string): AlertRulesView & { lowBalanceThreshold: number } {
    this.healthy('credit-alerts');
    this.healthy('workspace-balance');
    const view = this.alerts.rules(workspaceId);
    const included = this.balances.period(workspaceId)?.credits ?? 0;
    return { ...view, lowBalanceThreshold: lowBalanceThreshold(view.rules, this.catalog.lowBalance, included) };
  }

  /** The alerts the workspace's balance raised, newest first. */
  alertHistory(workspaceId: string, first: number, before?: bigint): AlertView[] {
    this.healthy('credit-alerts');
    return this.alerts.recent(workspaceId, first, before);
  }

  availableCredits(workspaceId: string): number {
    return this.workspaceCredits(workspaceId).available;
  }

  /**
   * The breakdown exactly as it was at `at`: every event that had taken effect by then, folded,
   * the grants that had expired by then counted as expired, and the holds that had expired by then
   * given back, as the decider would have recorded them at that instant. An instant to come is
   * refused: what the log will hold then is not known (a hold may be settled, a spend made), and a
   * forecast from today's events would read as a fact. One less than a minute ahead is a caller's
   * clock running ahead of this server's: it is answered as of now.
   */
  async creditBalanceAt(workspaceId: string, at: Date): Promise<WorkspaceCreditsView> {
    const now = this.clock.now();
    if (at.getTime() > now.getTime() + CLOCK_SKEW_MS) {
      throw invalidCommand(
        `at (${at.toISOString()}) is in the future; the balance is known up to now (${now.toISOString()}): ask workspaceCredits for it.`,
      );
    }
    const instant = Math.min(at.getTime(), now.getTime());
    const state = initialState();
    // A long history is folded in slices, each in a turn of its own (fold-turns.ts): the fold runs
    // on the thread that answers everyone, and other requests (health probes too) go between two.
    // A turn is given back before the next slice is read: the embedded store reads it at once, in
    // the same pass of the event loop, and a slow read (EventStoreDB over the network) holds up
    // this fold only, not every other one. The first read starts in a pass of its own too, so that
    // a burst of these requests is not read all at once.
    (await this.turns.take(workspaceId))();
    let slice: WorkspaceCreditsEvent[] = [];
    const fold = async (): Promise<void> => {
      const release = await this.turns.take(workspaceId);
      try {
        for (const event of slice) evolve(state, event);
      } finally {
        release();
      }
      slice = [];
    };
    for await (const recorded of this.store.readStream(workspaceStreamName(workspaceId))) {
      const event = toWorkspaceCreditsEvent(recorded);
      if (!event) continue;
      // The stream's order is the order of cause: a spend comes after the grant it drew on. So the
      // balance at an instant is a prefix of the stream, up to the first event recorded later,
      // even where a clock that stepped back recorded a later event with an earlier time (taking
      // each event by its own time would fold that spend without its grant).
      if (Date.parse(occurredAt(event)) > instant) break;
      slice.push(event);
      if (slice.length === FOLD_SLICE) await fold();
    }
    if (slice.length > 0) await fold();
    const id = `${workspaceId}@${at.toISOString()}`;
    const after = expireDueHolds(state, workspaceId, instant).state;
    return this.view(workspaceId, after.grants.values(), after.period, after.alerts.rules, instant, id);
  }

  ledgerPage(workspaceId: string, options: LedgerFilter & LedgerWindow): LedgerPage {
    this.healthy('credit-ledger');
    return this.ledger.page(workspaceId, options);
  }

  ledgerEntries(workspaceId: string | undefined, filter: LedgerFilter): Generator<LedgerEntry> {
    return this.ledger.entries(workspaceId, filter);
  }

  purchases(workspaceId: string): CreditPurchaseView[] {
    this.healthy('credit-purchases');
    return this.purchasesReader.purchases(workspaceId);
  }

  purchasePage(
    workspaceId: string,
    options: Parameters<CreditPurchasesReader['page']>[1],
  ): ReturnType<CreditPurchasesReader['page']> {
    this.healthy('credit-purchases');
    return this.purchasesReader.page(workspaceId, options);
  }

  /**
   * Whether this server's read models know a purchase of that id, in that workspace or (without one)
   * in any (where to look only: nothing is decided on it).
   */
  hasPurchase(workspaceId: string | undefined, purchaseId: string): boolean {
    this.healthy('credit-purchases');
    return workspaceId === undefined
      ? this.purchasesReader.workspacesOfPurchase(purchaseId).length > 0
      : this.purchasesReader.purchase(workspaceId, purchaseId) !== undefined;
  }

  refund(workspaceId: string, refundId: string): PurchaseRefundView | undefined {
    this.healthy('credit-purchases');
    return this.purchasesReader.refund(workspaceId, refundId);
  }

  /** Paid checkouts that could not be credited, for admins. */
  uncreditedPayments(): UncreditedPaymentView[] {
    return this.purchasesReader.uncreditedPayments();
  }

  /** Payment-provider webhooks refused as invalid, for admins. */
  refusedProviderEvents(): RefusedProviderEventView[] {
    return this.purchasesReader.refusedProviderEvents();
  }

  /** The checkout once the payment provider has opened its page or refused to, or as it is after `timeoutMs`. */
  async settledCheckout(workspaceId: string, checkoutId: string, timeoutMs: number): Promise<CheckoutView | undefined> {
    this.healthy('credit-purchases');
    const settled = () => {
      const checkout = this.purchasesReader.checkout(workspaceId, checkoutId);
      return checkout && checkout.status !== 'STARTED' ? checkout : undefined;
    };
    return (await this.watch(settled, timeoutMs)) ?? this.purchasesReader.checkout(workspaceId, checkoutId);
  }

  /** The refund once the payment provider has answered for it, or as it is after `timeoutMs`. */
  async answeredRefund(
    workspaceId: string,
    refundId: string,
    timeoutMs: number,
  ): Promise<PurchaseRefundView | undefined> {
    this.healthy('credit-purchases');
    const answered = () => {
      const refund = this.purchasesReader.refund(workspaceId, refundId);
      return refund && refund.status !== 'REQUESTED' ? refund : undefined;
    };
    return (await this.watch(answered, timeoutMs)) ?? this.purchasesReader.refund(workspaceId, refundId);
  }

  usage(workspaceId: string, from: Date, to: Date, grouping: UsageGrouping): UsageTotal[] {
    this.healthy('credit-ledger');
    return this.ledger.usage(workspaceId, from, to, grouping);
  }

  private view(
    workspaceId: string,
    grants: Iterable<Grant>,
    period: CurrentPeriod | undefined,
    rules: AlertRules,
    now: number,
    id = workspaceId,
  ): WorkspaceCreditsView {
    const balance = creditBalance(grants, period?.grantId, now);
    const includedCredits = period?.credits ?? 0;
    const threshold = lowBalanceThreshold(rules, this.catalog.lowBalance, includedCredits);
    return {
      id,
      workspaceId,
      plan: period && { id: period.planId, name: period.planName, includedCredits },
      periodStart: period && new Date(period.periodStart),
      periodEnd: period && new Date(period.periodEnd),
      available: balance.available,
      held: balance.held,
      included: balance.included,
      purchased: balance.purchased,
      promotional: balance.promotional,
      lowBalance: balance.available < threshold,
      lowBalanceThreshold: threshold,
      grants: balance.grants.map((grant) => ({
        // At an instant (id `<workspace>@<instant>`), each grant is that instant's too.
        id: id === workspaceId ? grant.id : `${grant.id}${id.slice(workspaceId.length)}`,
        grantId: grant.id,
        source: grant.source,
        granted: grant.granted,
        remaining: grant.remaining,
        expiresAt: grant.expiresAt === undefined ? undefined : new Date(grant.expiresAt),
        grantedAt: new Date(grant.grantedAt),
      })),
    };
  }
}
