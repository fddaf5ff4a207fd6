/**
 * Loads a webhook endpoint's stream, decides, and appends with the expected revision, as Emmett's
 * handleCommand does; commands on one endpoint are taken one at a time in this process, and its
 * state is kept in memory between them (an endpoint's stream grows with every delivery attempt).
 * When another process appended first, the state is reloaded and the command decided again, five
 * times at most.
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
import { isExpectedRevisionConflict, type EventStore } from '../eventstore/port';
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

const MAX_ATTEMPTS = 5;
/** Endpoints whose state is kept in memory; the least recently used are dropped beyond this. */
const CACHED_ENDPOINTS = 1_000;

export class WebhookEndpointHandler {
  private readonly loaded = new Map<string, Loaded>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly store: EventStore) {}

  /** Decides `command` on its endpoint's stream and appends what it decided. */
  handle(command: WebhookEndpointCommand, metadata: CommandMetadata): Promise<EndpointOutcome<WebhookEndpointState>> {
    const id = command.data.endpointId;
    const previous = this.queues.get(id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.decideAndAppend(command, metadata));
    this.queues.set(id, run);
    void run
      .finally(() => {
        if (this.queues.get(id) === run) this.queues.delete(id);
      })
      .catch(() => undefined);
    return run;
  }

  private async decideAndAppend(
    command: WebhookEndpointCommand,
    metadata: CommandMetadata,
  ): Promise<EndpointOutcome<WebhookEndpointState>> {
    const id = command.data.endpointId;
    const stream = webhookEndpointStreamName(id);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const loaded = this.loaded.get(id) ?? (await this.load(stream));
      const events = decide(command, loaded.state);
      if (events.length === 0) return { result: loaded.state, events: [], position: undefined };
      try {
        const appended = await this.store.appendToStream(
          stream,
          events.map((event) => toNewWebhookEndpointEvent(event, newId(), { ...metadata })),
          { expectedRevision: loaded.revision ?? 'no_stream' },
        );
        for (const event of events) evolve(loaded.state, event);
        loaded.revision = appended.nextExpectedRevision;
        this.remember(id, loaded);
        return { result: loaded.state, events, position: appended.position };
      } catch (error) {
        this.loaded.delete(id);
        if (!isExpectedRevisionConflict(error)) throw error;
      }
    }
    throw conflict(`Webhook endpoint "${id}" kept changing; try again.`);
  }

  private async load(stream: string): Promise<Loaded> {
    const loaded: Loaded = { state: initialState(), revision: undefined };
    for await (const recorded of this.store.readStream(stream)) {
      const event: WebhookEndpointEvent | undefined = toWebhookEndpointEvent(recorded);
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
