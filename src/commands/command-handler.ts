/**
 * Handles a command against one workspace's stream: load the state, decide, append with the
 * expected revision. Within this process commands on a workspace are serialised and its state is
 * cached, so the common case is one decide and one append. When another process appended first,
 * the append fails on its revision check; the handler then reloads and decides again, a bounded
 * number of times.
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
import { KeyedSerializer } from './keyed-serializer';

export interface CommandHandlerOptions {
  /** Attempts before a command that keeps losing revision races is refused with CONFLICT. Default 5. */
  maxAttempts?: number;
  /** Workspaces whose state is kept in memory between commands. Default 10,000. */
  cachedWorkspaces?: number;
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

export class WorkspaceCreditsCommandHandler {
  private readonly serializer = new KeyedSerializer();
  private readonly cache: LRUCache<string, LoadedStream>;
  private readonly maxAttempts: number;

  constructor(
    private readonly store: EventStore,
    options: CommandHandlerOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.cache = new LRUCache({ max: options.cachedWorkspaces ?? 10_000 });
  }

  /**
   * Decides `command` and appends its events. `resultOf` reads the caller's answer from the state
   * after the command, while no other command on the workspace can change it.
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
   * command to decide, or nothing when there is nothing left to do. No other command on the workspace runs in between, in this process; if
   * another process appends meanwhile, the command is decided again on the fresh state.
   */
  handleAfter<R>(
    workspaceId: string,
    prepare: (state: WorkspaceCreditsState) => Promise<WorkspaceCreditsCommand | undefined>,
    metadata: CommandMetadata,
    resultOf: (state: WorkspaceCreditsState) => R,
  ): Promise<CommandOutcome<R>> {
    const stream = workspaceStreamName(workspaceId);
    return this.serializer.run(stream, async () => {
      const prepared = this.cache.get(stream) ?? (await this.load(stream));
      this.cache.set(stream, prepared);
      const command = await prepare(prepared.state);
      if (!command) return { result: resultOf(prepared.state), events: [], position: undefined };
      for (let attempt = 1; ; attempt++) {
        const loaded = this.cache.get(stream) ?? (await this.load(stream));
        const events = decide(command, loaded.state);
        if (events.length === 0) return { result: resultOf(loaded.state), events, position: undefined };
        try {
          const appended = await this.store.appendToStream(
            stream,
            events.map((event) => toNewEvent(event, metadata)),
            { expectedRevision: loaded.revision ?? 'no_stream' },
          );
          for (const event of events) evolve(loaded.state, event);
          loaded.revision = appended.nextExpectedRevision;
          this.cache.set(stream, loaded);
          return { result: resultOf(loaded.state), events, position: appended.position };
        } catch (error) {
          this.cache.delete(stream);
          if (!isExpectedRevisionConflict(error)) throw error;
          if (attempt >= this.maxAttempts) {
            throw conflict(`Workspace ${workspaceId} kept changing under this command; try again.`);
          }
        }
      }
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
}

const toNewEvent = (event: WorkspaceCreditsEvent, metadata: CommandMetadata): NewEvent => ({
  type: event.type,
  schemaVersion: currentSchemaVersion(event.type),
  data: event.data,
  metadata: { ...metadata },
});
