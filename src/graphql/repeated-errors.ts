/**
 * An error every request meets while its cause lasts (a full disk, an event store out of reach)
 * would otherwise be logged with its stack once per request: thousands of lines a second, on the
 * disk that is already full. It is logged whole the first time, then at most once per interval, as
 * one line that says how many times it came in between.
 */
import type { Logger } from 'pino';

/** How often an error that keeps coming is logged again. */
export const REPEAT_INTERVAL_MS = 10_000;

/** Distinct errors remembered per logger; past it they are forgotten (and logged whole once more). */
const REMEMBERED = 100;

interface Seen {
  loggedAt: number;
  since: number;
}

const seenByLogger = new WeakMap<Logger, Map<string, Seen>>();

export function logRepeatedError(logger: Logger, error: Error, message: string): void {
  logRepeated(logger, message, error);
}

/** `logRepeatedError` for any message, with or without an error, at error or warn level. */
export function logRepeated(logger: Logger, message: string, error?: Error, level: 'error' | 'warn' = 'error'): void {
  let seen = seenByLogger.get(logger);
  if (!seen) seenByLogger.set(logger, (seen = new Map<string, Seen>()));
  const key = `${level}\u0000${message}\u0000${error?.message ?? ''}`;
  const now = Date.now();
  const last = seen.get(key);
  if (!last) {
    if (seen.size >= REMEMBERED) seen.clear();
    seen.set(key, { loggedAt: now, since: 0 });
    logger[level](error ? { err: error } : {}, message);
    return;
  }
  if (now - last.loggedAt < REPEAT_INTERVAL_MS) {
    last.since += 1;
    return;
  }
  // Once more, without the stack the first line gave, with how many came since that line.
  logger[level](
    { ...(error && { error: error.message }), repeated: last.since + 1, sinceMs: now - last.loggedAt },
    message,
  );
  last.loggedAt = now;
  last.since = 0;
}
