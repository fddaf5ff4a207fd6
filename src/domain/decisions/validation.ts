/** Checks every decision makes of the numbers and instants a command carries. */
import { invalidCommand } from '../errors';

export function requirePositiveCredits(credits: number, what: string): void {
  if (!Number.isSafeInteger(credits) || credits <= 0) {
    throw invalidCommand(`${what} must be a positive whole number of credits, got ${credits}.`);
  }
}

export function requireFutureExpiry(expiresAt: Date | undefined, now: Date): void {
  if (expiresAt !== undefined && expiresAt.getTime() <= now.getTime()) {
    throw invalidCommand(`expiresAt (${expiresAt.toISOString()}) must be later than now (${now.toISOString()}).`);
  }
}

export function requireReason(reason: string, what: string): void {
  if (reason.trim() === '') throw invalidCommand(`${what} needs a reason.`);
}
