/**
 * Why a command was refused. Each refusal has a stable `code` that callers branch on (the GraphQL
 * layer exposes it as `extensions.code`), and is built by a named factory so the reasons stay few.
 */
export type CreditsErrorCode =
  'BAD_USER_INPUT' | 'INSUFFICIENT_CREDITS' | 'IDEMPOTENCY_KEY_REUSED' | 'CONFLICT' | 'NOT_FOUND';

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

export const notFound = (what: string, id: string): CreditsError =>
  new CreditsError('NOT_FOUND', `${what} "${id}" does not exist.`, { id });

export const isCreditsError = (error: unknown): error is CreditsError => error instanceof CreditsError;
