/**
 * One batch of a workspace's commands, the way Emmett's handleCommand handles one command: take
 * the state at the stream's last revision, decide each command on it (folding each one's events
 * before deciding the next), and append every event of the batch in ONE append with the expected
 * revision. Nobody is answered before that append has committed: a result, a refusal or a repeat
 * of an earlier request all depend on it. When another writer got there first, the caller reloads
 * and decides the whole batch again; a batch that appends nothing (refusals, repeats) first checks
 * that the stream is still at the revision it was decided on.
 */
import type { LowBalancePolicy } from '../domain/alert-rules';
import { decide } from '../domain/decide';
import type { WorkspaceCreditsCommand } from '../domain/commands';
import type { WorkspaceCreditsEvent } from '../domain/events';
import { evolve } from '../domain/evolve';
import type { WorkspaceCreditsState } from '../domain/state';
import { isExpectedRevisionConflict, type EventStore, type NewEvent } from '../eventstore/port';
import { currentSchemaVersion } from '../events/upcasters';
import { newId } from '../ids';
import type { LoadedStream } from './workspace-states';

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

/** A command waiting for its workspace, and how to answer its caller. */
export interface QueuedCommand {
  command: WorkspaceCreditsCommand;
  metadata: CommandMetadata;
  resultOf: (state: WorkspaceCreditsState, events: readonly WorkspaceCreditsEvent[]) => unknown;
  /** Revision races lost so far. */
  attempts: number;
  resolve(outcome: CommandOutcome<unknown>): void;
  reject(error: unknown): void;
}

type Decided =
  | { queued: QueuedCommand; events: WorkspaceCreditsEvent[]; result: unknown }
  | { queued: QueuedCommand; error: unknown };

/** What became of the batch: nothing to append, committed at a revision, or lost to another writer. */
export type BatchResult = 'nothing' | 'conflict' | { revision: bigint; lastEventId: string | undefined };

/**
 * Decides the batch on `loaded.state` (which it advances) and appends. Resolves every caller once
 * the append has committed; on a revision conflict answers nobody and reports it, so that the
 * caller can forget the state (it ran ahead of the stream) and decide the batch again.
 */
export async function decideAndAppend(
  store: EventStore,
  stream: string,
  loaded: LoadedStream,
  batch: readonly QueuedCommand[],
  lowBalancePolicy?: LowBalancePolicy,
): Promise<BatchResult> {
  const decided: Decided[] = [];
  const events: NewEvent[] = [];
  for (const queued of batch) {
    let mine: WorkspaceCreditsEvent[];
    try {
      mine = decide(queued.command, loaded.state, lowBalancePolicy);
    } catch (error) {
      decided.push({ queued, error });
      continue;
    }
    for (const event of mine) evolve(loaded.state, event);
    for (const event of mine) events.push(toNewEvent(event, queued.metadata));
    decided.push({ queued, events: mine, result: queued.resultOf(loaded.state, mine) });
  }
  if (events.length === 0) {
    // Nothing to append, so no expected revision checks the state decided on: a refusal (or a
    // repeat) is only answered once the stream is known to hold nothing newer, which another
    // replica may have written since this state was cached.
    if ((await store.streamRevision(stream)) !== loaded.revision) return 'conflict';
    settle(decided, undefined);
    return 'nothing';
  }
  let appended;
  try {
    appended = await store.appendToStream(stream, events, { expectedRevision: loaded.revision ?? 'no_stream' });
  } catch (error) {
    if (isExpectedRevisionConflict(error)) return 'conflict';
    throw error;
  }
  settle(decided, appended.position);
  return { revision: appended.nextExpectedRevision, lastEventId: events[events.length - 1]?.id };
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
  id: newId(),
  type: event.type,
  schemaVersion: currentSchemaVersion(event.type),
  data: event.data,
  metadata: { ...metadata },
});
