/**
 * Holds: a long-running action reserves credits before it starts, settles what it really cost when
 * it ends, and the rest goes back. This file is the hold's vocabulary and its time rules; the
 * decisions are in decisions/<hold command>.ts.
 *
 * A hold draws its credits from the live grants in drawdown order into their `held` counter, out
 * of `remaining`, so no spend, hold, refund or dispute can take them: only `remaining` is takeable.
 * It reserves while `now < expiresAt`; from that instant on its credits are back, whether or not
 * its expiry has been written yet (every decision writes due hold expiries first).
 */
import type { CreditAction, Drawdown } from './credits';
import type { CreditHoldSettled } from './events';

/** How long a hold reserves when the caller names no expiry. */
export const HOLD_DEFAULT_DURATION_MS = 60 * 60 * 1000;
/** The furthest a hold may reserve ahead of the instant it is made or extended (a heartbeat). */
export const HOLD_MAX_DURATION_MS = 24 * 60 * 60 * 1000;
/**
 * The longest a hold may reserve in all, heartbeats included, from the instant it was made: as a
 * card authorization lapses after days. Without it, a job extending its hold every few hours kept
 * the credits it held spendable for months after their grant expired.
 */
export const HOLD_MAX_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

export const HOLD_STATUSES = ['ACTIVE', 'SETTLED', 'RELEASED', 'EXPIRED'] as const;
export type HoldStatus = (typeof HOLD_STATUSES)[number];

/** What a settle recorded: the spend a retry with the same key gets back. */
export interface HoldSettlement {
  idempotencyKey: string;
  consumptionId: string;
  units: number;
  credits: number;
  drawdown: Drawdown[];
  availableAfter: number;
  settledAt: number;
}

/** A hold as the decider remembers it: while active, and for the idempotency window after it closes. */
export interface HoldRecord {
  holdId: string;
  idempotencyKey: string;
  action: CreditAction;
  units: number;
  /** The rate fixed when the hold was made: its settle costs `units × creditsPerUnit` at this rate. */
  creditsPerUnit: number;
  credits: number;
  /** The grants its credits are held in, in drawdown order. */
  drawdown: Drawdown[];
  /** The expiry it was made with, before any extension: a retry naming another one is another request. */
  initialExpiresAt: number;
  expiresAt: number;
  reference: string | undefined;
  actorId: string;
  availableAfter: number;
  createdAt: number;
  status: HoldStatus;
  /** When it settled, was released or expired. */
  closedAt: number | undefined;
  settlement: HoldSettlement | undefined;
}

/** The hold's status at `now`: an active hold past its expiry is expired, written or not. */
export const holdStatusAt = (hold: Pick<HoldRecord, 'status' | 'expiresAt'>, now: number): HoldStatus =>
  hold.status === 'ACTIVE' && now >= hold.expiresAt ? 'EXPIRED' : hold.status;

/**
 * A part of `part`'s grant, written out field by field like planDrawdown's parts: a copy made as
 * `{ ...part, credits }` has a hidden class of its own on Node 20, and the events, the hold records
 * and every fold that reads their parts would then see several.
 */
const drawdownPart = (part: Drawdown, credits: number): Drawdown => ({
  grantId: part.grantId,
  source: part.source,
  credits,
});

/** Splits the hold's credits into the first `credits` of them (in its drawdown order) and the rest. */
export function splitHeld(held: readonly Drawdown[], credits: number): { used: Drawdown[]; rest: Drawdown[] } {
  const used: Drawdown[] = [];
  const rest: Drawdown[] = [];
  let owed = credits;
  for (const part of held) {
    const take = Math.min(owed, part.credits);
    owed -= take;
    if (take > 0) used.push(drawdownPart(part, take));
    if (part.credits > take) rest.push(drawdownPart(part, part.credits - take));
  }
  return { used, rest };
}

/** One drawdown per grant: parts of the same grant added together, in the order they first appear. */
export function mergeDrawdowns(...lists: readonly Drawdown[][]): Drawdown[] {
  const merged = new Map<string, Drawdown>();
  for (const part of lists.flat()) {
    const seen = merged.get(part.grantId);
    if (seen) seen.credits += part.credits;
    else merged.set(part.grantId, drawdownPart(part, part.credits));
  }
  return [...merged.values()];
}

/** The credits of a list of drawdown parts. */
export const creditsOf = (parts: readonly Drawdown[]): number => parts.reduce((sum, part) => sum + part.credits, 0);

const NOTHING: readonly Drawdown[] = Object.freeze([]);

/** The held credits a settle paid with: `drawdown` when nothing came from the balance (left out then). */
export const settledFromHold = (settled: CreditHoldSettled['data']): readonly Drawdown[] =>
  settled.fromHold ?? settled.drawdown;

/** What a settle took from the available balance beyond its hold: nothing, unless it says. */
export const settledFromBalance = (settled: CreditHoldSettled['data']): readonly Drawdown[] =>
  settled.fromBalance ?? NOTHING;
