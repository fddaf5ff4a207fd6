/**
 * One queue of commands per workspace. Commands on a workspace wait while its previous batch is
 * being decided and committed; then everything that queued up meanwhile goes as the next batch, so
 * a busy workspace costs one durable commit per batch, not per command. Different workspaces never
 * wait for each other.
 */
export interface BatchRunner<T> {
  /** Decides and commits one batch; returns the items to run again (they lost a revision race). */
  run(stream: string, batch: T[]): Promise<T[]>;
  /** After each batch, e.g. to snapshot the workspace. */
  afterBatch(stream: string): Promise<void>;
  /** A batch failed as a whole (the store refused it): tell each of its callers. */
  fail(item: T, error: unknown): void;
}

export class WorkspaceQueues<T> {
  private readonly queues = new Map<string, T[]>();
  private readonly draining = new Set<Promise<void>>();

  constructor(
    private readonly runner: BatchRunner<T>,
    private readonly maxBatch: number,
  ) {}

  enqueue(stream: string, item: T): void {
    const queue = this.queues.get(stream);
    if (queue) {
      queue.push(item);
      return;
    }
    this.queues.set(stream, [item]);
    // Start on the next microtask, so that commands sent together are decided together.
    const drained: Promise<void> = Promise.resolve()
      .then(() => this.drain(stream))
      .finally(() => this.draining.delete(drained));
    this.draining.add(drained);
  }

  /** Resolves once every queued item has been run. */
  async idle(): Promise<void> {
    while (this.draining.size > 0) await Promise.all(this.draining);
  }

  private async drain(stream: string): Promise<void> {
    const queue = this.queues.get(stream) as T[];
    while (queue.length > 0) {
      const batch = queue.splice(0, this.maxBatch);
      try {
        queue.unshift(...(await this.runner.run(stream, batch)));
        await this.runner.afterBatch(stream);
      } catch (error) {
        for (const item of batch) this.runner.fail(item, error);
      }
    }
    this.queues.delete(stream);
  }
}
