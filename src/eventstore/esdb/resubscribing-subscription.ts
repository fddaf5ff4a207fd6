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
 * before the last delivered position is dropped, whatever the server sends) and never skips one
 * (the new subscription starts right after the last delivered event).
 *
 * An event it cannot decode is not skipped: the error is thrown to the consumer, and again on every
 * later call, since going on would skip it. (Events that are not the store's, other applications'
 * included, are not such errors: `decode` answers undefined for them and they are passed over.)
 */
import type { AllStreamResolvedEvent, AllStreamSubscription } from '@eventstore/db-client';
import type { RecordedEvent } from '../port';
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
        this.failure = { error };
        this.source = undefined;
        void stop(source);
        throw error;
      }
      if (event === undefined) continue;
      // After a resubscription, or from a server that treats the start as inclusive.
      if (this.lastDelivered !== undefined && event.position <= this.lastDelivered) continue;
      this.lastDelivered = event.position;
      this.failures = 0;
      return { done: false, value: event };
    }
  }

  private open(): Source {
    const subscription = this.options.subscribe(this.lastDelivered);
    // Errors reach the iterator; this keeps a late one (after a drop) from being an unhandled event.
    subscription.on('error', () => undefined);
    return { subscription, iterator: subscription[Symbol.asyncIterator](), openedAt: Date.now() };
  }

  /** Forgets the dropped subscription and waits before the next attempt (less if closed meanwhile). */
  private async dropped(source: Source, error: unknown): Promise<void> {
    if (this.source === source) this.source = undefined;
    void stop(source);
    if (this.closed) return;
    const { initialDelayMs, maxDelayMs } = this.options.backoff;
    if (Date.now() - source.openedAt >= maxDelayMs) this.failures = 0;
    const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** this.failures);
    this.failures += 1;
    this.options.onDropped?.(error, this.failures, delayMs);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, delayMs))), this.closedSignal]);
    clearTimeout(timer);
  }
}

/** Cancels the gRPC call and ends the readable; neither may throw at the caller. */
async function stop(source: Source): Promise<void> {
  await source.subscription.unsubscribe().catch(() => undefined);
  source.subscription.destroy();
}
