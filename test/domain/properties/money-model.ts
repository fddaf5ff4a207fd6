/**
 * A model of one workspace's money for property-based tests: random commands (plan allowances,
 * purchases by invoice and by checkout, promotional grants, spends, spends given back, admin
 * refunds, the provider's answers about them, refunds made in its dashboard, disputes, holds
 * reserved, settled, released and extended, expiry sweeps, alert rules, expiry notices, auto top-up
 * and clock steps), decided by the real decider on the real state, with the read models following
 * on an in-memory database; and the invariants that must hold after every step, the holds'
 * guarantee among them.
 */
import BetterSqlite3, { type Database } from 'better-sqlite3';
import fc from 'fast-check';
import { CreditAlertsReader, creditAlertsProjection } from '../../../projections/credit-alerts';
import { creditHoldsProjection } from '../../../projections/credit-holds';
import { CreditHoldsReader } from '../../../projections/credit-holds-reader';
import { creditLedgerProjection } from '../../../projections/credit-ledger';
import { creditPurchasesProjection } from '../../../projections/credit-purchases';
import { CreditPurchasesReader } from '../../../projections/credit-purchases-reader';
import type { ProjectionHandler } from '../../../projections/projection';
import { WorkspaceBalanceReader, workspaceBalanceProjection } from '../../../projections/workspace-balance';
import { thresholdOf } from '../../../src/domain/alerts';
import { DEFAULT_LOW_BALANCE_POLICY, depletionCleared, recoveryThreshold } from '../../../src/domain/alert-rules';
import { creditBalance, type CreditBucket } from '../../../src/domain/balance';
import type { WorkspaceCreditsCommand } from '../../../src/domain/commands';
import type { Drawdown, Grant } from '../../../src/domain/credits';
import { autoTopUpTerms, mayStillBePaid, monthOf } from '../../../src/domain/auto-top-up';
import { decide, MONEY_GOING_BACK } from '../../../src/domain/decide';
import { expireDueHolds } from '../../../src/domain/decisions/hold-expiries';
import { type CreditsError, isCreditsError } from '../../../src/domain/errors';
import type { AutoTopUpSettings, ProviderRefundFact, WorkspaceCreditsEvent } from '../../../src/domain/events';
import { evolve } from '../../../src/domain/evolve';
import { returnDueHolds } from '../../../src/domain/hold-returns';
import { settledFromBalance } from '../../../src/domain/holds';
import { holdKeysOf } from '../../../src/domain/holds-json';
import { isFullyRepaid, repaidBy } from '../../../src/domain/purchase-money';
import { initialState, type WorkspaceCreditsState } from '../../../src/domain/state';
import { encodeState } from '../../../src/domain/state-snapshot';
import type { RecordedEvent } from '../../../src/eventstore/port';
import { currentSchemaVersion } from '../../../src/events/upcasters';
import { workspaceStreamName } from '../../../src/events/workspace-stream';

export const WORKSPACE = 'ws-prop';
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const PACKAGES = [
  { packageId: 'p-500', packageName: '500 credits', credits: 500, price: { amount: 5000, currency: 'USD' } },
  { packageId: 'p-2000', packageName: '2,000 credits', credits: 2000, price: { amount: 18000, currency: 'USD' } },
  { packageId: 'p-odd', packageName: '3 credits', credits: 3, price: { amount: 1000, currency: 'USD' } },
] as const;

/*
 * The model's own statement of the rules (docs/events.md, README "How credits behave"), written
 * here rather than taken from src/domain, so that a slip in the domain's helpers (a grant live at
 * its expiry instant, a reversed drawdown order) shows up as a disagreement instead of being
 * checked against itself.
 */

/** A grant can be spent while `now < expiresAt`, has credits left and is not frozen by a dispute. */
const spendable = (grant: Grant, now: number): boolean =>
  grant.remaining > 0 && !grant.frozen && (grant.expiresAt === undefined || now < grant.expiresAt);

/** What the grants live at `now` have left: available, by the model's own rule. */
const availableAt = (grants: Iterable<Grant>, now: number): number => {
  let available = 0;
  for (const grant of grants) if (spendable(grant, now)) available += grant.remaining;
  return available;
};

/** A hold reserves while `now < expiresAt`; from that instant on its credits are back. */
const reservingAt = (hold: { status: string; expiresAt: number }, now: number): boolean =>
  hold.status === 'ACTIVE' && now < hold.expiresAt;

const SOURCE_ORDER: readonly Grant['source'][] = ['INCLUDED', 'PROMOTIONAL', 'PURCHASED'];

/** The documented drawdown order: soonest expiry first (never last), INCLUDED → PROMOTIONAL → PURCHASED, oldest. */
const drawnBefore = (a: Grant, b: Grant): number => {
  const expiry = (grant: Grant) => grant.expiresAt ?? Number.POSITIVE_INFINITY;
  if (expiry(a) !== expiry(b)) return expiry(a) < expiry(b) ? -1 : 1;
  return SOURCE_ORDER.indexOf(a.source) - SOURCE_ORDER.indexOf(b.source) || a.grantedAt - b.grantedAt || a.seq - b.seq;
};

/** The parts of an event drawn from the balance (not from a hold), and the instant they were drawn at. */
function drawnFromBalance(event: WorkspaceCreditsEvent): { parts: readonly Drawdown[]; at: string } | undefined {
  if (event.type === 'CreditsConsumed') return { parts: event.data.drawdown, at: event.data.consumedAt };
  if (event.type === 'CreditsReserved') return { parts: event.data.drawdown, at: event.data.reservedAt };
  if (event.type === 'CreditHoldSettled' && event.data.fromBalance) {
    return { parts: event.data.fromBalance, at: event.data.settledAt };
  }
  return undefined;
}

/**
 * A draw from the balance takes the grants live at its instant in the drawdown order, each
 * emptied before the next is touched: so its parts are the first grants of that order, all but
 * the last taken whole. `state` is the state just before the event.
 */
function drawdownBreak(state: WorkspaceCreditsState, event: WorkspaceCreditsEvent): string | undefined {
  const drawn = drawnFromBalance(event);
  if (!drawn) return undefined;
  const at = Date.parse(drawn.at);
  const order = [...state.grants.values()].filter((grant) => spendable(grant, at)).sort(drawnBefore);
  const show = (grant: Grant | undefined) =>
    grant && `${grant.id}@${grant.expiresAt}/${grant.source}/${grant.remaining}`;
  for (const [index, part] of drawn.parts.entries()) {
    const expected = order[index];
    const grant = state.grants.get(part.grantId);
    if (expected?.id !== part.grantId) {
      return `${event.type} drew part ${index} from ${show(grant) ?? part.grantId}; the drawdown order at ${drawn.at} says ${show(expected)} (live: ${order.map(show).join(', ')})`;
    }
    const whole = index < drawn.parts.length - 1;
    if (part.credits <= 0 || part.credits > expected.remaining || (whole && part.credits !== expected.remaining)) {
      return `${event.type} drew ${part.credits} of ${show(expected)} as part ${index} of ${drawn.parts.length}`;
    }
  }
  return undefined;
}

/** The state as the snapshot encodes it, and the holds' keys, which the snapshot leaves out. */
const fingerprint = (state: WorkspaceCreditsState): Buffer =>
  Buffer.concat([encodeState(state), Buffer.from(JSON.stringify([...state.holdKeys]))]);

