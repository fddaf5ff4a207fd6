/**
 * Handles commands against a workspace's stream: load the state, decide, append with the expected
 * revision.
 *
 * Commands on one workspace queue up while its previous append is being committed; the handler then
 * decides every queued command in turn on the cached state and appends all their events in ONE
 * append, so a busy workspace costs one durable commit per batch, not per command. No answer (a
 * result, a refusal, or a repeat of an earlier request) is given before the append it depends on has
 * committed. If another process appended first, the revision check fails; the whole batch is then
 * decided again on the reloaded stream, a bounded number of times.
 */
import { LRUCache } from 'lru-cache';
import type { WorkspaceCreditsCommand } from '../domain/commands';
import { decide } from '../domain/decide';
import { conflict } from '../domain/errors';
import type { WorkspaceCreditsEvent } from '../domain/events';
import { evolve, initialState, type WorkspaceCreditsState } from '../domain/state';
import { isExpectedRevisionConflict, type EventStore, type NewEvent } from '../eventstore/port';
import { currentSchemaVersion } from '../events/upcasters';
import { toWorkspaceCreditsEvent, workspaceStreamName } from '../events/workspace-stream';

export interface CommandHandlerOptions {
  /** Attempts before a command that keeps losing revision races is refused with CONFLICT. Default 5. */
  maxAttempts?: number;
  /** Workspaces whose state is kept in memory between commands. Default 10,000. */
  cachedWorkspaces?: number;
  /** Most commands decided into one append. Default 1,000. */
  maxBatch?: number;
}

/** Who asked, and on whose behalf: stored as event metadata. */
export interface CommandMetadata {
  actorId: string;
  correlationId?: string;
}

export interface CommandOutcome<R> {
  result: R;
  /** The events appended; empty when the command was a repeat or changed nothing. */
  events: WorkspaceCreditsEvent[];
  /** Global position of the last appended event; undefined when nothing was appended. */
  position: bigint | undefined;
}

interface LoadedStream {
  state: WorkspaceCreditsState;
  revision: bigint | undefined;
}

/** A command waiting for its workspace, and how to answer its caller. */
interface Queued {
  prepare: (state: WorkspaceCreditsState) => Promise<WorkspaceCreditsCommand | undefined>;
  /** Set once prepared: preparing (e.g. a provider refund) happens once, deciding on every attempt. */
  command?: WorkspaceCreditsCommand | undefined;
  prepared: boolean;
  metadata: CommandMetadata;
  resultOf: (state: WorkspaceCreditsState) => unknown;
  attempts: number;
  resolve(outcome: CommandOutcome<unknown>): void;
  reject(error: unknown): void;
}

type Decided =
  { queued: Queued; events: WorkspaceCreditsEvent[]; result: unknown } | { queued: Queued; error: unknown };

export class WorkspaceCreditsCommandHandler {
  private readonly cache: LRUCache<string, LoadedStream>;
  private readonly queues = new Map<string, Queued[]>();
  private readonly maxAttempts: number;
  private readonly maxBatch: number;

  constructor(
    private readonly store: EventStore,
    options: CommandHandlerOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxBatch = options.maxBatch ?? 1_000;
    this.cache = new LRUCache({ max: options.cachedWorkspaces ?? 10_000 });
  }

  /**
   * Decides `command` and appends its events. `resultOf` reads the caller's answer from the state
   * right after the command's events.
   */
  handle<R>(
    command: WorkspaceCreditsCommand,
    metadata: CommandMetadata,
    resultOf: (state: WorkspaceCreditsState) => R,
  ): Promise<CommandOutcome<R>> {
    return this.handleAfter(command.workspaceId, () => Promise.resolve(command), metadata, resultOf);
  }

