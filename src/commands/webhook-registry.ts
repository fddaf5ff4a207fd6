/**
 * The owners' webhook endpoint registries (domain/webhooks/endpoint-registry.ts) as the endpoint
 * commands use them: an owner's registry folded from its stream, and appends to it at the revision
 * it was folded at. Work on one owner's registry runs one at a time in this process (`serial`), so
 * that a burst of creates queues rather than races; another process appending first shows as a
 * revision conflict, and the caller decides again.
 */
import {
  copyRegistryState,
  evolveRegistry,
  initialRegistryState,
  type WebhookRegistryEvent,
  type WebhookRegistryState,
} from '../domain/webhooks/endpoint-registry';
import {
  toNewWebhookRegistryEvent,
  toWebhookRegistryEvent,
  webhookRegistryStreamName,
} from '../events/webhook-registry-stream';
import type { EventStore, ExpectedRevision } from '../eventstore/port';
import { newId } from '../ids';
import type { CommandMetadata } from './decide-and-append';

export interface LoadedRegistry {
  state: WebhookRegistryState;
  /** The revision it was folded at: the expected revision of the next append. */
  revision: ExpectedRevision;
}

/** Owners whose registry stays folded in memory; the least recently used go first beyond this. */
const CACHED_REGISTRIES = 1_000;

export class WebhookRegistries {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly folded = new Map<string, LoadedRegistry>();

  constructor(private readonly store: EventStore) {}

  /** Runs `work` once every earlier piece of work on the same owner's registry has finished. */
  serial<T>(workspaceId: string | null, work: () => Promise<T>): Promise<T> {
    const stream = webhookRegistryStreamName(workspaceId);
    const before = this.tails.get(stream) ?? Promise.resolve();
    const running = before.then(work, work);
    const tail = running.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(stream, tail);
    void tail.then(() => {
      if (this.tails.get(stream) === tail) this.tails.delete(stream);
    });
    return running;
  }

  /**
   * The owner's registry as its stream has it now: what this process folded before, and the events
   * appended since, read from where it left off (the stream grows with every create and delete).
   * The answer is a copy, to decide on.
   */
  async load(workspaceId: string | null): Promise<LoadedRegistry> {
    const stream = webhookRegistryStreamName(workspaceId);
    const known = this.folded.get(stream) ?? { state: initialRegistryState(), revision: 'no_stream' as const };
    const fromRevision = known.revision === 'no_stream' ? 0n : (known.revision as bigint) + 1n;
    // Folded into a copy: two loads of one owner at once never apply an event twice to one state.
    const state = copyRegistryState(known.state);
    let { revision } = known;
    for await (const recorded of this.store.readStream(stream, { fromRevision })) {
      const event = toWebhookRegistryEvent(recorded);
      if (event) evolveRegistry(state, event);
      revision = recorded.revision;
    }
    const loaded = { state, revision };
    this.folded.delete(stream);
    this.folded.set(stream, loaded);
    if (this.folded.size > CACHED_REGISTRIES) this.folded.delete(this.folded.keys().next().value as string);
    return { state: copyRegistryState(loaded.state), revision };
  }

  async append(
    workspaceId: string | null,
    events: WebhookRegistryEvent[],
    expectedRevision: ExpectedRevision,
    metadata: CommandMetadata,
  ): Promise<void> {
    await this.store.appendToStream(
      webhookRegistryStreamName(workspaceId),
      events.map((event) => toNewWebhookRegistryEvent(event, newId(), { ...metadata })),
      { expectedRevision },
    );
  }
}