/** decide(), checked to be pure: the state it is given is the same after it, whether it decides or refuses. */
function decidePurely(command: WorkspaceCreditsCommand, state: WorkspaceCreditsState): WorkspaceCreditsEvent[] {
  const given = fingerprint(state);
  const unchanged = (what: string): void => {
    if (!fingerprint(state).equals(given)) throw new Error(`${command.type} ${what} changed the state it was given`);
  };
  try {
    const events = decide(command, state);
    unchanged('decided, but');
    return events;
  } catch (error) {
    if (isCreditsError(error)) unchanged('was refused, but');
    throw error;
  }
}

/** The state once the holds due by `now` have given their credits back, as decide() sees it; the state given stays as it was. */
function withDueHoldsReturned(state: WorkspaceCreditsState, now: number): WorkspaceCreditsState {
  const given = fingerprint(state);
  const after = expireDueHolds(state, WORKSPACE, now).state;
  if (!fingerprint(state).equals(given)) throw new Error('returning due holds changed the state it was given');
  return after;
}

/** Every grant's counters, to see whether anything moved. */
const grantCounters = (state: WorkspaceCreditsState): string =>
  JSON.stringify([...state.grants.values()].map((g) => [g.id, g.remaining, g.consumed, g.expired, g.refunded, g.held]));

/** Events that move credits into, out of or between a grant's counters. */
const CREDIT_MOVES: ReadonlySet<WorkspaceCreditsEvent['type']> = new Set([
  'CreditsGranted',
  'CreditsPurchased',
  'PlanAllowanceApplied',
  'CreditsConsumed',
  'CreditConsumptionRefunded',
  'CreditsReserved',
  'CreditHoldSettled',
  'CreditHoldReleased',
  'PurchaseRefundRequested',
  'CreditPurchaseRefunded',
  'PurchaseRefundFailed',
  'PurchaseDisputeClosed',
]);

/** The provider's side of a payment: what was charged and what its refunds gave back, as it sees it. */
interface Payment {
  paymentIntentId: string;
  price: number;
  /** What crediting it takes, until a step credits it (facts about it may come first). */
  credit: WorkspaceCreditsCommand | undefined;
  refunds: Map<string, { amount: number; status: ProviderRefundFact['status'] }>;
  disputes: Map<string, 'OPEN' | 'WON' | 'LOST'>;
}

/** One workspace under test: its stream, its state as the decider folds it, and its read models. */
export class MoneyModel {
  now = T0;
  readonly events: WorkspaceCreditsEvent[] = [];
  readonly state: WorkspaceCreditsState = initialState();
  /**
   * The stream replayed as the store gives it back: each event folded, as appended, from a JSON
   * round trip of it (the store keeps an event's data as JSON), sharing nothing with the stream.
   */
  private readonly replayed: WorkspaceCreditsState = initialState();
  /** Spends made, with the drawdown they were recorded with. */
  readonly spends: { consumptionId: string; credits: number; drawdown: Drawdown[] }[] = [];
  readonly payments = new Map<string, Payment>();
  /** The commands run, in brief, for a counterexample to read (see history). */
  private readonly log: string[] = [];
  /** The last command that recorded something under an idempotency key: a retry repeats it. */
  private lastKeyed: WorkspaceCreditsCommand | undefined;
  /** Commands that are retries (retryOfLastKeyed), still to run. */
  private readonly retries = new Set<WorkspaceCreditsCommand>();
  /** Events of commands that moved the low-balance line (new rules, a new period under a percentage). */
  private readonly lineMovedBy = new Set<WorkspaceCreditsEvent>();
  private ids = 0;
  private readonly db: Database;
  private readonly handlers: ProjectionHandler[];
  private readonly balances: WorkspaceBalanceReader;
  private readonly purchases: CreditPurchasesReader;
  private readonly holds: CreditHoldsReader;
  private readonly alerts: CreditAlertsReader;

  constructor() {
    this.db = new BetterSqlite3(':memory:');
    const projections = [
      workspaceBalanceProjection,
      creditLedgerProjection,
      creditPurchasesProjection,
      creditHoldsProjection,
      creditAlertsProjection,
    ];
    for (const projection of projections) projection.migrate(this.db);
    this.handlers = projections.map((projection) => projection.prepare(this.db));
    this.balances = new WorkspaceBalanceReader(this.db);
    this.purchases = new CreditPurchasesReader(this.db);
    this.holds = new CreditHoldsReader(this.db);
    this.alerts = new CreditAlertsReader(this.db);
  }

  close(): void {
    this.db.close();
  }

  /** The commands run so far, one a line, with what each recorded. */
  history(): string {
    return this.log.join('\n');
  }

  id(prefix: string): string {
    return `${prefix}_${++this.ids}`;
  }

  /** Decides and, unless refused, appends and projects; returns the events (none when refused). */
  run(command: WorkspaceCreditsCommand): WorkspaceCreditsEvent[] {
    let events: WorkspaceCreditsEvent[];
    const brief = JSON.stringify({ ...command.data, workspaceId: undefined, now: undefined }).slice(0, 300);
    this.log.push(`+${(command.data.now.getTime() - T0) / HOUR} h ${command.type} ${brief}`);
    const thresholdBefore = this.threshold();
    const retry = this.retries.delete(command);
    const counters = retry ? grantCounters(this.state) : '';
    try {
      events = decidePurely(command, this.state);
    } catch (error) {
      if (!isCreditsError(error)) throw error;
      if (retry) throw new Error(`a retry of ${command.type} with its key was refused: ${String(error)}`);
      this.log.push(`  refused: ${error.code}`);
      this.checkRefusal(command, error);
      return [];
    }
    this.log.push(`  -> ${events.map((event) => event.type).join(', ') || 'nothing'}`);
    this.db.transaction(() => {
      for (const event of events) {
        const broken = drawdownBreak(this.state, event);
        if (broken) throw new Error(broken);
        evolve(this.state, event);
        evolve(this.replayed, JSON.parse(JSON.stringify(event)) as WorkspaceCreditsEvent);
        this.events.push(event);
        const recorded = this.recorded(event);
        for (const handler of this.handlers) handler.apply(recorded);
      }
      for (const handler of this.handlers) handler.endBatch?.();
    })();
    for (const event of events) {
      if (event.type === 'CreditsConsumed' || event.type === 'CreditHoldSettled') {
        const { consumptionId, credits, drawdown } = event.data;
        this.spends.push({ consumptionId, credits, drawdown });
      }
    }
    // What a spend, a hold or a settle says was left is what could be spent right after its append.
    const last = events.findLast(
      (event) =>
        event.type === 'CreditsConsumed' || event.type === 'CreditsReserved' || event.type === 'CreditHoldSettled',
    );
    if (last && 'availableAfter' in last.data) {
      const available = availableAt(this.state.grants.values(), command.data.now.getTime());
      if (last.data.availableAfter !== available) {
        throw new Error(`${last.type} says ${last.data.availableAfter} credits were left, not ${available}`);
      }
    }
    // Money goes back by the command, or by a refund or dispute reported earlier and applied with it.
    const moneyWentBack =
      MONEY_GOING_BACK.has(command.type) ||
      events.some((event) => event.type === 'PurchaseRefundRequested' || event.type === 'PurchaseDisputeOpened');
    if (moneyWentBack && events.some((event) => event.type === 'AutoTopUpRequested')) {
      throw new Error(`${command.type} charged the card: money going back to the buyer requests no top-up`);
    }
    const moved = events.filter((event) => CREDIT_MOVES.has(event.type)).map((event) => event.type);
    if (retry && (moved.length > 0 || grantCounters(this.state) !== counters)) {
      throw new Error(`a retry of ${command.type} with its key moved credits: ${moved.join(', ') || 'counters'}`);
    }
    if (events.length > 0 && 'idempotencyKey' in command.data && command.data.idempotencyKey !== undefined) {
      this.lastKeyed = command;
    }
    if (events.length > 0 && this.threshold() !== thresholdBefore) {
      for (const event of events) this.lineMovedBy.add(event);
    }
    if (events.length > 0) {
      this.checkAlertSide(command.data.now.getTime(), this.threshold() !== thresholdBefore);
      this.checkTopUpSide(command.data.now.getTime(), moneyWentBack);
      this.checkCreditedTopUp(command.data.now.getTime(), events, moneyWentBack);
    }
    return events;
  }

