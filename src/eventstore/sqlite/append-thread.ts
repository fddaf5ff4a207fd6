/**
 * The embedded store's appends, committed on a worker thread of their own with its own connection
 * to the file. better-sqlite3 is synchronous: committed on the caller's thread, each group's inserts
 * and its fsync would stop that thread's event loop, and with it every request, for as long as they
 * take. Here the caller's thread only sends the group and later resolves each append from the
 * answer, which comes once the group's transaction has committed, so an append still resolves only
 * when it is durable.
 *
 * A group is sent at the end of the turn of the event loop in which its first append was asked for,
 * or as soon as GROUP_SIZE appends are waiting, and at most two are in flight: while the thread
 * commits one, the caller's thread goes on deciding the next, and appends asked for meanwhile wait
 * and go together, so groups grow with the load and a quiet store answers after one turn.
 */
import { channel } from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ExpectedRevisionConflict, StoreUnavailable, type AppendResult } from '../port';
import type { AppendOutcome, AppendRequest, InsertParams } from './group-commit';

export type ToAppendWorker = { type: 'commit'; id: number; group: AppendRequest[] } | { type: 'close' };

export type FromAppendWorker =
  | { type: 'ready' }
  | { type: 'committed'; id: number; outcomes: AppendOutcome[] }
  | { type: 'failed'; id: number; failure: { message: string; code: string | undefined } };

/** What is published on APPEND_GROUP_CHANNEL after each commit of a group. */
export interface AppendGroupCommitted {
  /** Appends committed together in one transaction. */
  appends: number;
  /** From sending the group to the thread to its answer. */
  seconds: number;
}

/**
 * Each committed group's size and commit time, for whoever subscribes (the server's metrics), so
 * that the store needs no metrics of its own; nothing is measured while no one subscribes.
 */
export const APPEND_GROUP_CHANNEL = 'credits:eventstore:append-group';
const appendGroups = channel(APPEND_GROUP_CHANNEL);

/** Appends waiting that send a group at once, without waiting for the end of the turn. */
const GROUP_SIZE = 250;
/** Groups sent and not yet answered, at most. */
const MAX_IN_FLIGHT = 2;

/** The rows of an append once sent to the thread. */
const SENT: InsertParams[] = [];

interface Pending extends AppendRequest {
  /** Whether it appends events: its rows are let go once sent (see send). */
  inserts: boolean;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/**
 * Compiled, the worker's file sits beside this one; run from the TypeScript sources (the tests), it
 * is taken from the build in dist/, which the test setup compiles first.
 */
function workerFile(): string {
  const beside = join(__dirname, 'append-worker.js');
  return existsSync(beside) ? beside : resolve(__dirname, '../../../dist/src/eventstore/sqlite/append-worker.js');
}

export class AppendThread {
  private worker: Worker | undefined;
  private queued: Pending[] = [];
  private readonly inFlight = new Map<number, Pending[]>();
  /** When each group in flight was sent, while someone subscribes to APPEND_GROUP_CHANNEL. */
  private readonly sentAt = new Map<number, number>();
  private sendScheduled = false;
  private nextId = 0;
  private failure: Error | undefined;
  /** The last commit refused for a fault of the machine, and when; forgotten at the next commit. */
  private refused: { error: Error; at: number } | undefined;
  private drained: (() => void) | undefined;

  private readyWaiters: (() => void)[] = [];
  private isReady = false;

  /** Starts the thread; `onInserted` is called after each commit that appended events. */
  constructor(
    private readonly file: string,
    private readonly onInserted: () => void,
    /** The most pages the file may grow to (SQLite's max_page_count); past it, SQLITE_FULL. */
    private readonly maxPages?: number,
  ) {
    this.started();
  }

  /** Why appends fail: the thread failed or exited, and no append can be committed any more. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /**
   * Why appends cannot be committed now: the thread is gone, or the database refused a commit for a
   * fault of the machine (a full disk) in the last REFUSED_FOR_MS and none has been committed since.
   */
  get writeFailure(): Error | undefined {
    if (this.failure) return this.failure;
    if (this.refused && performance.now() - this.refused.at < REFUSED_FOR_MS) return this.refused.error;
    return undefined;
  }

