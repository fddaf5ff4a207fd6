/**
 * The grants at an instant from what the read models keep: each grant's counters, the active holds
 * and what credits coming back to a grant depend on (given-back.ts ReturnTerms). A hold past its
 * `expiresAt` reserves nothing from that instant on, so its credits are counted back (or lapsed)
 * exactly as its CreditHoldExpired and the expiries after it will record them, before anyone has
 * written them. The decider does the same by deciding those events (decisions/hold-expiries.ts).
 */
import type { Drawdown, Grant } from './credits';
import { lapsesOf, type ReturnTerms } from './given-back';

/** An active hold as the balance needs it: when it stops reserving, and where its credits are held. */
export interface HeldCredits {
  holdId: string;
  expiresAt: number;
  drawdown: readonly Drawdown[];
}

const byExpiry = (a: HeldCredits, b: HeldCredits): number =>
  a.expiresAt - b.expiresAt || (a.holdId < b.holdId ? -1 : a.holdId > b.holdId ? 1 : 0);

/** `grants` as they stand at `now`, with the credits of every hold due by then given back (copies). */
export function returnDueHolds(
  grants: readonly Grant[],
  holds: readonly HeldCredits[],
  termsOf: (grant: Grant) => ReturnTerms,
  now: number,
): readonly Grant[] {
  const due = holds.filter((hold) => hold.expiresAt <= now);
  if (due.length === 0) return grants;
  const copies = new Map(grants.map((grant) => [grant.id, { ...grant }]));
  const terms = new Map<string, ReturnTerms>();
  for (const hold of due.sort(byExpiry)) {
    for (const part of hold.drawdown) {
      const grant = copies.get(part.grantId);
      if (!grant) continue;
      const before = terms.get(grant.id) ?? termsOf(grant);
      const lapses = lapsesOf(before, grant, part.credits, hold.expiresAt);
      const lapsedCredits = lapses.reduce((sum, lapse) => sum + lapse.credits, 0);
      const lapsedForMoney = lapses.find((lapse) => lapse.reason === 'MONEY_RETURNED')?.credits ?? 0;
      grant.held -= part.credits;
      grant.remaining += part.credits - lapsedCredits;
      grant.expired += lapsedCredits;
      // Lapsing for money returned settles that many owed credits, as CreditsExpired does.
      const money = before.money && {
        ...before.money,
        creditsOwed: Math.max(0, before.money.creditsOwed - lapsedForMoney),
      };
      terms.set(grant.id, { replaced: before.replaced, money });
    }
  }
  return [...copies.values()];
}