  /**
   * A spend refused for want of credits is one the credits live at its instant (by the model's own
   * rule, once the holds due by then have given theirs back) cannot cover.
   */
  private checkRefusal(command: WorkspaceCreditsCommand, error: CreditsError): void {
    if (command.type !== 'ConsumeCredits' || error.code !== 'INSUFFICIENT_CREDITS') return;
    const now = command.data.now.getTime();
    const available = availableAt(withDueHoldsReturned(this.state, now).grants.values(), now);
    const credits = command.data.units * command.data.creditsPerUnit;
    if (available >= credits) throw new Error(`a spend of ${credits} was refused with ${available} credits live`);
  }

  /**
   * The last command that recorded something under an idempotency key again, same key, same
   * payload, at the current instant (within a day: well inside the keys' window), after a sweep of
   * the expiries due by now, so that what moves only because time passed is not counted against
   * the retry. run() then checks its first result stands: it is not refused, and no credit moves.
   */
  retryOfLastKeyed(): WorkspaceCreditsCommand[] {
    const command = this.lastKeyed;
    if (!command || this.now - command.data.now.getTime() > DAY) return [];
    const retried = { ...command, data: { ...command.data, now: new Date(this.now) } } as WorkspaceCreditsCommand;
    this.retries.add(retried);
    return [{ type: 'ExpireCredits', data: data(this) }, retried];
  }

  /** The low-balance threshold as the state has it now. */
  private threshold(): number {
    return thresholdOf(this.state, DEFAULT_LOW_BALANCE_POLICY);
  }

  private checkAlertSide(now: number, thresholdMoved: boolean): void {
    const { alerts, grants } = this.state;
    if (!alerts.everFunded) return;
    const available = availableAt(grants.values(), now);
    const threshold = this.threshold();
    // Low below the threshold; not low past its band (recoveryThreshold), nor at or above a
    // threshold the command just moved (never at zero, though); inside the band, whatever it was
    // (hysteresis).
    const mustBeLow = available < threshold;
    const mayBeLow = mustBeLow || ((!thresholdMoved || available === 0) && available < recoveryThreshold(threshold));
    if ((mustBeLow && !alerts.low) || (!mayBeLow && alerts.low)) {
      throw new Error(`alert state low=${alerts.low} but ${available} available against a threshold of ${threshold}`);
    }
    // Depleted at zero; not depleted once the band is back, whatever the threshold.
    if (available >= depletionCleared(threshold) && alerts.depleted) {
      throw new Error(
        `still depleted with ${available} available, the band over zero being ${depletionCleared(threshold)}`,
      );
    }
    if (available === 0 && !alerts.depleted) throw new Error('nothing is available but no depletion was recorded');
  }

  /**
   * After any command that recorded something, auto top-up (on and not paused) is armed when
   * available is at its threshold, and below it has decided the crossing (requested or skipped)
   * unless a top-up is still being charged, or the command returned money to the buyer (a refund or
   * a dispute charges nothing; the next change below the line does). Held credits are out of
   * available here as everywhere.
   */
  private checkTopUpSide(now: number, moneyWentBack: boolean): void {
    const { settings, paused, armed, topUps, card } = this.state.autoTopUp;
    // Consent is for the settings and the card in force: a top-up still to be charged has both.
    for (const topUp of topUps.values()) {
      if (topUp.status !== 'REQUESTED') continue;
      if (!settings?.enabled || card?.paymentMethodId !== topUp.paymentMethodId) {
        throw new Error(
          `top-up ${topUp.topUpId} is still to be charged on ${topUp.paymentMethodId}, with auto top-up ` +
            `${settings?.enabled ? 'on' : 'off'} and ${card ? `card ${card.paymentMethodId}` : 'no card'} saved`,
        );
      }
    }
    if (!settings?.enabled || paused) return;
    const available = availableAt(this.state.grants.values(), now);
    if (available >= settings.thresholdCredits && !armed) {
      throw new Error(`auto top-up is not re-armed with ${available} available, at its threshold`);
    }
    const charging = [...topUps.values()].some(mayStillBePaid);
    if (available < settings.thresholdCredits && armed && !charging && !moneyWentBack) {
      throw new Error(`${available} available is below the top-up threshold, but no top-up was decided`);
    }
    const { limitSkippedIn } = this.state.autoTopUp;
    const limitSkippedEarlier = limitSkippedIn !== undefined && limitSkippedIn !== monthOf(now);
    if (available < settings.thresholdCredits && !armed && limitSkippedEarlier && !charging && !moneyWentBack) {
      throw new Error(`still waiting on the limit of ${limitSkippedIn} in ${monthOf(now)}, below the threshold`);
    }
  }

  /**
   * A top-up credited while available is still below the threshold (spent meanwhile, or a package
   * short of it) re-arms at once: the next top-up is decided in the same append, unless one is in
   * flight or the money went back to the buyer. Left waiting for a rise, the balance would run dry.
   */
  private checkCreditedTopUp(now: number, events: readonly WorkspaceCreditsEvent[], moneyWentBack: boolean): void {
    const { settings, paused, topUps } = this.state.autoTopUp;
    if (!settings?.enabled || paused || moneyWentBack) return;
    const credit = events.find(
      (event): event is Extract<WorkspaceCreditsEvent, { type: 'CreditsPurchased' }> =>
        event.type === 'CreditsPurchased' && 'autoTopUpId' in event.data.payment,
    );
    if (!credit || !('autoTopUpId' in credit.data.payment)) return;
    const topUp = topUps.get(credit.data.payment.autoTopUpId);
    // Only one that would have reached the threshold had nothing been spent meanwhile chains.
    if (!topUp || topUp.available + topUp.credits < settings.thresholdCredits) return;
    if (availableAt(this.state.grants.values(), now) >= settings.thresholdCredits) return;
    const decided = events.some((event) => event.type === 'AutoTopUpRequested' || event.type === 'AutoTopUpSkipped');
    const charging = [...topUps.values()].some(mayStillBePaid);
    if (!decided && !charging) throw new Error('a top-up was credited below the threshold, and no next one decided');
  }

  private recorded(event: WorkspaceCreditsEvent): RecordedEvent {
    const position = BigInt(this.events.length);
    return {
      id: `event-${position}`,
      streamName: workspaceStreamName(WORKSPACE),
      type: event.type,
      data: event.data,
      metadata: { actorId: 'property' },
      schemaVersion: currentSchemaVersion(event.type),
      revision: position - 1n,
      position,
      recordedAt: new Date(this.now),
    };
  }

