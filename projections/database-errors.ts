/**
 * Which database errors are faults of the machine rather than of the data: a full disk, a lock held
 * too long, an I/O error, a file made read-only. Writing again later may succeed, so a projection
 * waits and retries them instead of stopping at the event it was applying.
 */
const TRANSIENT = /^SQLITE_(FULL|BUSY|LOCKED|IOERR|READONLY|CANTOPEN|NOMEM|PROTOCOL)/;

export const isTransientDatabaseError = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as { code?: unknown }).code === 'string' &&
  TRANSIENT.test((error as { code: string }).code);
