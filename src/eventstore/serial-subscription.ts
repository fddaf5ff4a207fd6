/**
 * The async-iterator plumbing every LogSubscription adapter shares: `next()` calls are chained so
 * that concurrent callers never race on the adapter's cursor or source, and leaving a `for await`
 * loop early closes the subscription. An adapter supplies `pull()` (the next event, or done) and
 * `close()`.
 */
import type { LogSubscription, RecordedEvent } from './port';

export const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export abstract class SerialSubscription implements LogSubscription, AsyncIterator<RecordedEvent, undefined> {
  private tail: Promise<unknown> = Promise.resolve();

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent, undefined> {
    return this;
  }

  next(): Promise<IteratorResult<RecordedEvent, undefined>> {
    const result = this.tail.then(() => this.pull());
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Called by `for await` on break or throw: the subscription is done for good. */
  async return(): Promise<IteratorResult<RecordedEvent, undefined>> {
    await this.close();
    return DONE;
  }

  abstract close(): Promise<void>;

  /** The next event in position order, or DONE once closed. Never called concurrently. */
  protected abstract pull(): Promise<IteratorResult<RecordedEvent, undefined>>;
}