  /** Every rule that must hold after every step; throws with what broke. */
  checkInvariants(): void {
    const now = this.now;
    const state = this.state;
    const expect = (ok: boolean, what: string): void => {
      if (!ok) throw new Error(`${what} (after ${this.events.length} events at +${(now - T0) / HOUR} h)`);
    };
    for (const grant of state.grants.values()) {
      const parts = [grant.remaining, grant.consumed, grant.expired, grant.refunded, grant.held];
      expect(
        parts.every((part) => Number.isSafeInteger(part) && part >= 0),
        `grant ${grant.id} has a negative counter`,
      );
      const sum = grant.consumed + grant.expired + grant.refunded + grant.held + grant.remaining;
      expect(sum === grant.granted, `grant ${grant.id} does not add up: ${JSON.stringify(grant)}`);
    }
    // A grant is frozen exactly while a dispute of its purchase is open.
    const disputed = new Set(
      [...state.purchases.values()].filter((p) => p.openDisputeId !== undefined).map((p) => p.grantId),
    );
    for (const grant of state.grants.values()) {
      expect(grant.frozen === disputed.has(grant.id), `grant ${grant.id} frozen=${grant.frozen} against its disputes`);
    }

    const balance = creditBalance(state.grants.values(), state.period?.grantId, now);
    const available = availableAt(state.grants.values(), now);
    expect(
      balance.available === available,
      `the balance says ${balance.available} available, the grants live at the instant have ${available}`,
    );
    const buckets = [balance.included, balance.purchased, balance.promotional];
    expect(
      buckets.reduce((sum, bucket) => sum + bucket.remaining, 0) === balance.available,
      `the buckets do not add up to available: ${JSON.stringify(balance)}`,
    );
    for (const bucket of buckets) expect(bucketAddsUp(bucket), `a bucket does not add up: ${JSON.stringify(bucket)}`);

    for (const purchase of state.purchases.values()) {
      const grant = state.grants.get(purchase.grantId);
      const what = `purchase ${purchase.purchaseId}`;
      expect(purchase.amountReturned >= 0, `${what} returned a negative amount of money`);
      expect(
        purchase.creditsRepaid >= 0 && purchase.creditsRepaid <= purchase.credits,
        `${what} repaid more credits than bought`,
      );
      expect((grant?.refunded ?? 0) <= purchase.credits, `${what} took back more credits than bought`);
      expect(purchase.creditsOwed >= 0, `${what} owes a negative number of credits`);
      expect(
        purchase.creditsLapsed >= 0 && purchase.creditsLapsed <= (grant?.expired ?? 0),
        `${what} counts ${purchase.creditsLapsed} credits lapsed for its money, beyond what expired`,
      );
      const backs = [
        ...[...state.purchaseRefunds.values()]
          .filter(
            (refund) =>
              refund.purchaseId === purchase.purchaseId && refund.status !== 'FAILED' && refund.status !== 'CANCELED',
          )
          // As the domain counts them: an admin's refund names its credits (purchase-money.ts repaidBy).
          .map((refund) => ({
            amount: refund.amount.amount,
            paysFor: refund.paysFor,
            namesCredits: refund.origin === 'ADMIN',
          })),
        ...[...state.disputes.values()]
          .filter((dispute) => dispute.purchaseId === purchase.purchaseId && dispute.status === 'LOST')
          .map((dispute) => dispute.lost),
      ];
      const returned = backs.reduce((sum, back) => sum + back.amount, 0);
      expect(
        returned === purchase.amountReturned,
        `${what} money returned ${purchase.amountReturned} is not its returns' ${returned}`,
      );
      expect(
        repaidBy(purchase, backs) === purchase.creditsRepaid,
        `${what} repaid credits are not those its returns pay for`,
      );
      if (grant && isFullyRepaid(purchase)) {
        expect(grant.remaining === 0, `${what} was repaid in full but still has ${grant.remaining} credits`);
      }
      if (grant && purchase.creditsOwed > 0 && (grant.expiresAt === undefined || now < grant.expiresAt)) {
        expect(grant.remaining === 0, `${what} owes credits while ${grant.remaining} could be taken back`);
      }
      // Owed credits are spent ones whose money went back (or ones a running action holds, until
      // its hold ends): never more than the grant's spent and held credits. Credits that expired
      // unspent were never used, so money going back for them is not owed.
      expect(
        purchase.creditsOwed <= (grant ? grant.consumed + grant.held : 0),
        `${what} owes ${purchase.creditsOwed} credits, but its grant spent ${grant?.consumed} and holds ${grant?.held}: ${JSON.stringify(grant)}`,
      );
    }

    // One alert per crossing: low and recovered alternate (a depletion alone, with a threshold of 0,
    // is recovered from too), one depletion at most in between, one
    // notice per grant, and only for a grant with credits left within its notice period.
    let low = false;
    let depleted = false;
    /** The threshold of the crossing that made the workspace low (or depleted it, with a threshold of 0). */
    let lowAt: number | undefined;
    const noticed = new Set<string>();
    for (const [index, event] of this.events.entries()) {
      if (event.type === 'CreditsLow') {
        expect(!low, 'two CreditsLow without a CreditsRecovered between them');
        lowAt = event.data.threshold;
        expect(
          this.events[index - 1]?.type !== 'CreditsDepleted',
          'CreditsLow right after CreditsDepleted: a receiver keeping the last one would end low',
        );
        low = true;
      } else if (event.type === 'CreditsRecovered') {
        expect(low || depleted, 'CreditsRecovered without a CreditsLow or CreditsDepleted before it');
        const { available, threshold, stillLow } = event.data;
        if (stillLow === true) {
          // Out of depletion, not out of the low band: the band over zero, and still short of recovery.
          expect(depleted, 'a stillLow CreditsRecovered without a depletion to leave');
          expect(
            available >= depletionCleared(threshold) && available < recoveryThreshold(threshold),
            `left depletion at ${available} against a threshold of ${threshold}`,
          );
        } else {
          // Hysteresis: only past the band above the line, so a balance wavering about it stays
          // low; or at or above a line moved since the crossing that made it low, or moved by the
          // command that recovers (back to where it was, after a move); never at zero.
          // A line the recovering command itself moved is judged alone too (alerts.ts crossingsAfter).
          const moved = threshold !== lowAt || this.lineMovedBy.has(event);
          const line = moved ? threshold : recoveryThreshold(threshold);
          expect(available >= line && available > 0, `recovered at ${available}, inside the band over ${threshold}`);
        }
        low = stillLow === true;
        depleted = false;
      } else if (event.type === 'CreditsDepleted') {
        expect(!depleted, 'two CreditsDepleted without a CreditsRecovered between them');
        if (!low) lowAt = event.data.threshold;
        depleted = true;
      } else if (event.type === 'CreditsExpiringSoon') {
        const { grantId, credits, heldCredits, expiresAt, noticedAt } = event.data;
        expect(!noticed.has(grantId), `grant ${grantId} was noticed twice`);
        noticed.add(grantId);
        expect(
          credits + (heldCredits ?? 0) > 0 && Date.parse(expiresAt) > Date.parse(noticedAt),
          `notice of ${grantId} is not due`,
        );
      }
    }
    const alertEvents = this.events.filter((event) =>
      ['CreditsLow', 'CreditsDepleted', 'CreditsRecovered', 'CreditsExpiringSoon'].includes(event.type),
    );
    expect(
      this.alerts.recent(WORKSPACE, 10_000).length === alertEvents.length,
      'the alerts read model does not list every alert',
    );
    expect(
      JSON.stringify(this.alerts.rules(WORKSPACE).rules) === JSON.stringify(state.alerts.rules),
      'the alerts read model has other rules than the stream',
    );

    // Auto top-up: one request per crossing (re-armed, reconfigured or a new card in between), one
    // in flight at a time, never past the monthly limit in force, each credited at most once.
    let mayRequest = true;
    let settings: AutoTopUpSettings | undefined;
    const topUps = new Map<string, { month: string; amount: number; failed: boolean }>();
    const credited = new Set<string>();
    for (const event of this.events) {
      switch (event.type) {
        case 'AutoTopUpConfigured':
          settings = event.data.settings;
          mayRequest = true;
          break;
        case 'PaymentMethodSaved':
        case 'AutoTopUpRearmed':
          mayRequest = true;
          break;
        case 'AutoTopUpSkipped':
          expect(mayRequest, 'a second top-up decision for one crossing');
          mayRequest = false;
          break;
        case 'AutoTopUpRequested': {
          expect(mayRequest, 'a second top-up decision for one crossing');
          mayRequest = false;
          const pending = [...topUps.entries()].filter(([id, topUp]) => !topUp.failed && !credited.has(id));
          expect(pending.length === 0, `top-up ${event.data.topUpId} requested while ${pending[0]?.[0]} is in flight`);
          const { month, amount } = event.data;
          const charged = [...topUps.values()]
            .filter((topUp) => topUp.month === month && !topUp.failed)
            .reduce((sum, topUp) => sum + topUp.amount, 0);
          expect(
            settings !== undefined && charged + amount.amount <= settings.monthlyLimit.amount,
            `top-up ${event.data.topUpId} passes the monthly limit: ${charged} + ${amount.amount}`,
          );
          topUps.set(event.data.topUpId, { month, amount: amount.amount, failed: false });
          break;
        }
        case 'AutoTopUpFailed': {
          const topUp = topUps.get(event.data.topUpId);
          if (topUp && event.data.retryAt === null && !credited.has(event.data.topUpId)) topUp.failed = true;
          break;
        }
        case 'AutoTopUpCanceled':
          // Still in flight, and counted: a charge made just before it may yet be paid. It leaves
          // flight with the outcome recorded after it (AutoTopUpFailed, afterCancel) or its payment.
          break;
        case 'CreditsPurchased':
          if ('autoTopUpId' in event.data.payment) {
            const id = event.data.payment.autoTopUpId;
            expect(!credited.has(id), `top-up ${id} credited twice`);
            credited.add(id);
            const topUp = topUps.get(id);
            if (topUp) topUp.failed = false; // paid after all: it counts
          }
          break;
        default:
          break;
      }
    }

    // The state equals the fold of its events as the store gives them back, and encodes the same
    // way, the snapshot's form.
    const folded = this.replayed;
    expect(encodeState(folded).equals(encodeState(state)), 'the state is not the fold of its stored events');
    // The snapshot leaves the holds' keys out and rebuilds them from the holds: they must be that.
    const keys = (map: ReadonlyMap<string, string>): string => JSON.stringify([...map].sort());
    expect(
      keys(state.holdKeys) === keys(folded.holdKeys) &&
        keys(state.holdKeys) === keys(holdKeysOf(state.closedHolds.values(), state.activeHolds)),
      `the holds' keys ${keys(state.holdKeys)} are not the fold's, or not those of its holds`,
    );

    this.checkHolds(expect);

    // The read models say what the decider says, at the instant: holds past their expiry given
    // back by the query as the decider will record it.
    const atNow = withDueHoldsReturned(state, now);
    const decided = creditBalance(atNow.grants.values(), atNow.period?.grantId, now);
    // Held credits are those of the holds reserving at the instant, and out of available, which
    // is what the live grants have left: never negative.
    const reserving = [...state.activeHolds.values()].filter((hold) => reservingAt(hold, now));
    const heldNow = reserving.reduce((sum, hold) => sum + hold.credits, 0);
    expect(decided.held === heldNow, `the balance holds ${decided.held}, the holds reserving now ${heldNow}`);
    const liveNow = availableAt(atNow.grants.values(), now);
    expect(
      decided.available === liveNow && decided.available >= 0,
      `available ${decided.available} is not the ${liveNow} the live grants have left once held credits are out`,
    );
    const read = this.balances.workspace(WORKSPACE);
    const termsOf = (grant: Grant) => read.terms.get(grant.id) ?? { replaced: false, money: undefined };
    const projected = creditBalance(returnDueHolds(read.grants, read.holds, termsOf, now), read.period?.grantId, now);
    expect(
      JSON.stringify({ ...projected, grants: projected.grants.map((grant) => grant.id) }) ===
        JSON.stringify({ ...decided, grants: decided.grants.map((grant) => grant.id) }),
      `the projected balance ${JSON.stringify(projected)} is not the decider's ${JSON.stringify(decided)}`,
    );
    for (const view of this.purchases.purchases(WORKSPACE)) {
      const purchase = state.purchases.get(view.id);
      const grant = purchase && state.grants.get(purchase.grantId);
      expect(
        purchase !== undefined &&
          view.refundedAmount?.amount === Math.min(purchase.amountReturned, purchase.price.amount) &&
          view.creditsOwed === purchase.creditsOwed &&
          view.creditsLeft === (grant ? grant.remaining + grant.held : undefined),
        `the purchases read model disagrees on ${view.id}: ${JSON.stringify(view)} / ${JSON.stringify(purchase)}`,
      );
    }
    const lastEntry = this.db
      .prepare<[string], { balance_after: number }>(
        'SELECT balance_after FROM ledger_entries WHERE workspace_id = ? ORDER BY position DESC LIMIT 1',
      )
      .get(WORKSPACE);
    const held = [...state.grants.values()].reduce((sum, grant) => sum + grant.remaining, 0);
    expect((lastEntry?.balance_after ?? 0) === held, `the ledger's balance ${lastEntry?.balance_after} is not ${held}`);
  }
  /**
   * Held credits are exactly the active holds' (each grant's `held` is the sum of the parts held
   * there), every hold the decider knows reads the same in the holds read model, and the
   * guarantee: every hold still reserving can settle all it holds, and any part of it.
   */
  private checkHolds(expect: (ok: boolean, what: string) => void): void {
    const { state, now } = this;
    const heldIn = new Map<string, number>();
    for (const hold of state.activeHolds.values()) {
      for (const part of hold.drawdown) heldIn.set(part.grantId, (heldIn.get(part.grantId) ?? 0) + part.credits);
    }
    for (const grant of state.grants.values()) {
      expect(
        grant.held === (heldIn.get(grant.id) ?? 0),
        `grant ${grant.id} holds ${grant.held}, its holds ${heldIn.get(grant.id) ?? 0}`,
      );
    }
    for (const hold of [...state.activeHolds.values(), ...state.closedHolds.values()]) {
      const view = this.holds.hold(hold.holdId, now);
      expect(
        view !== undefined &&
          view.status === (reservingAt(hold, now) ? 'ACTIVE' : hold.status === 'ACTIVE' ? 'EXPIRED' : hold.status) &&
          view.credits === hold.credits &&
          view.expiresAt.getTime() === hold.expiresAt &&
          view.settledCredits === hold.settlement?.credits,
        `the holds read model disagrees on ${hold.holdId}: ${JSON.stringify({ ...view, position: undefined })} / ${JSON.stringify(hold)}`,
      );
    }
    for (const hold of state.activeHolds.values()) {
      if (!reservingAt(hold, now)) continue;
      for (const units of new Set([hold.units, 1, Math.ceil(hold.units / 2)])) {
        const settle: WorkspaceCreditsCommand = {
          type: 'SettleCreditHold',
          data: {
            ...data(this),
            holdId: hold.holdId,
            idempotencyKey: `guarantee-${units}`,
            units,
            takeExcessFromBalance: false,
            consumptionId: 'guarantee',
            actorId: 'property',
          },
        };
        let settled: WorkspaceCreditsEvent[] = [];
        try {
          settled = decidePurely(settle, state);
        } catch (error) {
          expect(false, `hold ${hold.holdId} could not settle ${units} units: ${String(error)}`);
        }
        const event = settled.find((candidate) => candidate.type === 'CreditHoldSettled');
        expect(
          event?.type === 'CreditHoldSettled' &&
            settledFromBalance(event.data).length === 0 &&
            event.data.credits === units * hold.creditsPerUnit,
          `hold ${hold.holdId} settled ${units} units other than from what it held`,
        );
      }
    }
  }
}

