/**
 * Why a command was refused. Each refusal has a stable `code` that callers branch on (the GraphQL
 * layer exposes it as `extensions.code`), and is built by a named factory so the reasons stay few.
 */
export type CreditsErrorCode =
  | 'BAD_USER_INPUT'
  | 'INSUFFICIENT_CREDITS'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'CONFLICT'
  | 'NOT_FOUND'
  | 'LIMIT_EXCEEDED'
  | HoldRefusalCode;

/** Why a hold cannot be settled, extended or released: it is over, or the settle asks too much. */
export type HoldRefusalCode = 'HOLD_EXPIRED' | 'HOLD_SETTLED' | 'HOLD_RELEASED' | 'HOLD_EXCEEDED';

export class CreditsError extends Error {
  constructor(
    readonly code: CreditsErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'CreditsError';
  }
}

export const invalidCommand = (message: string): CreditsError => new CreditsError('BAD_USER_INPUT', message);

export const insufficientCredits = (required: number, available: number): CreditsError =>
  new CreditsError('INSUFFICIENT_CREDITS', `This needs ${required} credits but only ${available} are available.`, {
    required,
    available,
  });

export const idempotencyKeyReused = (key: string): CreditsError =>
  new CreditsError('IDEMPOTENCY_KEY_REUSED', `The idempotency key "${key}" was already used for a different request.`, {
    idempotencyKey: key,
  });

export const conflict = (message: string): CreditsError => new CreditsError('CONFLICT', message);

/**
 * A command that lost the race for its stream every time it was tried (other writers, another
 * replica): nothing was decided, and the same command may well pass a moment later. It says so
 * (`retryable`), unlike a CONFLICT of the rules, which would be refused again.
 */
export const keptChanging = (message: string): CreditsError =>
  new CreditsError('CONFLICT', message, { retryable: true });

/** Whether trying the same command again later may succeed (see keptChanging). */
export const isRetryable = (error: CreditsError): boolean => error.details.retryable === true;

/** A count the service caps (webhook endpoints per owner) is at its cap. */
export const limitExceeded = (message: string, limit: number): CreditsError =>
  new CreditsError('LIMIT_EXCEEDED', message, { limit });

/**
 * The event store refused a command's events for their size (EventStoreDB's MaxAppendSize): a spend
 * or settle drawing on thousands of small grants, say. Nothing was recorded, and the same command
 * would be refused again: a smaller change (fewer units at a time) goes through.
 */
export const tooLargeToRecord = (limit: number | undefined): CreditsError =>
  new CreditsError(
    'LIMIT_EXCEEDED',
    'This change is too large to record in one event on this event store' +
      `${limit === undefined ? '' : ` (at most ${limit} bytes per append)`}: nothing was recorded. ` +
      'Make it in smaller parts (fewer units at a time).',
    limit === undefined ? {} : { limit },
  );

export const notFound = (what: string, id: string): CreditsError =>
  new CreditsError('NOT_FOUND', `${what} "${id}" does not exist.`, { id });

/**
 * An id this server's read models have not seen, and could not catch up with the log to look for
 * in time: it may have been written through another replica a moment ago. Worth asking again.
 */
export const notKnownYet = (what: string, id: string): CreditsError =>
  new CreditsError(
    'NOT_FOUND',
    `${what} "${id}" is not known to this server yet: its read models are still catching up with the log. Try again shortly.`,
    { id, retryable: true },
  );

/**
 * What an index of the read models finds for an id. One it does not know may have been written a
 * moment ago through another replica, or the server may still be projecting the log (a restart, a
 * rebuild): it is looked for again once the read models include the log as it is now, and only then
 * NOT_FOUND, retryable when they could not catch up in time. Where to look is all this answers: the
 * decision is made on the stream it points to.
 */
export async function foundOnceCaughtUp<T>(
  find: () => T | undefined,
  catchUp: () => Promise<boolean>,
  what: string,
  id: string,
): Promise<T> {
  const found = find();
  if (found !== undefined) return found;
  const caughtUp = await catchUp();
  const again = find();
  if (again !== undefined) return again;
  throw caughtUp ? notFound(what, id) : notKnownYet(what, id);
}

/** A hold that is no longer active: settled, released, or past its expiry (written or not). */
export const holdClosed = (holdId: string, status: 'SETTLED' | 'RELEASED' | 'EXPIRED', at: number): CreditsError =>
  new CreditsError(
    `HOLD_${status}`,
    `Hold "${holdId}" ${status === 'EXPIRED' ? 'expired' : `was ${status.toLowerCase()}`} at ${new Date(at).toISOString()}.`,
    { holdId, status, at: new Date(at).toISOString() },
  );

export const holdExceeded = (holdId: string, held: number, required: number): CreditsError =>
  new CreditsError(
    'HOLD_EXCEEDED',
    `Hold "${holdId}" holds ${held} credits; settling ${required} needs takeExcessFromBalance to take the other ${required - held} from the balance.`,
    { holdId, held, required },
  );

export const isCreditsError = (error: unknown): error is CreditsError => error instanceof CreditsError;
