/**
 * Loads a webhook endpoint's stream, decides, and appends with the expected revision, as Emmett's
 * handleCommand does. Commands on one endpoint queue while its previous append commits (the
 * workspaces' queues, workspace-queues.ts, keyed by endpoint), and then go together: each decided
 * on the state the ones before it left, all their events in one append, so a busy endpoint's
 * delivery attempts cost one durable commit per batch, not per attempt. Nobody is answered before
 * that append has committed. The state is kept in memory between batches, since the stream grows
 * with every attempt. When another process appended first, the state is reloaded and the batch
 * decided again, refusals included, five times at most.
 */
import { keptChanging } from '../domain/errors';
import {
  decide,
  evolve,
  initialState,
  type WebhookEndpointCommand,
  type WebhookEndpointState,
} from '../domain/webhooks/endpoint-decider';
import type { WebhookEndpointEvent } from '../domain/webhooks/endpoint-events';
import {
  toNewWebhookEndpointEvent,
  toWebhookEndpointEvent,
  webhookEndpointStreamName,
} from '../events/webhook-endpoint-stream';
import { isExpectedRevisionConflict, type EventStore } from '../eventstore/port';
import { newId } from '../ids';
import type { CommandMetadata } from './decide-and-append';
import { WorkspaceQueues } from './workspace-queues';

/** What a command came to: its answer, the events appended and the position of the last (for read-your-writes). */
export interface EndpointOutcome<R> {
  result: R;
  events: WebhookEndpointEvent[];
  position: bigint | undefined;
}

interface Loaded {
  state: WebhookEndpointState;
  revision: bigint | undefined;
  /** Position of the stream's last event folded in. */
  position: bigint | undefined;
}

/** A copy to decide on or hand out: a lost race must leave the cached state as the stream has it. */
const copyOf = (state: WebhookEndpointState): WebhookEndpointState => ({
  ...state,
  eventTypes: [...state.eventTypes],
  rotationKeys: [...state.rotationKeys],
  recentRedeliveries: [...state.recentRedeliveries],
});

interface Queued {
  command: WebhookEndpointCommand;
  metadata: CommandMetadata;
  /** Revision races lost so far. */
  attempts: number;
  resolve(outcome: EndpointOutcome<WebhookEndpointState>): void;
  reject(error: unknown): void;
}

const MAX_ATTEMPTS = 5;
const MAX_BATCH = 500;
/** Endpoints whose state is kept in memory; the least recently used are dropped beyond this. */
const CACHED_ENDPOINTS = 1_000;

export class WebhookEndpointHandler {
  private readonly loaded = new Map<string, Loaded>();
  private readonly queues = new WorkspaceQueues<Queued>(
    {
      run: (id, batch) => this.run(id, batch),
      afterBatch: () => Promise.resolve(),
      fail: (queued, error) => queued.reject(error),
    },
    MAX_BATCH,
  );

  constructor(private readonly store: EventStore) {}

  /** Decides `command` on its endpoint's stream and appends what it decided. */
  handle(command: WebhookEndpointCommand, metadata: CommandMetadata): Promise<EndpointOutcome<WebhookEndpointState>> {
    return new Promise((resolve, reject) =>
      this.queues.enqueue(command.data.endpointId, { command, metadata, attempts: 0, resolve, reject }),
    );
  }

  /**
   * The endpoint as its stream has it now, with the position of its last event: what this process
   * folded before, caught up with what any process appended since (read from where the cache left
   * off, so that a long stream of attempts is read once), for the rare paths that must know, such
   * as a create retried or a look for deleted endpoints.
   */
  async current(endpointId: string): Promise<{ state: WebhookEndpointState; position: bigint | undefined }> {
    const cached = this.loaded.get(endpointId);
    const loaded = await this.foldOn(
      webhookEndpointStreamName(endpointId),
      cached ? { ...cached, state: copyOf(cached.state) } : undefined,
    );
    if (!this.loaded.has(endpointId) && loaded.revision !== undefined) {
      this.remember(endpointId, { ...loaded, state: copyOf(loaded.state) });
    }
    return { state: loaded.state, position: loaded.position };
  }

  /** Whether the endpoint's stream has been written (its first event read, no more). */
  async exists(endpointId: string): Promise<boolean> {
    for await (const _ of this.store.readStream(webhookEndpointStreamName(endpointId), { maxCount: 1 })) return true;
    return false;
  }

  /** Decides and appends one batch; returns the commands to decide again after a revision conflict. */
  private async run(id: string, batch: Queued[]): Promise<Queued[]> {
    const stream = webhookEndpointStreamName(id);
    const loaded = this.loaded.get(id) ?? (await this.load(stream));
    const state = copyOf(loaded.state);
    const decided = batch.map((queued) => {
      try {
        const events = decide(queued.command, state);
        for (const event of events) evolve(state, event);
        return { queued, events };
      } catch (error) {
        return { queued, error };
      }
    });
    const appending = decided.flatMap(({ queued, events = [] }) =>
      events.map((event) => toNewWebhookEndpointEvent(event, newId(), { ...queued.metadata })),
    );
    let position: bigint | undefined;
    if (appending.length > 0) {
      try {
        const appended = await this.store.appendToStream(stream, appending, {
          expectedRevision: loaded.revision ?? 'no_stream',
        });
        position = appended.position;
        this.remember(id, { state, revision: appended.nextExpectedRevision, position: appended.position });
      } catch (error) {
        this.loaded.delete(id);
        if (!isExpectedRevisionConflict(error)) throw error;
        return batch.filter((queued) => {
          queued.attempts += 1;
          if (queued.attempts < MAX_ATTEMPTS) return true;
          queued.reject(keptChanging(`Webhook endpoint "${id}" kept changing; try again.`));
          return false;
        });
      }
    }
    for (const { queued, events, error } of decided) {
      if (events === undefined) queued.reject(error);
      else queued.resolve({ result: state, events, position: events.length > 0 ? position : undefined });
    }
    return [];
  }

  private load(stream: string): Promise<Loaded> {
    return this.foldOn(stream, undefined);
  }

  /** `from` (folded up to its revision; changed in place) caught up with the stream's later events, or the whole stream. */
  private async foldOn(stream: string, from: Loaded | undefined): Promise<Loaded> {
    const loaded = from ?? { state: initialState(), revision: undefined, position: undefined };
    const fromRevision = loaded.revision === undefined ? 0n : loaded.revision + 1n;
    for await (const recorded of this.store.readStream(stream, { fromRevision })) {
      const event = toWebhookEndpointEvent(recorded);
      if (event) evolve(loaded.state, event);
      loaded.revision = recorded.revision;
      loaded.position = recorded.position;
    }
    return loaded;
  }

  private remember(id: string, loaded: Loaded): void {
    this.loaded.delete(id);
    this.loaded.set(id, loaded);
    if (this.loaded.size > CACHED_ENDPOINTS) this.loaded.delete(this.loaded.keys().next().value as string);
  }
}