const bucketAddsUp = (bucket: CreditBucket): boolean =>
  bucket.granted ===
  bucket.consumed + bucket.expired + bucket.refunded + bucket.held + bucket.disputed + bucket.remaining;

// ------------------------------------------------------------------------------------- commands

/** A step: given the model, the commands it runs (none when there is nothing to pick from). */
export type Step = (model: MoneyModel) => WorkspaceCreditsCommand[];

const data = (model: MoneyModel) => ({ workspaceId: WORKSPACE, now: new Date(model.now) });
const pick = <T>(items: readonly T[], index: number): T | undefined =>
  items.length === 0 ? undefined : items[index % items.length];

/** Every instant at which something known expires: the grants, the active holds, the period's end. */
function expiryInstants(model: MoneyModel): number[] {
  const { grants, activeHolds, period } = model.state;
  const instants = new Set<number>();
  for (const grant of grants.values()) if (grant.expiresAt !== undefined) instants.add(grant.expiresAt);
  for (const hold of activeHolds.values()) instants.add(hold.expiresAt);
  if (period) instants.add(period.periodEnd);
  return [...instants].sort((a, b) => a - b);
}

/**
 * Expiries are drawn as often on a coarse grid (every GRID from T0), or at an instant something
 * already expires at, as anywhere: then several grants, a hold and a period end often expire at
 * one instant, and toExpiry steps the clock onto it.
 */
