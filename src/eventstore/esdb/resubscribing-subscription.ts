/**
 * The LogSubscription of the EventStoreDB adapter: a catch-up subscription to `$all` that survives
 * being dropped.
 *
 * EventStoreDB serves the history after the starting position, then goes live, on one gRPC call.
 * That call can end for many reasons (the node restarts, a leader election, the network, the server
 * deciding the consumer is too slow). When it ends without `close()`, this subscription opens a new
 * one strictly after the last event it delivered, waiting `initialDelayMs`, doubling up to
 * `maxDelayMs`, between failed attempts; the delay starts small again once an event arrives or a
 * subscription has lived longer than `maxDelayMs`. It never delivers an event twice (anything at or
 * before the last delivered position is dropped when it is the last delivered event again) and never skips one
 * (the new subscription starts right after the last delivered event).
 *
 * Unless the log went back under it (a node restored from a backup): before subscribing again after
 * a drop, it checks (`stillThere`) that the last event it delivered is still where it was, and an
 * event the server sends at or before the last delivered position is dropped only when it is that
 * very event (a server that repeats the start); otherwise it fails with LogWentBack, for good.
 *
 * An event it cannot decode is not skipped: the error is thrown to the consumer, and again on every
 * later call, since going on would skip it. (Events that are not the store's, other applications'
 * included, are not such errors: `decode` answers undefined for them and they are passed over.)
 */
import type { AllStreamResolvedEvent, AllStreamSubscription } from '@eventstore/db-client';
import { LogWentBack, StoreUnavailable, type RecordedEvent } from '../port';
import { DONE, SerialSubscription } from '../serial-subscription';

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface ResubscribingSubscriptionOptions {
  /** Deliver the events strictly after this position; undefined means the start of the log. */
  after: bigint | undefined;
  /** Opens a catch-up subscription to `$all` strictly after `after` (undefined: from the start). */
  subscribe(after: bigint | undefined): AllStreamSubscription;
  /** The event to deliver, or undefined for one that is not the store's. May throw. */
  decode(resolved: AllStreamResolvedEvent): RecordedEvent | undefined;
  /**
   * Whether the event is still in the log where it was delivered, asked before subscribing again
   * after a drop. May throw: a transport failure counts as one more drop.
   */
  stillThere?(event: RecordedEvent): Promise<boolean>;
  /**
   * Whether an event can vouch for the log: its stream is one only this service writes and never
   * deletes. Only such an event is asked about (stillThere): another application may delete or
   * truncate its own streams, which says nothing of the log going back. Default: every event.
   */
  vouches?(event: RecordedEvent): boolean;
  backoff: BackoffOptions;
  /** Told each time the subscription dropped, before waiting `delayMs` to subscribe again. */
  onDropped?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Called once when the subscription closes, so the owner can forget it. */
  onClose?: () => void;
}

interface Source {
  subscription: AllStreamSubscription;
  iterator: AsyncIterator<AllStreamResolvedEvent>;
  openedAt: number;
}

const CLOSED = Symbol('closed');

export class ResubscribingSubscription extends SerialSubscription {
  private lastDelivered: bigint | undefined;
  /** The last event delivered, once one was. */
  private lastEvent: RecordedEvent | undefined;
  /** The last event delivered that can vouch for the log (options.vouches), once one was. */
  private lastVouching: RecordedEvent | undefined;
  /** Whether the subscription dropped since the last check that the last event is still there. */
  private droppedSinceCheck = false;
  private source: Source | undefined;
  private failures = 0;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private readonly closedSignal: Promise<typeof CLOSED>;
  private signalClosed!: () => void;

