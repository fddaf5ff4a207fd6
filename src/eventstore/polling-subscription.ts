/**
 * A LogSubscription for adapters whose log can only be read, not pushed: it pages through the log
 * after a cursor, and when it runs dry it sleeps until the adapter signals a local append or the
 * poll interval elapses (the latter is how appends made by another process show up).
 *
 * Exactly-once, in-order delivery rests on one property the adapter must guarantee: once
 * `readPage(after)` has returned an event at position p, no event with a position below p can
 * appear later. The cursor then only ever moves forward past delivered events.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { LogBatch, RecordedEvent } from './port';
import { DONE, SerialSubscription } from './serial-subscription';

/** Wakes sleeping subscriptions after a local commit. */
export class AppendSignal {
  private readonly listeners = new Set<() => void>();

  /** Registers `listener`; returns the function that removes it. */
  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    for (const listener of this.listeners) listener();
  }
}

export interface PollingSubscriptionOptions {
  /** Deliver the events strictly after this position; undefined means the start of the log. */
  after: bigint | undefined;
  /** Up to `maxCount` events strictly after `after` (or from the start), in position order. */
  readPage(after: bigint | undefined, maxCount: number): Promise<RecordedEvent[]>;
  signal: AppendSignal;
  pollIntervalMs: number;
  pageSize?: number;
  /** Called once when the subscription closes, so the owner can forget it. */
  onClose?: () => void;
}

export class PollingSubscription extends SerialSubscription {
  private cursor: bigint | undefined;
  /** The page last read, delivered up to `delivered`. */
  private buffer: RecordedEvent[] = [];
  private delivered = 0;
  /** Whether more events were waiting behind the page last read. */
  private more = false;
  private closed = false;
  // Set by every wake-up; cleared before each read, so a signal that arrives while a read is in
  // flight makes the next sleep return at once instead of being lost.
  private woken = false;
  private wake: (() => void) | undefined;
  private readonly stopListening: () => void;
  private readonly pageSize: number;

  constructor(private readonly options: PollingSubscriptionOptions) {
    super();
    this.cursor = options.after;
    this.pageSize = options.pageSize ?? 1000;
    this.stopListening = options.signal.listen(() => this.wakeUp());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer = [];
    this.delivered = 0;
    this.stopListening();
    this.wakeUp();
    this.options.onClose?.();
  }

  protected async pull(): Promise<IteratorResult<RecordedEvent, undefined>> {
    if (!(await this.fill())) return DONE;
    const event = this.buffer[this.delivered++] as RecordedEvent;
    this.cursor = event.position;
    return { done: false, value: event };
  }

  protected override async pullBatch(): Promise<LogBatch | undefined> {
    if (!(await this.fill())) return undefined;
    const events = this.delivered === 0 ? this.buffer : this.buffer.slice(this.delivered);
    this.buffer = [];
    this.delivered = 0;
    this.cursor = (events[events.length - 1] as RecordedEvent).position;
    return { events, more: this.more };
  }

  /** Waits until the buffer holds an undelivered event (true) or the subscription closes (false). */
  private async fill(): Promise<boolean> {
    for (;;) {
      if (this.closed) return false;
      if (this.delivered < this.buffer.length) return true;
      // A long catch-up must not starve timers and I/O: reads resolve at once, and a consumer that
      // handles events synchronously would otherwise keep the whole catch-up in microtasks.
      await nextMacrotask();
      if (this.closed) return false;
      this.woken = false;
      // One event beyond the page says whether more are waiting; it is read again with the next page.
      this.buffer = await this.options.readPage(this.cursor, this.pageSize + 1);
      this.delivered = 0;
      this.more = this.buffer.length > this.pageSize;
      if (this.more) this.buffer.pop();
      if (this.buffer.length === 0) await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    if (this.woken || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wakeUp(), this.options.pollIntervalMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private wakeUp(): void {
    this.woken = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