const GRID = 6 * HOUR;
const onGrid = (model: MoneyModel, steps: number): number => Math.ceil((model.now + 1) / GRID) * GRID + steps * GRID;

/** When something expires: after some time, `grid` steps of the grid ahead, or with something else. */
type Expiry = { in: number } | { grid: number } | { shared: number };
const expiry = (min: number, max: number, gridSteps: number): fc.Arbitrary<Expiry> =>
  fc.oneof(
    fc.integer({ min, max }).map((ms) => ({ in: ms })),
    fc.integer({ min: 0, max: gridSteps }).map((steps) => ({ grid: steps })),
    fc.nat().map((index) => ({ shared: index })),
  );
/** The instant `when` says, a shared one no later than `latest` ahead (else the next grid instant). */
function instantOf(model: MoneyModel, when: Expiry, latest = Number.POSITIVE_INFINITY): number {
  if ('in' in when) return model.now + when.in;
  if ('grid' in when) return onGrid(model, when.grid);
  const ahead = expiryInstants(model).filter((instant) => instant > model.now && instant <= model.now + latest);
  return ahead[when.shared % Math.max(1, ahead.length)] ?? onGrid(model, 0);
}

const allowance = fc
  .record({
    back: fc.integer({ min: 0, max: 2 * DAY }),
    ends: expiry(HOUR, 40 * DAY, 8),
    credits: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ back, ends, credits }): Step => (model) => [
    {
      type: 'ApplyPlanAllowance',
      data: {
        ...data(model),
        grantId: model.id('allowance'),
        planId: 'plan',
        planName: 'Plan',
        credits,
        periodStart: new Date(Math.max(model.now - back, model.state.period?.periodStart ?? 0)),
        periodEnd: new Date(instantOf(model, ends)),
      },
    },
  ]);

const invoice = fc
  .record({
    reference: fc.constantFrom('INV-1', 'INV-2', 'INV-3'),
    pack: fc.nat(),
    expires: fc.option(expiry(1, 20 * DAY, 8)),
  })
  .map(({ reference, pack, expires }): Step => (model) => {
    const offer = pick(PACKAGES, pack) as (typeof PACKAGES)[number];
    return [
      {
        type: 'PurchaseCredits',
        data: {
          ...data(model),
          grantId: model.id('invoice'),
          purchaseId: reference,
          packageId: offer.packageId,
          packageName: offer.packageName,
          credits: offer.credits,
          price: offer.price,
          payment: { provider: 'MANUAL', reference },
          ...(expires !== null && { expiresAt: new Date(instantOf(model, expires)) }),
          purchasedBy: 'admin',
        },
      },
    ];
  });

/**
 * A checkout paid at the provider: the offer is recorded and the payment page opened; the payment is
 * credited by a later step, so that facts about it (refunds, disputes) may arrive before it.
 */
const checkout = fc
  .record({ pack: fc.nat(), expiresAfterDays: fc.option(fc.integer({ min: 1, max: 30 })) })
  .map(({ pack, expiresAfterDays }): Step => (model) => {
    const base = pick(PACKAGES, pack) as (typeof PACKAGES)[number];
    const offer = { ...base, ...(expiresAfterDays !== null && { expiresAfterDays }) };
    const checkoutId = model.id('checkout');
    const sessionId = model.id('cs');
    const paymentIntentId = model.id('pi');
    model.payments.set(paymentIntentId, {
      paymentIntentId,
      price: offer.price.amount,
      credit: {
        type: 'CreditPaidCheckout',
        data: {
          ...data(model),
          sessionId,
          checkoutId,
          paymentIntentId,
          amountPaid: offer.price,
          grantId: model.id('purchase'),
          purchasedBy: 'manager',
        },
      },
      refunds: new Map(),
      disputes: new Map(),
    });
    return [
      { type: 'StartCheckout', data: { ...data(model), checkoutId, offer, startedBy: 'manager' } },
      {
        type: 'RecordCheckoutSession',
        data: {
          ...data(model),
          checkoutId,
          outcome: 'OPENED',
          sessionId,
          url: 'https://pay',
          expiresAt: new Date(model.now + DAY),
        },
      },
    ];
  });

/** The provider's word that a checkout was paid reaches the service (maybe after news of refunds). */
const creditCheckout = fc.nat().map((index): Step => (model) => {
  const payment = pick(
    [...model.payments.values()].filter((candidate) => candidate.credit),
    index,
  );
  const credit = payment?.credit;
  if (!payment || !credit) return [];
  payment.credit = undefined;
  return [{ ...credit, data: { ...credit.data, now: new Date(model.now) } } as WorkspaceCreditsCommand];
});

const promotion = fc
  .record({ credits: fc.integer({ min: 1, max: 500 }), expires: fc.option(expiry(1, 20 * DAY, 8)) })
  .map(({ credits, expires }): Step => (model) => [
    {
      type: 'GrantCredits',
      data: {
        ...data(model),
        grantId: model.id('promo'),
        idempotencyKey: model.id('promo-key'),
        credits,
        reason: 'goodwill',
        ...(expires !== null && { expiresAt: new Date(instantOf(model, expires)) }),
        grantedBy: 'admin',
      },
    },
  ]);

const spend = fc
  .record({ units: fc.integer({ min: 1, max: 20 }), rate: fc.constantFrom(1, 7, 21, 100) })
  .map(({ units, rate }): Step => (model) => [
    {
      type: 'ConsumeCredits',
      data: {
        ...data(model),
        consumptionId: model.id('spend'),
        idempotencyKey: model.id('spend-key'),
        action: 'PERSON_ENRICHMENT',
        units,
        creditsPerUnit: rate,
        actorId: 'member',
      },
    },
  ]);

const giveSpendBack = fc.nat().map((index): Step => (model) => {
  const chosen = pick(model.spends, index);
  if (!chosen) return [];
  return [
    {
      type: 'RefundCreditConsumption',
      data: {
        ...data(model),
        consumptionId: chosen.consumptionId,
        spend: { credits: chosen.credits, drawdown: chosen.drawdown },
        reason: 'run failed',
        refundedBy: 'admin',
      },
    },
  ];
});

