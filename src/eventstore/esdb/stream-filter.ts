/**
 * Which events of `$all` belong to the store. EventStoreDB's `$all` holds every event of the
 * database: system events (`$`-prefixed streams and types: users, settings, statistics, projection
 * links…) and possibly other services' streams. The store reads only:
 *
 * - the streams starting with one of `streamPrefixes` when given (the credits service passes
 *   `workspace-credits-`, `reactions-`, `payment-provider-refused-` and `webhook-endpoint-`: see
 *   FOLLOWED_STREAM_PREFIXES), never a `$` stream;
 * - otherwise every stream that is not a system stream and every event whose type is not a system type.
 *
 * Subscriptions send the filter to the server, which then skips the rest without sending it; reads
 * of `$all` filter on this side (the 6.2 client cannot send a filter with a read); both also apply
 * `accepts` to every event they receive. Another application's stream may still match a prefix:
 * what the adapter then skips is in event-codec.ts (`isStoreShaped`).
 */
import { excludeSystemEvents, streamNameFilter, type Filter } from '@eventstore/db-client';

export class StreamFilter {
  private readonly prefixes: readonly string[] | undefined;

  constructor(streamPrefixes: readonly string[] | undefined) {
    if (streamPrefixes !== undefined) {
      if (streamPrefixes.length === 0) throw new RangeError('streamPrefixes must name at least one prefix');
      for (const prefix of streamPrefixes) {
        if (prefix === '' || prefix.startsWith('$')) {
          throw new RangeError(`A stream prefix must be non-empty and not a system prefix, got "${prefix}"`);
        }
      }
    }
    this.prefixes = streamPrefixes;
  }

  /** Whether an event of `streamName` with `type` is one of the store's. */
  accepts(streamName: string, type: string): boolean {
    if (streamName.startsWith('$') || type.startsWith('$')) return false;
    return this.prefixes === undefined || this.prefixes.some((prefix) => streamName.startsWith(prefix));
  }

  /** The server-side filter for a subscription to `$all`. */
  toServerFilter(): Filter {
    return this.prefixes === undefined ? excludeSystemEvents() : streamNameFilter({ prefixes: [...this.prefixes] });
  }

  describe(): string {
    return this.prefixes === undefined ? 'all non-system streams' : `streams starting with ${this.prefixes.join(', ')}`;
  }
}
