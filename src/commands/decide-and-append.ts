/**
 * One batch of a workspace's commands, the way Emmett's handleCommand handles one command: take
 * the state at the stream's last revision, decide each command on it (folding each one's events
 * before deciding the next), and append every event of the batch in ONE append with the expected
 * revision. Nobody is answered before that append has committed: a result, a refusal or a repeat
 * of an earlier request all depend on it. When another writer got there first, the caller reloads
 * and decides the whole batch again; a batch that appends nothing (refusals, repeats) first checks
 * that the stream is still at the revision it was decided on.
 *
 * A store with an append size limit (`maxAppendBytes`, EventStoreDB) ends the batch before the
 * command whose events would take the append past it: that command and the ones after it are left
 * undecided, for the caller to run as the next batch. The first command with events always goes,
 * however large, except when most of it is the expiries of holds due by the thousand: those are
 * appended first, as many at a time as fit, and the command is decided again after them.
 */
import type { LowBalancePolicy } from '../domain/alert-rules';
import { decide } from '../domain/decide';
import { expireDueHolds } from '../domain/decisions/hold-expiries';
import type { WorkspaceCreditsCommand } from '../domain/commands';
import type { WorkspaceCreditsEvent } from '../domain/events';
import { evolve } from '../domain/evolve';
import type { WorkspaceCreditsState } from '../domain/state';
import { appendBytes, isExpectedRevisionConflict, type EventStore, type NewEvent } from '../eventstore/port';
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

/** A batch decided on a state: the answers and events of its first commands, and the rest. */
export interface DecidedBatch {
  decided: Decided[];
  events: NewEvent[];
  /** The commands left out to keep the append within the store's budget, in order, not decided. */
  undecided: QueuedCommand[];
  /**
   * The command whose due hold expiries are all this batch appends (the first of `undecided`):
   * should that append fail, it is the one answered with the failure, so that a store that keeps
   * failing ends the command rather than having its expiries tried again and again.
   */
  expiriesFor?: QueuedCommand;
}

/**
 * Decides the batch's commands on `loaded.state`, which it advances, until the next command's
 * events would take the append past `maxAppendBytes` (see the header). Touches no store.
 */
export function decideBatch(
  loaded: LoadedStream,
  batch: readonly QueuedCommand[],
  lowBalancePolicy: LowBalancePolicy | undefined,
  maxAppendBytes: number | undefined,
): DecidedBatch {
  const decided: Decided[] = [];
  const events: NewEvent[] = [];
  let bytes = 0;
  for (let i = 0; i < batch.length; i++) {
    const queued = batch[i]!;
    let mine: WorkspaceCreditsEvent[];
    try {
      mine = decide(queued.command, loaded.state, lowBalancePolicy);
    } catch (error) {
      decided.push({ queued, error });
      continue;
    }
    const newEvents = mine.map((event) => toNewEvent(event, queued.metadata));
    if (maxAppendBytes !== undefined && newEvents.length > 0) {
      // decide is pure: a command left out here has changed nothing, the state is not evolved yet.
      const size = newEvents.reduce((sum, event) => sum + appendBytes(event), 0);
      if (events.length > 0 && bytes + size > maxAppendBytes) return { decided, events, undecided: batch.slice(i) };
      if (size > maxAppendBytes) {
        // Too large alone: holds by the thousand due at once (a deadline many jobs shared, a
        // server down for a while). Their expiries, which any decision writes first, go alone
        // in appends within the budget, and the command is decided again after them.
        const prelude = dueHoldExpiries(loaded.state, queued, maxAppendBytes);
        if (prelude.length > 0) {
          for (const event of prelude) evolve(loaded.state, event);
          return {
            decided,
            events: prelude.map((event) => toNewEvent(event, queued.metadata)),
            undecided: batch.slice(i),
            expiriesFor: queued,
          };
        }
      }
      bytes += size;
    }
    for (const event of mine) evolve(loaded.state, event);
    events.push(...newEvents);
    decided.push({ queued, events: mine, result: queued.resultOf(loaded.state, mine) });
  }
  return { decided, events, undecided: [] };
}

/** The fewest hold expiries a prelude is cut down to before it is given up on. */
const MIN_PRELUDE_HOLDS = 1;

/**
 * The expiries of as many of the holds due as fit in one append (up to a thousand, halved until
 * they fit), oldest first, with the grant expiries and lapses each brings: the same events, in the
 * same order, as the start of the command's own decision. Empty when no hold is due.
 */
function dueHoldExpiries(
  state: WorkspaceCreditsState,
  queued: QueuedCommand,
  maxAppendBytes: number,
): WorkspaceCreditsEvent[] {
  const { workspaceId } = queued.command.data;
  const now = queued.command.data.now.getTime();
  for (let limit = 1_000; limit >= MIN_PRELUDE_HOLDS; limit = Math.floor(limit / 2)) {
    const { events } = expireDueHolds(state, workspaceId, now, limit);
    const size = events.reduce((sum, event) => sum + appendBytes(toNewEvent(event, queued.metadata)), 0);
    if (size <= maxAppendBytes) return events;
  }
  // Not even one hold's expiry (with the grant expiries before it) fits: the command goes whole,
  // and the store's refusal answers it.
  return [];
}

/**
 * Appends a decided batch with the expected revision it was decided on. Resolves every decided
 * caller once the append has committed; on a revision conflict answers nobody and reports it, so
 * that the caller can forget the state (it ran ahead of the stream) and decide the batch again.
 */
export async function appendDecided(
  store: EventStore,
  stream: string,
  loaded: LoadedStream,
  { decided, events }: DecidedBatch,
): Promise<BatchResult> {
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
