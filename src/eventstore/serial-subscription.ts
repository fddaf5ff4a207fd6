/**
 * The async-iterator plumbing every LogSubscription adapter shares: `next()` and `nextBatch()` calls
 * are chained so that concurrent callers never race on the adapter's cursor or source, and leaving a
 * `for await` loop early closes the subscription. An adapter supplies `pull()` (the next event, or
 * done) and `close()`, and may supply `pullBatch()` when it has events at hand in pages.
 */
import type { LogBatch, LogSubscription, RecordedEvent } from './port';

export const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export abstract class SerialSubscription implements LogSubscription, AsyncIterator<RecordedEvent, undefined> {
  private tail: Promise<unknown> = Promise.resolve();

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent, undefined> {
    return this;
  }

  next(): Promise<IteratorResult<RecordedEvent, undefined>> {
    return this.serially(() => this.pull());
  }

  nextBatch(): Promise<LogBatch | undefined> {
    return this.serially(() => this.pullBatch());
  }

  /** Called by `for await` on break or throw: the subscription is done for good. */
  async return(): Promise<IteratorResult<RecordedEvent, undefined>> {
    await this.close();
    return DONE;
  }

  abstract close(): Promise<void>;

  /** The next event in position order, or DONE once closed. Never called concurrently. */
  protected abstract pull(): Promise<IteratorResult<RecordedEvent, undefined>>;

  /** The next events at hand, at least one, or undefined once closed. Never called concurrently. */
  protected async pullBatch(): Promise<LogBatch | undefined> {
    const step = await this.pull();
    return step.done ? undefined : { events: [step.value], more: false };
  }

  private serially<T>(read: () => Promise<T>): Promise<T> {
    const result = this.tail.then(read);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