  /** Resolves once the thread has opened its connection (or has failed: appends then say why). */
  ready(): Promise<void> {
    if (this.isReady || this.failure) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  append(request: AppendRequest): Promise<AppendResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queued.push({
        stream: request.stream,
        rows: request.rows,
        expected: request.expected,
        inserts: request.rows.length > 0,
        resolve,
        reject,
      });
      if (this.queued.length >= GROUP_SIZE) this.send();
      else if (!this.sendScheduled) {
        this.sendScheduled = true;
        setImmediate(() => {
          this.sendScheduled = false;
          this.send();
        });
      }
    });
  }

  /** Resolves once every append asked for has been answered and the thread has ended. */
  async close(): Promise<void> {
    if (this.busy) await new Promise<void>((done) => (this.drained = done));
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise((done) => worker.once('exit', done));
    worker.ref();
    worker.postMessage({ type: 'close' } satisfies ToAppendWorker);
    await exited;
  }

  private get busy(): boolean {
    return this.inFlight.size > 0 || this.queued.length > 0 || this.sendScheduled;
  }

  private send(): void {
    if (this.inFlight.size >= MAX_IN_FLIGHT) return;
    if (this.queued.length === 0) return this.settleDrain();
    const group = this.queued;
    this.queued = [];
    const id = this.nextId++;
    this.inFlight.set(id, group);
    if (appendGroups.hasSubscribers) this.sentAt.set(id, performance.now());
    const worker = this.started();
    worker.ref();
    worker.postMessage({
      type: 'commit',
      id,
      group: group.map(({ stream, rows, expected }) => ({ stream, rows, expected })),
    } satisfies ToAppendWorker);
    // The thread has its copy. Let the rows (each event's JSON) go now rather than at the commit:
    // kept, they are still alive at the young-generation collections meanwhile, and copied by each.
    for (const append of group) append.rows = SENT;
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerFile(), { workerData: { file: this.file, maxPages: this.maxPages } });
    worker.on('message', (message: FromAppendWorker) => this.answered(message));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.fail(new Error(`The event store's append thread exited with code ${code}`));
    });
    this.worker = worker;
    return worker;
  }

  private answered(message: FromAppendWorker): void {
    if (message.type === 'ready') return this.becameReady();
    const group = this.inFlight.get(message.id);
    if (!group) return;
    this.inFlight.delete(message.id);
    const sentAt = this.sentAt.get(message.id);
    if (sentAt !== undefined) {
      this.sentAt.delete(message.id);
      if (message.type === 'committed') {
        const committed: AppendGroupCommitted = { appends: group.length, seconds: (performance.now() - sentAt) / 1000 };
        appendGroups.publish(committed);
      }
    }
    if (message.type === 'failed') {
      // The group's transaction was rolled back: nothing of it was recorded.
      const error = this.refusal(message.failure);
      for (const append of group) append.reject(error);
    } else {
      let inserted = false;
      group.forEach((append, index) => {
        const outcome = message.outcomes[index] as AppendOutcome;
        if ('ok' in outcome) {
          inserted ||= append.inserts;
          // Events written: the disk takes appends again.
          if (append.inserts) this.refused = undefined;
          append.resolve(outcome.ok);
        } else if ('conflict' in outcome) {
          const { stream, expected, actual } = outcome.conflict;
          append.reject(new ExpectedRevisionConflict(stream, expected, actual));
        } else {
          // Rolled back to its savepoint: nothing of this append was recorded.
          append.reject(this.refusal(outcome.failed));
        }
      });
      if (inserted) this.onInserted();
    }
    // While nothing is asked for, an idle thread does not keep the process alive.
    if (!this.busy) this.worker?.unref();
    this.send();
  }

  /** The error an append refused by the database gets; a fault of the machine is remembered (writeFailure). */
  private refusal(failure: { message: string; code: string | undefined }): Error {
    const error = failureError(failure);
    if (!MACHINE_FAULT.test(failure.code ?? '')) return error;
    this.refused = { error, at: performance.now() };
    // An I/O error may come from syncing a commit already written to the log: it may be recovered.
    return new StoreUnavailable(error, !failure.code?.startsWith('SQLITE_IOERR'));
  }

  private becameReady(): void {
    this.isReady = true;
    // Until the first append, an idle thread does not keep the process alive.
    if (!this.busy) this.worker?.unref();
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.becameReady();
    const waiting = [...[...this.inFlight.values()].flat(), ...this.queued];
    this.inFlight.clear();
    this.sentAt.clear();
    this.queued = [];
    this.worker = undefined;
    for (const append of waiting) append.reject(this.failure);
    this.settleDrain();
  }

  private settleDrain(): void {
    if (this.busy) return;
    const drained = this.drained;
    this.drained = undefined;
    drained?.();
  }
}

const failureError = (failure: { message: string; code: string | undefined }): Error =>
  Object.assign(new Error(failure.message), { code: failure.code });

/** SQLite's codes for faults of the machine rather than of the append: a full disk, I/O, a read-only file. */
const MACHINE_FAULT = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|NOMEM)/;

/**
 * How long a refused commit keeps the store reported unwritable with no commit since: long enough
 * for /readyz to take the replica out of a load balancer, short enough that one taken out (and so
 * sent no appends that could succeed) is tried again once the fault may have cleared.
 */
const REFUSED_FOR_MS = 10_000;
