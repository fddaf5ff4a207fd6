import { inspect } from 'node:util';
import pino, { type Logger } from 'pino';
import { logRepeated } from '../graphql/repeated-errors';

/** Structured JSON logs on stdout, one object per line. */
export const createLogger = (level: string): Logger =>
  pino({ level, base: { service: 'credits' }, redact: ['req.headers.authorization', 'req.headers.cookie'] });

/**
 * What libraries write to the console (graphql-ws on a malformed frame, before any token is
 * checked; Apollo on an unexpected error) goes through the logger: one JSON line, not a stack over
 * a dozen plain-text lines that log collectors split, and the same message at most once per 10 s
 * with a count, so that a client sending bad frames in a loop cannot flood the log.
 */
export function routeConsoleToLogger(logger: Logger): void {
  const route =
    (level: 'error' | 'warn') =>
    (...args: unknown[]): void => {
      const error = args.find((arg): arg is Error => arg instanceof Error);
      const text = args
        .filter((arg) => arg !== error)
        .map((arg) => (typeof arg === 'string' ? arg : inspect(arg, { depth: 2, breakLength: Infinity })))
        .join(' ');
      logRepeated(logger, text || error?.message || 'console', error, level);
    };
  console.error = route('error');
  // eslint-disable-next-line no-console -- replacing it is the point: nothing is written to the console here
  console.warn = route('warn');
}
