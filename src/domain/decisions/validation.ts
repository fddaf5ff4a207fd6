/** Checks every decision makes of the numbers and instants a command carries. */
import { invalidCommand } from '../errors';
import { HOLD_DEFAULT_DURATION_MS, HOLD_MAX_DURATION_MS } from '../holds';
import { iso } from '../instants';

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

/**
 * When a hold made or extended at `now` stops reserving: `requested`, or by default an hour on;
 * never later than the maximum ahead of `now` (holds.ts).
 */
export function holdExpiresAt(requested: Date | undefined, now: number): number {
  const expiresAt = requested?.getTime() ?? now + HOLD_DEFAULT_DURATION_MS;
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= now) {
    throw invalidCommand(`expiresAt (${requested?.toISOString()}) must be later than now (${iso(now)}).`);
  }
  const latest = now + HOLD_MAX_DURATION_MS;
  if (expiresAt > latest) {
    throw invalidCommand(
      `A hold reserves at most ${HOLD_MAX_DURATION_MS / 3_600_000} hours ahead: expiresAt must be no later than ${iso(latest)}; extend it while the action runs.`,
    );
  }
  return expiresAt;
}

export function requireUnits(units: number): void {
  if (!Number.isSafeInteger(units) || units < 1) {
    throw invalidCommand(`units must be a whole number of at least 1, got ${units}.`);
  }
}