  /**
   * Like `handle`, for a command that needs work outside the service first (a payment provider's
   * refund): `prepare` sees the workspace's current state, may refuse by throwing, and returns the
   * command to decide, or nothing when there is nothing left to do. It runs once, while no other
   * command of this process is being decided on the workspace.
   */
  handleAfter<R>(
    workspaceId: string,
    prepare: (state: WorkspaceCreditsState) => Promise<WorkspaceCreditsCommand | undefined>,
    metadata: CommandMetadata,
    resultOf: (state: WorkspaceCreditsState) => R,
  ): Promise<CommandOutcome<R>> {
    const stream = workspaceStreamName(workspaceId);
    return new Promise<CommandOutcome<R>>((resolve, reject) => {
      const queued: Queued = {
        prepare,
        prepared: false,
        metadata,
        resultOf,
        attempts: 0,
        resolve: resolve as Queued['resolve'],
        reject,
      };
      const queue = this.queues.get(stream);
      if (queue) {
        queue.push(queued);
        return;
      }
      this.queues.set(stream, [queued]);
      // Start on the next microtask, so that commands sent together are decided together.
      queueMicrotask(() => void this.drain(stream));
    });
  }

  /** Folds the workspace's whole stream into its current state. */
  async load(stream: string): Promise<LoadedStream> {
    const state = initialState();
    let revision: bigint | undefined;
    for await (const recorded of this.store.readStream(stream)) {
      const event = toWorkspaceCreditsEvent(recorded);
      if (event) evolve(state, event);
      revision = recorded.revision;
    }
    return { state, revision };
  }

  /** Works through a workspace's queue, a batch at a time, until it is empty. */
  private async drain(stream: string): Promise<void> {
    const queue = this.queues.get(stream) as Queued[];
    while (queue.length > 0) {
      const batch = queue.splice(0, this.maxBatch);
      try {
        const retry = await this.runBatch(stream, batch);
        queue.unshift(...retry);
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
    this.queues.delete(stream);
  }

  /** Decides and appends one batch; returns the commands to decide again after a revision conflict. */
  private async runBatch(stream: string, batch: Queued[]): Promise<Queued[]> {
    let loaded = this.cache.get(stream);
    if (!loaded) {
      loaded = await this.load(stream);
      this.cache.set(stream, loaded);
    }
    const decided: Decided[] = [];
    const events: NewEvent[] = [];
    for (const queued of batch) {
      let mine: WorkspaceCreditsEvent[];
      try {
        if (!queued.prepared) {
          queued.command = await queued.prepare(loaded.state);
          queued.prepared = true;
        }
        mine = queued.command ? decide(queued.command, loaded.state) : [];
      } catch (error) {
        decided.push({ queued, error });
        continue;
      }
      for (const event of mine) evolve(loaded.state, event);
      events.push(...mine.map((event) => toNewEvent(event, queued.metadata)));
      decided.push({ queued, events: mine, result: queued.resultOf(loaded.state) });
    }
    if (events.length === 0) {
      settle(decided, undefined);
      return [];
    }
    try {
      const appended = await this.store.appendToStream(stream, events, {
        expectedRevision: loaded.revision ?? 'no_stream',
      });
      loaded.revision = appended.nextExpectedRevision;
      this.cache.set(stream, loaded);
      settle(decided, appended.position);
      return [];
    } catch (error) {
      // The cached state has run ahead of the stream: forget it; the next batch reloads. Every
      // command of the batch, refused ones included, is decided again: its answer was worked out
      // on events that were never written.
      this.cache.delete(stream);
      if (!isExpectedRevisionConflict(error)) throw error;
      const retry: Queued[] = [];
      for (const queued of batch) {
        queued.attempts += 1;
        if (queued.attempts < this.maxAttempts) retry.push(queued);
        else queued.reject(conflict(`The workspace kept changing under this command; try again.`));
      }
      return retry;
    }
  }
}

function settle(decided: Decided[], position: bigint | undefined): void {
  for (const outcome of decided) {
    if ('error' in outcome) outcome.queued.reject(outcome.error);
    else {
      outcome.queued.resolve({
        result: outcome.result,
        events: outcome.events,
        position: outcome.events.length > 0 ? position : undefined,
      });
    }
  }
}

const toNewEvent = (event: WorkspaceCreditsEvent, metadata: CommandMetadata): NewEvent => ({
  type: event.type,
  schemaVersion: currentSchemaVersion(event.type),
  data: event.data,
  metadata: { ...metadata },
});
