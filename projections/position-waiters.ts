/**
 * Callers waiting for the projections to reach a log position (read-your-writes), released as the
 * projected position moves on, each after at most its timeout.
 */
interface Waiter {
  position: bigint;
  resolve(): void;
  reject(error: Error): void;
}

export class PositionWaiters {
  private waiters: Waiter[] = [];

  /**
   * Resolves at once when `reached` is already at least `position`, rejects at once with `failure`,
   * and otherwise once `release` passes `position`, or rejects after `timeoutMs` or on `fail`.
   */
  wait(position: bigint, timeoutMs: number, reached: bigint | undefined, failure: Error | undefined): Promise<void> {
    if (reached !== undefined && reached >= position) return Promise.resolve();
    if (failure) return Promise.reject(failure);
    return new Promise<void>((resolve, reject) => {
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            this.waiters = this.waiters.filter((candidate) => candidate !== waiter);
            reject(new Error(`Projections did not reach position ${position} within ${timeoutMs} ms`));
          }, timeoutMs)
        : undefined;
      const waiter: Waiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Releases everyone waiting for `reached` or an earlier position. */
  release(reached: bigint): void {
    const still: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.position <= reached) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
  }

  /** Refuses everyone still waiting: the projections stopped. */
  fail(error: Error): void {
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters = [];
  }
}

/** The position every read model has reached: the lowest checkpoint, undefined while any has none. */
export function lowestCheckpoint(entries: Iterable<{ checkpoint: bigint | undefined }>): bigint | undefined {
  let lowest: bigint | undefined;
  for (const { checkpoint } of entries) {
    if (checkpoint === undefined) return undefined;
    if (lowest === undefined || checkpoint < lowest) lowest = checkpoint;
  }
  return lowest;
}
