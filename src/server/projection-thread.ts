/**
 * The projections on a thread of their own. The server's main thread decides commands, appends and
 * answers requests; a worker thread follows the log and commits the read models, so projecting
 * never competes with them for the event loop and the machine's second core does that work. Both
 * threads open the same files: the worker writes the read-model database, the main thread reads it.
 *
 * The main thread learns every committed position from the worker's messages, which is what
 * read-your-writes waits for; with the embedded store it also tells the worker after each of its
 * appends, so that the worker reads them at once rather than at its next poll.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { lowestCheckpoint, PositionWaiters } from '../../projections/position-waiters';
import type { ProjectionFailure } from '../../projections/runner';
import type { EventStoreLocation } from './stores';

/** What the worker is started with. */
export interface ProjectionWorkerData {
  store: EventStoreLocation;
  readModelFile: string;
  logLevel: string;
}

export type ProjectionProgress = { name: string; checkpoint: string | null; failure: ProjectionFailure | null }[];

/** What the worker tells the main thread. */
export type FromProjectionWorker =
  | { type: 'caught-up'; progress: ProjectionProgress }
  | { type: 'committed'; progress: ProjectionProgress; workspaces: string[] }
  /** A projection stopped at an event it cannot apply; the others go on. */
  | { type: 'progress'; progress: ProjectionProgress }
  /** The read models cannot be written (message), or can again (null). */
  | { type: 'stalled'; message: string | null }
  /** The event store cannot be reached at start (message): the worker waits for it; or it answers (null). */
  | { type: 'store-unreachable'; message: string | null }
  /** The log cannot be followed at all. */
  | { type: 'failed'; message: string };

/** What the main thread tells the worker. */
export type ToProjectionWorker = { type: 'appended' } | { type: 'stop' };

export interface ProjectionThreadOptions extends ProjectionWorkerData {
  logger: Logger;
  /** The main thread's own appends to the embedded store, to pass on to the worker. */
  onAppended?: (listener: () => void) => () => void;
  /** How long a caller waits for read-your-writes before giving up. Default 10 s. */
  waitTimeoutMs?: number;
}

const WORKER = join(__dirname, 'projection-worker.js');

export interface ProjectionPosition {
  name: string;
  checkpoint: bigint | undefined;
  failure: ProjectionFailure | undefined;
}

export class ProjectionThread {
  private readonly waiters = new PositionWaiters();
  private positions: ProjectionPosition[] = [];
  private failure: Error | undefined;
  private stalled: Error | undefined;
  private hasCaughtUp = false;
  private stopping = false;
  /**
   * Resolves when the read models have first caught up with the log's head, which start() does not
   * wait for when they cannot be written; never rejects.
   */
  caughtUp: Promise<void> = Promise.resolve();
  private readonly exited: Promise<void>;
  private stopListening: () => void = () => undefined;
  private readonly commitListeners = new Set<(workspaces: readonly string[]) => void>();

