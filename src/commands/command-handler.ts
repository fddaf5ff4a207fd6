/**
 * The command side's entry point: a command goes into its workspace's queue (workspace-queues.ts),
 * is decided with the other commands queued meanwhile on the workspace's state (workspace-states.ts)
 * and appended with the expected revision (decide-and-append.ts). When another process appended
 * first, the state is dropped, reloaded, and the batch decided again, a bounded number of times.
 * When the store limits an append's size, the commands a batch could not take go back to the front
 * of the queue, as they were: they lost no race. A command whose events the store refuses for their
 * size (more than it takes in one append) is refused, LIMIT_EXCEEDED, with nothing recorded.
 */
import type { LowBalancePolicy } from '../domain/alert-rules';
import { keptChanging, tooLargeToRecord } from '../domain/errors';
import type { WorkspaceCreditsCommand } from '../domain/commands';
import type { WorkspaceCreditsEvent } from '../domain/events';
import type { WorkspaceCreditsState } from '../domain/state';
import { isAppendTooLarge, type AppendTooLarge, type EventStore } from '../eventstore/port';
import { workspaceStreamName } from '../events/workspace-stream';
import {
  appendDecided,
  decideBatch,
  type CommandMetadata,
  type CommandOutcome,
  type DecidedBatch,
  type QueuedCommand,
} from './decide-and-append';
import { WorkspaceQueues } from './workspace-queues';
import { WorkspaceStates, type LoadedStream, type WorkspaceStatesOptions } from './workspace-states';

export { DEFAULT_RETRY_RECORDS_IN_MEMORY, DEFAULT_SNAPSHOT_EVERY, DEFAULT_STATE_CACHE_BYTES } from './workspace-states';
export type { CommandMetadata, CommandOutcome } from './decide-and-append';

export interface CommandHandlerOptions extends WorkspaceStatesOptions {
  /** Attempts before a command that keeps losing revision races is refused with CONFLICT. Default 5. */
  maxAttempts?: number;
  /** Most commands decided into one append. Default 1,000. */
  maxBatch?: number;
  /** The catalog's low-balance rule, for workspaces that set no threshold. Default: the domain's. */
  lowBalancePolicy?: LowBalancePolicy;
}

export class WorkspaceCreditsCommandHandler {
  private readonly states: WorkspaceStates;
  private readonly queues: WorkspaceQueues<QueuedCommand>;
  private readonly maxAttempts: number;
  private readonly lowBalancePolicy: LowBalancePolicy | undefined;

  constructor(
    private readonly store: EventStore,
    options: CommandHandlerOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.lowBalancePolicy = options.lowBalancePolicy;
    this.states = new WorkspaceStates(store, options);
    this.queues = new WorkspaceQueues<QueuedCommand>(
      {
        run: (stream, batch) => this.runBatch(stream, batch),
        afterBatch: (stream) => this.states.snapshotIfDue(stream),
        fail: (queued, error) => queued.reject(error),
      },
      options.maxBatch ?? 1_000,
    );
  }

  /**
   * Decides `command` and appends its events. `resultOf` reads the caller's answer from the state
   * right after the command's events.
   */
  handle<R>(
    command: WorkspaceCreditsCommand,
    metadata: CommandMetadata,
    resultOf: (state: WorkspaceCreditsState, events: readonly WorkspaceCreditsEvent[]) => R,
  ): Promise<CommandOutcome<R>> {
    return new Promise<CommandOutcome<R>>((resolve, reject) => {
      this.queues.enqueue(workspaceStreamName(command.data.workspaceId), {
        command,
        metadata,
        resultOf,
        attempts: 0,
        resolve: resolve as QueuedCommand['resolve'],
        reject,
      });
    });
  }

  /** The workspace states kept in memory: how many, and their approximate bytes. */
  cacheUsage(): { workspaces: number; bytes: number } {
    return this.states.cacheUsage();
  }

  /** The workspace's current state, loaded afresh from its snapshot and stream. */
  load(stream: string): Promise<LoadedStream> {
    return this.states.load(stream);
  }

  /** Answers every queued command, then snapshots the cached workspaces that are due one. */
  async close(): Promise<void> {
    await this.queues.idle();
    await this.states.close();
  }

