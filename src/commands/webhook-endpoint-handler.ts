/**
 * Loads a webhook endpoint's stream, decides, and appends with the expected revision, as Emmett's
 * handleCommand does. Commands on one endpoint queue while its previous append commits, and then
 * go together: each decided on the state the ones before it left, all their events in one append
 * (a busy endpoint's delivery attempts cost one durable commit per batch, not per attempt). The
 * state is kept in memory between batches, since the stream grows with every attempt. When another
 * process appended first, the state is reloaded and the batch decided again, five times at most.
 */
import { conflict } from '../domain/errors';
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
import { isExpectedRevisionConflict, type EventStore, type NewEvent } from '../eventstore/port';
import { newId } from '../ids';
import type { CommandMetadata } from './decide-and-append';

/** What a command came to: its answer, the events appended and the position of the last (for read-your-writes). */
export interface EndpointOutcome<R> {
  result: R;
  events: WebhookEndpointEvent[];
  position: bigint | undefined;
}

interface Loaded {
  state: WebhookEndpointState;
  revision: bigint | undefined;
}

interface Queued {
  command: WebhookEndpointCommand;
  metadata: CommandMetadata;
  resolve(outcome: EndpointOutcome<WebhookEndpointState>): void;
  reject(error: unknown): void;
}

const MAX_ATTEMPTS = 5;
const MAX_BATCH = 500;
/** Endpoints whose state is kept in memory; the least recently used are dropped beyond this. */
const CACHED_ENDPOINTS = 1_000;

export class WebhookEndpointHandler {
  private readonly loaded = new Map<string, Loaded>();
  private readonly queues = new Map<string, Queued[]>();

  constructor(private readonly store: EventStore) {}

  /** Decides `command` on its endpoint's stream and appends what it decided. */
  handle(command: WebhookEndpointCommand, metadata: CommandMetadata): Promise<EndpointOutcome<WebhookEndpointState>> {
    return new Promise((resolve, reject) => {
      const id = command.data.endpointId;
      const queued = { command, metadata, resolve, reject };
      const queue = this.queues.get(id);
      if (queue) {
        queue.push(queued);
        return;
      }
      this.queues.set(id, [queued]);
      void this.drain(id);
    });
  }

  private async drain(id: string): Promise<void> {
    for (;;) {
      const queue = this.queues.get(id) ?? [];
      const batch = queue.splice(0, MAX_BATCH);
      if (batch.length === 0) {
        this.queues.delete(id);
        return;
      }
      try {
        await this.run(id, batch);
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
  }

  private async run(id: string, batch: Queued[]): Promise<void> {
    const stream = webhookEndpointStreamName(id);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const loaded = this.loaded.get(id) ?? (await this.load(stream));
      // Decided on a copy: a lost race must leave the cached state as the stream has it.
      const state = { ...loaded.state, eventTypes: [...loaded.state.eventTypes] };
      const decided: { queued: Queued; events: WebhookEndpointEvent[] }[] = [];
      const appending: NewEvent[] = [];
      for (const queued of batch) {
        try {
          const events = decide(queued.command, state);
          for (const event of events) evolve(state, event);
          decided.push({ queued, events });
          for (const event of events) appending.push(toNewWebhookEndpointEvent(event, newId(), { ...queued.metadata }));
        } catch (error) {
          queued.reject(error);
        }
      }
      if (appending.length === 0) {
        for (const { queued } of decided) queued.resolve({ result: state, events: [], position: undefined });
        return;
      }
      try {
        const appended = await this.store.appendToStream(stream, appending, {
          expectedRevision: loaded.revision ?? 'no_stream',
        });
        this.remember(id, { state, revision: appended.nextExpectedRevision });
        for (const { queued, events } of decided) {
          queued.resolve({ result: state, events, position: events.length > 0 ? appended.position : undefined });
        }
        return;
      } catch (error) {
        this.loaded.delete(id);
        if (!isExpectedRevisionConflict(error)) throw error;
        batch = decided.map(({ queued }) => queued);
      }
    }
    throw conflict(`Webhook endpoint "${id}" kept changing; try again.`);
  }

  private async load(stream: string): Promise<Loaded> {
    const loaded: Loaded = { state: initialState(), revision: undefined };
    for await (const recorded of this.store.readStream(stream)) {
      const event = toWebhookEndpointEvent(recorded);
      if (event) evolve(loaded.state, event);
      loaded.revision = recorded.revision;
    }
    return loaded;
  }

  private remember(id: string, loaded: Loaded): void {
    this.loaded.delete(id);
    this.loaded.set(id, loaded);
    if (this.loaded.size > CACHED_ENDPOINTS) this.loaded.delete(this.loaded.keys().next().value as string);
  }
}