  private constructor(
    private readonly worker: Worker,
    private readonly options: ProjectionThreadOptions,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /**
   * Starts the worker and resolves once the read models have caught up with the log's head, or
   * once they cannot be written (stalledBy then says why) and catching up waits for the fault.
   */
  static async start(options: ProjectionThreadOptions): Promise<ProjectionThread> {
    const { store, readModelFile, logLevel } = options;
    const workerData: ProjectionWorkerData = { store, readModelFile, logLevel };
    const thread = new ProjectionThread(new Worker(WORKER, { workerData }), options);
    await thread.started();
    return thread;
  }

  private started(): Promise<void> {
    return new Promise((resolve, reject) => {
      let running = false;
      let reportCaughtUp: () => void = () => undefined;
      this.caughtUp = new Promise((done) => (reportCaughtUp = done));
      const run = (): void => {
        if (running) return;
        running = true;
        this.stopListening = this.options.onAppended?.(() => this.post({ type: 'appended' })) ?? this.stopListening;
        resolve();
      };
      this.worker.on('message', (message: FromProjectionWorker) => {
        switch (message.type) {
          case 'caught-up':
            this.advance(message.progress);
            this.hasCaughtUp = true;
            reportCaughtUp();
            run();
            return;
          case 'committed':
            // Before anyone waiting for this batch is released, so that what they read next is fresh.
            for (const listener of this.commitListeners) listener(message.workspaces);
            this.advance(message.progress);
            return;
          case 'progress':
            this.advance(message.progress);
            return;
          case 'stalled':
            this.stalled = message.message === null ? undefined : new Error(message.message);
            // A fault of the machine (a full disk) is not waited out before the server listens: it
            // answers, /readyz says why it is not ready, and the worker catches up once it clears.
            if (this.stalled) run();
            return;
          case 'store-unreachable':
            // Nor is an event store that does not answer yet (an EventStoreDB node still starting):
            // /readyz says so (its own look at the store), and the worker follows the log once the
            // store answers.
            if (message.message !== null) run();
            return;
          case 'failed': {
            const error = new Error(`Projection stopped: ${message.message}`);
            this.fail(error);
            reject(error);
            return;
          }
        }
      });
      this.worker.on('error', (error) => {
        this.fail(error);
        reject(error);
      });
      this.worker.on('exit', (code) => {
        if (!this.stopping) this.fail(new Error(`The projection thread exited with code ${code}`));
        reject(this.failure ?? new Error('The projection thread exited before catching up'));
      });
    });
  }

  /**
   * Tells `listener` the workspaces each batch committed from now on changed, before anyone waiting
   * for that batch is released; returns the function that stops it.
   */
  onCommitted(listener: (workspaces: readonly string[]) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** The position every healthy projection has reached; undefined before the first event. */
  get checkpoint(): bigint | undefined {
    return lowestCheckpoint(this.positions.filter((position) => !position.failure));
  }

  /** Each projection's position, and where it stopped if it did. */
  get progress(): readonly ProjectionPosition[] {
    return this.positions;
  }

  /** Why the log cannot be followed at all. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Why the read models cannot be written right now (they resume by themselves when it clears). */
  get stalledBy(): Error | undefined {
    return this.stalled;
  }

  /** Whether the read models have caught up with the log's head once since the start. */
  get caughtUpOnce(): boolean {
    return this.hasCaughtUp;
  }

  /** The failure of a read model that stopped, if it did. */
  failureOf(name: string): ProjectionFailure | undefined {
    return this.positions.find((position) => position.name === name)?.failure;
  }

  /** Resolves once every projection has applied the event at `position`: read-your-writes. */
  waitFor(position: bigint, timeoutMs = this.options.waitTimeoutMs ?? 10_000): Promise<void> {
    return this.waiters.wait(position, timeoutMs, this.checkpoint, this.failure);
  }

  /**
   * Lets the worker commit what it has read, close its files and end; one that has not ended
   * within `timeoutMs` is terminated (what it had committed stays committed). Anyone still waiting
   * for a position is refused.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    this.stopListening();
    this.post({ type: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    if ((await Promise.race([this.exited, late])) === 'late') await this.worker.terminate();
    clearTimeout(timer);
    this.waiters.fail(new Error('The projections have stopped.'));
  }

  private post(message: ToProjectionWorker): void {
    this.worker.postMessage(message);
  }

  private advance(progress: ProjectionProgress): void {
    this.positions = progress.map(({ name, checkpoint, failure }) => ({
      name,
      checkpoint: checkpoint === null ? undefined : BigInt(checkpoint),
      failure: failure ?? undefined,
    }));
    const reached = this.checkpoint;
    if (reached !== undefined) this.waiters.release(reached);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.options.logger.error({ err: error }, 'projection thread stopped');
    this.waiters.fail(error);
  }
}
