/**
 * Which replica performs the reactions' side effects. Every replica derives the same work; only
 * the holder of the reactor lease performs it, so a side effect is not attempted twice at once.
 * The lease is an event in the event store (stream `reactor-lease`), taken by appending at the
 * stream's revision: of two replicas trying at once, one wins. It lasts `ttlMs` and is renewed
 * while its holder has work; when the holder dies, another replica takes it once it has lapsed
 * and retries what was in flight with the same idempotency keys. A server restarted on the dead
 * holder's DATA_DIR, which the DATA_DIR lock proves ended, takes it over at once (`predecessor`).
 */
import type { Clock } from '../src/clock';
import { isExpectedRevisionConflict, type EventStore } from '../src/eventstore/port';

export const LEASE_STREAM = 'reactor-lease';

export interface LeaseOptions {
  /** How long a lease lasts without renewal. Default 15 s. */
  ttlMs?: number;
  /**
   * A holder known to have ended (the process this one restarted after, on the same DATA_DIR): its
   * lease is taken over at once rather than waited out, on the first taking only.
   */
  predecessor?: string | undefined;
}

export class ReactorLease {
  private until = 0;
  private readonly ttlMs: number;
  private predecessor: string | undefined;

  constructor(
    private readonly store: EventStore,
    readonly holder: string,
    private readonly clock: Clock,
    options: LeaseOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 15_000;
    this.predecessor = options.predecessor;
  }

  /** Whether this replica holds the lease now, taking or renewing it when it can. */
  async hold(): Promise<boolean> {
    const now = this.clock.now().getTime();
    if (this.until - now > (this.ttlMs * 2) / 3) return true;
    const revision = await this.store.streamRevision(LEASE_STREAM);
    const current = revision === undefined ? undefined : await this.leaseAt(revision);
    const mine = current?.holder === this.holder || current?.holder === this.predecessor;
    if (current && !mine && current.until > now) {
      this.until = 0;
      return false;
    }
    const until = now + this.ttlMs;
    try {
      await this.store.appendToStream(
        LEASE_STREAM,
        [{ type: 'ReactorLeaseTaken', data: { holder: this.holder, until: new Date(until).toISOString() } }],
        { expectedRevision: revision ?? 'no_stream' },
      );
    } catch (error) {
      if (isExpectedRevisionConflict(error)) return false;
      throw error;
    }
    this.until = until;
    this.predecessor = undefined;
    return true;
  }

  /** Gives the lease up (a clean shutdown), so another replica need not wait for it to lapse. */
  async release(): Promise<void> {
    if (this.until <= this.clock.now().getTime()) return;
    const revision = await this.store.streamRevision(LEASE_STREAM);
    this.until = 0;
    await this.store
      .appendToStream(
        LEASE_STREAM,
        [{ type: 'ReactorLeaseTaken', data: { holder: this.holder, until: new Date(0).toISOString() } }],
        { expectedRevision: revision ?? 'no_stream' },
      )
      .catch(() => undefined);
  }

  private async leaseAt(revision: bigint): Promise<{ holder: string; until: number } | undefined> {
    for await (const event of this.store.readStream(LEASE_STREAM, { fromRevision: revision, maxCount: 1 })) {
      return { holder: String(event.data.holder), until: Date.parse(String(event.data.until)) };
    }
    return undefined;
  }
}
