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
import type { RecordedEvent } from './port';
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
  private buffer: RecordedEvent[] = [];
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
    this.stopListening();
    this.wakeUp();
    this.options.onClose?.();
  }

  protected async pull(): Promise<IteratorResult<RecordedEvent, undefined>> {
    for (;;) {
      if (this.closed) return DONE;
      const event = this.buffer.shift();
      if (event) {
        this.cursor = event.position;
        return { done: false, value: event };
      }
      // A long catch-up must not starve timers and I/O: reads resolve at once, and a consumer that
      // handles events synchronously would otherwise keep the whole catch-up in microtasks.
      await nextMacrotask();
      if (this.closed) return DONE;
      this.woken = false;
      this.buffer = await this.options.readPage(this.cursor, this.pageSize);
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