  constructor(private readonly options: ResubscribingSubscriptionOptions) {
    super();
    this.lastDelivered = options.after;
    this.closedSignal = new Promise((resolve) => {
      this.signalClosed = () => resolve(CLOSED);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signalClosed();
    const source = this.source;
    this.source = undefined;
    if (source) await stop(source);
    this.options.onClose?.();
  }

  protected async pull(): Promise<IteratorResult<RecordedEvent, undefined>> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      if (this.closed) return DONE;
      if (!this.source && this.droppedSinceCheck && this.lastVouching && this.options.stillThere) {
        const last = this.lastVouching;
        let there: boolean;
        try {
          there = await this.options.stillThere(last);
        } catch (error) {
          // Out of reach again: one more drop. Anything else (access denied, a deleted stream)
          // would come back at every try: the subscription fails, said, rather than loop unseen.
          if (error instanceof StoreUnavailable) await this.dropped(undefined, error);
          else this.fail(error);
          continue;
        }
        if (this.closed) return DONE;
        if (!there) this.fail(new LogWentBack(`the last event it followed, ${describe(last)}, is no longer there`));
        this.droppedSinceCheck = false;
      }
      this.source ??= this.open();
      const source = this.source;
      let step: IteratorResult<AllStreamResolvedEvent> | typeof CLOSED;
      try {
        step = await Promise.race([source.iterator.next(), this.closedSignal]);
      } catch (error) {
        await this.dropped(source, error);
        continue;
      }
      if (step === CLOSED || this.closed) return DONE;
      if (step.done) {
        await this.dropped(source, new Error('EventStoreDB ended the subscription'));
        continue;
      }
      let event: RecordedEvent | undefined;
      try {
        event = this.options.decode(step.value);
      } catch (error) {
        this.fail(error);
      }
      if (event === undefined) continue;
      if (this.lastDelivered !== undefined && event.position <= this.lastDelivered) {
        // A server that treats the start as inclusive sends the last delivered event again: dropped.
        // Anything else there means the log is not the one the events came from any more.
        const last = this.lastEvent;
        if (last === undefined ? event.position === this.lastDelivered : sameEvent(event, last)) continue;
        this.fail(
          new LogWentBack(
            `the log sent ${describe(event)}, at or before the last event it followed` +
              (last ? `, ${describe(last)}` : ` (position ${this.lastDelivered})`),
          ),
        );
      }
      this.lastDelivered = event.position;
      this.lastEvent = event;
      if (this.options.vouches?.(event) ?? true) this.lastVouching = event;
      this.failures = 0;
      return { done: false, value: event };
    }
  }

  /** Stops for good: this error is thrown now and on every later call. */
  private fail(error: unknown): never {
    this.failure = { error };
    const source = this.source;
    this.source = undefined;
    if (source) void stop(source);
    throw error;
  }

  private open(): Source {
    const subscription = this.options.subscribe(this.lastDelivered);
    // Errors reach the iterator; this keeps a late one (after a drop) from being an unhandled event.
    subscription.on('error', () => undefined);
    return { subscription, iterator: subscription[Symbol.asyncIterator](), openedAt: Date.now() };
  }

  /**
   * Forgets the dropped subscription (none when the check before subscribing failed) and waits
   * before the next attempt (less if closed meanwhile).
   */
  private async dropped(source: Source | undefined, error: unknown): Promise<void> {
    this.droppedSinceCheck = true;
    if (source) {
      if (this.source === source) this.source = undefined;
      void stop(source);
    }
    if (this.closed) return;
    const { initialDelayMs, maxDelayMs } = this.options.backoff;
    if (source && Date.now() - source.openedAt >= maxDelayMs) this.failures = 0;
    const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** this.failures);
    this.failures += 1;
    this.options.onDropped?.(error, this.failures, delayMs);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, delayMs))), this.closedSignal]);
    clearTimeout(timer);
  }
}

const sameEvent = (a: RecordedEvent, b: RecordedEvent) => a.id === b.id && a.position === b.position;

const describe = (event: RecordedEvent) =>
  `event ${event.id} (${event.streamName}@${event.revision}, position ${event.position})`;

/** Cancels the gRPC call and ends the readable; neither may throw at the caller. */
async function stop(source: Source): Promise<void> {
  await source.subscription.unsubscribe().catch(() => undefined);
  source.subscription.destroy();
}