const adminRefund = fc
  .record({
    index: fc.nat(),
    credits: fc.option(fc.integer({ min: 1, max: 2000 })),
    key: fc.option(fc.constantFrom('k1', 'k2')),
  })
  .map(({ index, credits, key }): Step => (model) => {
    const purchase = pick([...model.state.purchases.values()], index);
    if (!purchase) return [];
    return [
      {
        type: 'RequestPurchaseRefund',
        data: {
          ...data(model),
          refundId: model.id('refund'),
          purchaseId: purchase.purchaseId,
          ...(credits !== null && { credits }),
          reason: 'customer request',
          ...(key !== null && { idempotencyKey: key }),
          requestedBy: 'admin',
        },
      },
    ];
  });

const STATUSES = ['PENDING', 'REQUIRES_ACTION', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const;

/** The provider answers about one of our refunds (in any order, any number of times). */
const answerRefund = fc
  .record({ index: fc.nat(), status: fc.constantFrom(...STATUSES) })
  .map(({ index, status }): Step => (model) => {
    const ours = [...model.state.purchaseRefunds.values()].filter((refund) => {
      const purchase = model.state.purchases.get(refund.purchaseId);
      return refund.origin === 'ADMIN' && purchase?.payment.provider === 'STRIPE';
    });
    const refund = pick(ours, index);
    const purchase = refund && model.state.purchases.get(refund.purchaseId);
    if (!refund || purchase?.payment.provider !== 'STRIPE') return [];
    const payment = model.payments.get(purchase.payment.paymentIntentId);
    const providerRefundId = `re_${refund.refundId}`;
    payment?.refunds.set(providerRefundId, { amount: refund.amount.amount, status });
    return [
      {
        type: 'RecordProviderRefund',
        data: {
          ...data(model),
          paymentIntentId: purchase.payment.paymentIntentId,
          refund: {
            providerRefundId,
            refundId: refund.refundId,
            amount: refund.amount.amount,
            currency: 'USD',
            status,
          },
          recordedBy: 'stripe',
        },
      },
    ];
  });

/** A refund made in the provider's dashboard, or news of one, within what the provider still holds. */
const dashboardRefund = fc
  .record({
    index: fc.nat(),
    share: fc.constantFrom(0.1, 0.5, 0.9, 1),
    status: fc.constantFrom(...STATUSES),
    again: fc.boolean(),
  })
  .map(({ index, share, status, again }): Step => (model) => {
    const payment = pick([...model.payments.values()], index);
    if (!payment) return [];
    const existing = [...payment.refunds.entries()].filter(([id]) => id.startsWith('re_dash'));
    if (again && existing.length > 0) {
      const [providerRefundId, refund] = existing[index % existing.length] as [string, { amount: number }];
      return [dashboardFact(model, payment, providerRefundId, refund.amount, status)];
    }
    const held = [...payment.refunds.values()]
      .filter((refund) => refund.status !== 'FAILED' && refund.status !== 'CANCELED')
      .reduce((sum, refund) => sum + refund.amount, 0);
    const room = payment.price - held;
    const amount = Math.floor(room * share);
    if (amount < 1) return [];
    const providerRefundId = model.id('re_dash');
    payment.refunds.set(providerRefundId, { amount, status });
    return [dashboardFact(model, payment, providerRefundId, amount, status)];
  });

function dashboardFact(
  model: MoneyModel,
  payment: Payment,
  providerRefundId: string,
  amount: number,
  status: ProviderRefundFact['status'],
): WorkspaceCreditsCommand {
  return {
    type: 'RecordProviderRefund',
    data: {
      ...data(model),
      paymentIntentId: payment.paymentIntentId,
      refund: { providerRefundId, amount, currency: 'USD', status },
      recordedBy: 'stripe',
    },
  };
}

const dispute = fc
  .record({
    index: fc.nat(),
    status: fc.constantFrom<'OPEN' | 'WON' | 'LOST'>('OPEN', 'WON', 'LOST'),
    share: fc.double({ min: 0.1, max: 1, noNaN: true }),
  })
  .map(({ index, status, share }): Step => (model) => {
    const payment = pick([...model.payments.values()], index);
    if (!payment) return [];
    const disputeId = [...payment.disputes.keys()][0] ?? model.id('dp');
    payment.disputes.set(disputeId, status);
    return [
      {
        type: 'RecordProviderDispute',
        data: {
          ...data(model),
          paymentIntentId: payment.paymentIntentId,
          dispute: {
            disputeId,
            amount: Math.max(1, Math.floor(payment.price * share)),
            currency: 'USD',
            status,
            reason: 'fraudulent',
          },
          recordedBy: 'stripe',
        },
      },
    ];
  });

const sweep = fc.constant<Step>((model) => [{ type: 'ExpireCredits', data: data(model) }]);

const notice = fc.constant<Step>((model) => [{ type: 'NoticeExpiringCredits', data: data(model) }]);

const CARD = { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 };

/** The provider's answer to a card setup: the card saved (a new one each time), or removed. */
const card = fc
  .oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 })
  .map((save): Step => (model) => [
    save
      ? {
          type: 'RecordPaymentMethodSetup',
          data: {
            ...data(model),
            outcome: 'SAVED',
            setupId: null,
            customerId: 'cus_prop',
            paymentMethodId: model.id('pm'),
            card: CARD,
          },
        }
      : { type: 'RemovePaymentMethod', data: { ...data(model), removedBy: 'manager' } },
  ]);

const autoTopUp = fc
  .record({
    enabled: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
    threshold: fc.integer({ min: 1, max: 800 }),
    pack: fc.nat(),
    target: fc.option(fc.integer({ min: 1, max: 1500 })),
    charges: fc.integer({ min: 1, max: 4 }),
  })
  .map(({ enabled, threshold, pack, target, charges }): Step => (model) => {
    const offer = pick(PACKAGES, pack) as (typeof PACKAGES)[number];
    const targetCredits = target === null ? null : threshold + target;
    const perCharge =
      targetCredits === null ? offer.price.amount : Math.ceil((targetCredits * offer.price.amount) / offer.credits);
    const settings = {
      enabled,
      thresholdCredits: threshold,
      packageId: offer.packageId,
      packageName: offer.packageName,
      packageCredits: offer.credits,
      packagePrice: offer.price,
      packageExpiresAfterDays: null,
      targetCredits,
      monthlyLimit: { amount: perCharge * charges, currency: 'USD' },
    };
    // The terms shown, sent back, as the Billing page does.
    return [
      {
        type: 'ConfigureAutoTopUp',
        data: { ...data(model), settings, acceptedBy: 'manager', acceptedTerms: autoTopUpTerms(settings) },
      },
    ];
  });

/** The provider's answer to a top-up attempt, maybe a repeat of an answer already given. */
const answerTopUp = fc
  .record({
    index: fc.nat(),
    answer: fc.constantFrom('SUCCEEDED', 'DECLINED', 'REQUIRES_ACTION', 'PROCESSING', 'SHORT'),
    again: fc.boolean(),
  })
  .map(({ index, answer, again }): Step => (model) => {
    const open = [...model.state.autoTopUp.topUps.values()].filter(
      (topUp) => mayStillBePaid(topUp) || (again && topUp.status !== 'SUCCEEDED'),
    );
    const topUp = pick(open, index);
    if (!topUp) return [];
    const attempt = again ? Math.max(1, topUp.failedAttempts) : topUp.failedAttempts + 1;
    const paymentIntentId = `pi_${topUp.topUpId}_${attempt}`;
    const outcome =
      answer === 'SUCCEEDED' || answer === 'SHORT'
        ? {
            status: 'SUCCEEDED' as const,
            paymentIntentId,
            amountReceived: { amount: topUp.amount.amount - (answer === 'SHORT' ? 1 : 0), currency: 'USD' },
          }
        : answer === 'PROCESSING'
          ? { status: 'PROCESSING' as const, paymentIntentId }
          : {
              status: 'FAILED' as const,
              paymentIntentId,
              reason: answer,
              code: answer === 'DECLINED' ? 'card_declined' : 'authentication_required',
              message: 'no',
            };
    return [
      {
        type: 'RecordAutoTopUpCharge',
        data: {
          ...data(model),
          topUpId: topUp.topUpId,
          attempt,
          outcome,
          grantId: model.id('topup-grant'),
          retry: { maxAttempts: 3, firstDelayMs: HOUR },
        },
      },
    ];
  });