  /** Resolves once every queued command has been answered and every snapshot under way written. */
  async idle(): Promise<void> {
    await this.queues.idle();
    await this.states.idle();
  }

  /**
   * Decides and appends one batch; returns the commands to run again: those decided again after a
   * revision conflict, then those the store's append budget left out of this batch.
   */
  private async runBatch(stream: string, batch: QueuedCommand[]): Promise<QueuedCommand[]> {
    const loaded = await this.states.get(stream);
    this.states.recall(stream, loaded, namesOf(batch));
    let decision: DecidedBatch | undefined;
    let result;
    try {
      decision = decideBatch(loaded, batch, this.lowBalancePolicy, this.store.maxAppendBytes);
      result = await appendDecided(this.store, stream, loaded, decision);
    } catch (error) {
      this.states.forget(stream); // the state may have run ahead of the stream
      if (decision && isAppendTooLarge(error)) return this.refuseTooLarge(decision, error);
      if (!decision || decision.undecided.length === 0) throw error;
      // Only the commands of the failed append are told; the ones left out were never tried. An
      // append of due hold expiries alone was tried for the command it was split from: it is told.
      for (const { queued } of decision.decided) queued.reject(error);
      const { expiriesFor } = decision;
      if (!expiriesFor) return decision.undecided;
      expiriesFor.reject(error);
      return decision.undecided.filter((queued) => queued !== expiriesFor);
    } finally {
      // Every answer was read from the state as the batch was decided: what was brought back goes.
      this.states.letRecalledGo(loaded);
    }
    const { decided, undecided } = decision;
    if (result === 'nothing') return undecided;
    if (result !== 'conflict') {
      this.states.committed(stream, loaded, result.revision, result.lastEventId);
      return undecided;
    }
    // The state ran ahead of the stream: forget it; the next batch reloads. Every command of the
    // batch, refused ones included, is decided again: its answer was worked out on events that
    // were never written.
    this.states.forget(stream);
    const retry: QueuedCommand[] = [];
    for (const { queued } of decided) {
      queued.attempts += 1;
      if (queued.attempts < this.maxAttempts) retry.push(queued);
      else queued.reject(keptChanging(`The workspace kept changing under this command; try again.`));
    }
    return [...retry, ...undecided];
  }

  /**
   * The store refused the batch's append for its size. Within the append budget, that is the one
   * command whose events alone exceed it (the first of a batch always goes, however large): it is
   * refused, LIMIT_EXCEEDED, and the others are decided again without it, as they lost no race. A
   * batch of due hold expiries (or a server whose limit is below the budget) leaves no one command to
   * blame: every command tried is told, as for any failed append.
   */
  private refuseTooLarge(decision: DecidedBatch, error: AppendTooLarge): QueuedCommand[] {
    const refusal = tooLargeToRecord(error.limit);
    const withEvents = decision.decided.filter((outcome) => 'events' in outcome && outcome.events.length > 0);
    if (decision.expiriesFor || withEvents.length !== 1) {
      for (const { queued } of decision.decided) queued.reject(refusal);
      if (decision.expiriesFor) decision.expiriesFor.reject(refusal);
      return decision.undecided.filter((queued) => queued !== decision.expiriesFor);
    }
    const [tooLarge] = withEvents;
    tooLarge!.queued.reject(refusal);
    const others = decision.decided.filter((outcome) => outcome !== tooLarge).map(({ queued }) => queued);
    return [...others, ...decision.undecided];
  }
}

/**
 * What a batch names that may be out of memory: the keys of its spends and reserves (a retry must
 * get the first answer) and the holds its settles, releases and extensions name.
 */
function namesOf(batch: readonly QueuedCommand[]): {
  spendKeys: string[];
  holdIds: string[];
  holdKeys: string[];
} {
  const names = { spendKeys: [] as string[], holdIds: [] as string[], holdKeys: [] as string[] };
  for (const { command } of batch) {
    if (command.type === 'ConsumeCredits') names.spendKeys.push(command.data.idempotencyKey);
    else if (command.type === 'ReserveCredits') names.holdKeys.push(command.data.idempotencyKey);
    else if (
      command.type === 'SettleCreditHold' ||
      command.type === 'ReleaseCreditHold' ||
      command.type === 'ExtendCreditHold'
    ) {
      names.holdIds.push(command.data.holdId);
    }
  }
  return names;
}
