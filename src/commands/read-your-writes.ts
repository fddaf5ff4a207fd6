/**
 * Read-your-writes, in one place: every method of a command-side service, wrapped so that it
 * resolves only once the read models include what it appended. A query that follows a mutation
 * on the same server then sees its effect. When the read models cannot catch up (they are stalled
 * or failed), the write has still happened: the caller is told so, with its position, and told
 * that repeating the request with the same idempotency key returns it without doing it twice (and,
 * for a mutation that takes no key, to look before repeating it).
 */
import type { CommandOutcome } from './command-handler';

export class CommittedButNotVisible extends Error {
  readonly code = 'COMMITTED_NOT_VISIBLE';
  constructor(
    readonly position: bigint,
    cause: unknown,
  ) {
    super(
      'The change was recorded, but the read models do not show it yet. Do not send it as a new request: ' +
        'repeating a mutation that takes an idempotency key with the same key returns this result and ' +
        'changes nothing again; for one that takes none, read the current state before doing it again.',
      { cause },
    );
    this.name = 'CommittedButNotVisible';
  }
}

const isOutcome = (value: unknown): value is CommandOutcome<unknown> =>
  typeof value === 'object' && value !== null && 'position' in value && 'events' in value;

/**
 * `service` with each method waiting for the read models to reach the position it appended at.
 * An answer that appended nothing (a retry with its key, settings saved again as they were) waits
 * for them to reach `head`, the log's last event then, when `head` can tell: such an answer stands
 * for what an earlier call appended, and a retry racing its first call must not be answered from
 * read models without it (a grant retried, answered with the balance before it, would be granted
 * again under a new key). Nothing is waited for when the log's head is not known at bounded cost.
 */
export function readYourWrites<Service extends object>(
  service: Service,
  waitFor: (position: bigint) => Promise<void>,
  head: () => Promise<bigint | undefined | 'unknown'> = () => Promise.resolve('unknown'),
): Service {
  return new Proxy(service, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result: unknown = await (value as (...parameters: unknown[]) => unknown).apply(target, args);
        if (!isOutcome(result)) return result;
        const position = result.position ?? (result.events.length === 0 ? await head() : undefined);
        if (position !== undefined && position !== 'unknown') {
          await waitFor(position).catch((error: unknown) => {
            throw new CommittedButNotVisible(position, error);
          });
        }
        return result;
      };
    },
  });
}