const alertRules = fc
  .record({
    threshold: fc.oneof(
      fc.constant({ lowBalanceCredits: null, lowBalancePercent: null }),
      fc.integer({ min: 0, max: 2000 }).map((credits) => ({ lowBalanceCredits: credits, lowBalancePercent: null })),
      fc.integer({ min: 0, max: 100 }).map((percent) => ({ lowBalanceCredits: null, lowBalancePercent: percent })),
    ),
    notify: fc.record({ low: fc.boolean(), depleted: fc.boolean(), recovered: fc.boolean() }),
    expiringSoonDays: fc.option(fc.integer({ min: 1, max: 30 })),
  })
  .map(({ threshold, notify, expiringSoonDays }): Step => (model) => [
    {
      type: 'ConfigureAlerts',
      data: { ...data(model), rules: { ...threshold, notify, expiringSoonDays }, configuredBy: 'manager' },
    },
  ]);

const tick = fc.integer({ min: 1, max: 10 * DAY }).map((ms): Step => (model) => {
  model.now += ms;
  return [];
});

const RATES = [1, 7, 21, 100] as const;

/** A hold for a long action, for a while (default or up to the maximum), maybe a retry of the last. */
const reserveHold = fc
  .record({
    units: fc.integer({ min: 1, max: 10 }),
    rate: fc.constantFrom(...RATES),
    lasts: fc.option(expiry(60_000, DAY, 3)),
    retry: fc.boolean(),
  })
  .map(({ units, rate, lasts, retry }): Step => (model) => {
    const key = retry && model.state.holdKeys.size > 0 ? [...model.state.holdKeys.keys()].at(-1) : undefined;
    return [
      {
        type: 'ReserveCredits',
        data: {
          ...data(model),
          holdId: model.id('hold'),
          idempotencyKey: key ?? model.id('hold-key'),
          action: 'ORG_CHART_GENERATION',
          units,
          creditsPerUnit: rate,
          ...(lasts !== null && { expiresAt: new Date(instantOf(model, lasts, DAY)) }),
          actorId: 'service',
        },
      },
    ];
  });

const anyHold = (model: MoneyModel, index: number) =>
  pick([...model.state.activeHolds.values(), ...model.state.closedHolds.values()], index);

/** A settle of any hold (active or not), for less, all or more than it holds. */
const settleHold = fc
  .record({ index: fc.nat(), units: fc.integer({ min: 1, max: 12 }), excess: fc.boolean(), retry: fc.boolean() })
  .map(({ index, units, excess, retry }): Step => (model) => {
    const hold = anyHold(model, index);
    if (!hold) return [];
    const again = retry ? hold.settlement : undefined;
    return [
      {
        type: 'SettleCreditHold',
        data: {
          ...data(model),
          holdId: hold.holdId,
          idempotencyKey: again?.idempotencyKey ?? model.id('settle-key'),
          units: again?.units ?? units,
          takeExcessFromBalance: excess,
          consumptionId: model.id('settle'),
          actorId: 'service',
        },
      },
    ];
  });

const releaseHold = fc.nat().map((index): Step => (model) => {
  const hold = anyHold(model, index);
  if (!hold) return [];
  return [{ type: 'ReleaseCreditHold', data: { ...data(model), holdId: hold.holdId, releasedBy: 'service' } }];
});

const extendHold = fc
  .record({ index: fc.nat(), by: expiry(1, DAY + HOUR, 3) })
  .map(({ index, by }): Step => (model) => {
    const hold = anyHold(model, index);
    if (!hold) return [];
    return [
      {
        type: 'ExtendCreditHold',
        data: {
          ...data(model),
          holdId: hold.holdId,
          expiresAt: new Date(instantOf(model, by, DAY)),
          extendedBy: 'service',
        },
      },
    ];
  });

/**
 * The clock steps onto the next instant something expires (a grant, a hold, the period's end), or
 * the one after, exactly or 1 ms either side: where `now < expiresAt` turns false.
 */
const toExpiry = fc
  .record({ offset: fc.constantFrom(0, 0, -1, 1), nth: fc.integer({ min: 0, max: 2 }) })
  .map(({ offset, nth }): Step => (model) => {
    const ahead = expiryInstants(model)
      .map((instant) => instant + offset)
      .filter((instant) => instant > model.now);
    model.now = ahead[Math.min(nth, ahead.length - 1)] ?? model.now;
    return [];
  });

/** A retry of the last command recorded under an idempotency key (see MoneyModel.retryOfLastKeyed). */
const retry = fc.constant<Step>((model) => model.retryOfLastKeyed());

/** A short step of the clock, at the scale holds live on. */
const shortTick = fc.integer({ min: 1, max: 3 * HOUR }).map((ms): Step => (model) => {
  model.now += ms;
  return [];
});

/** Random steps, weighted towards what moves money. */
export const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    { arbitrary: allowance, weight: 1 },
    { arbitrary: invoice, weight: 1 },
    { arbitrary: checkout, weight: 3 },
    { arbitrary: creditCheckout, weight: 3 },
    { arbitrary: promotion, weight: 1 },
    { arbitrary: spend, weight: 8 },
    { arbitrary: giveSpendBack, weight: 3 },
    { arbitrary: adminRefund, weight: 3 },
    { arbitrary: answerRefund, weight: 3 },
    { arbitrary: dashboardRefund, weight: 4 },
    { arbitrary: dispute, weight: 2 },
    { arbitrary: sweep, weight: 1 },
    { arbitrary: notice, weight: 1 },
    { arbitrary: alertRules, weight: 1 },
    { arbitrary: card, weight: 2 },
    { arbitrary: autoTopUp, weight: 3 },
    { arbitrary: answerTopUp, weight: 3 },
    { arbitrary: tick, weight: 2 },
    { arbitrary: reserveHold, weight: 6 },
    { arbitrary: settleHold, weight: 5 },
    { arbitrary: releaseHold, weight: 2 },
    { arbitrary: extendHold, weight: 2 },
    { arbitrary: shortTick, weight: 3 },
    { arbitrary: toExpiry, weight: 4 },
    { arbitrary: retry, weight: 2 },
  ),
  { minLength: 5, maxLength: 60, size: 'max' },
);

/**
 * Steps for what a workspace remembers to answer retries: mostly spends and holds (reserved,
 * settled, released, extended), with money coming in and short clock steps, over longer histories,
 * so that many spends and ended holds pile up within the key window.
 */
export const rememberingSteps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    { arbitrary: promotion, weight: 2 },
    { arbitrary: creditCheckout, weight: 1 },
    { arbitrary: checkout, weight: 1 },
    { arbitrary: spend, weight: 8 },
    { arbitrary: giveSpendBack, weight: 2 },
    { arbitrary: adminRefund, weight: 1 },
    { arbitrary: reserveHold, weight: 8 },
    { arbitrary: settleHold, weight: 6 },
    { arbitrary: releaseHold, weight: 4 },
    { arbitrary: extendHold, weight: 2 },
    { arbitrary: sweep, weight: 1 },
    { arbitrary: shortTick, weight: 3 },
  ),
  { minLength: 20, maxLength: 120, size: 'max' },
);
