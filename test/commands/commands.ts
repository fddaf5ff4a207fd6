/** Commands for the command handler's tests, on a workspace of the test's own. */
import type { ConsumeCredits, GrantCredits, ReserveCredits } from '../../src/domain/commands';

/** A promotional grant of `credits`, under idempotency key `key`. */
export const grantOn = (workspaceId: string, credits: number, key: string, now: Date): GrantCredits => ({
  type: 'GrantCredits',
  data: { workspaceId, grantId: `grant-${key}`, idempotencyKey: key, credits, reason: 'test', grantedBy: 'test', now },
});

/** The i-th spend (consumption `c<i>`, key `k<i>`): one PERSON_ENRICHMENT at `creditsPerUnit`. */
export const spendOn = (workspaceId: string, i: number, creditsPerUnit: number, now: Date): ConsumeCredits => ({
  type: 'ConsumeCredits',
  data: {
    workspaceId,
    consumptionId: `c${i}`,
    idempotencyKey: `k${i}`,
    action: 'PERSON_ENRICHMENT',
    units: 1,
    creditsPerUnit,
    actorId: 'member',
    now,
  },
});

/** The i-th hold (`hold-<i>`, key `job-<i>`): one PERSON_ENRICHMENT at 1 credit, reserved until `expiresAt`. */
export const reserveOn = (workspaceId: string, i: number, expiresAt: Date, now: Date): ReserveCredits => ({
  type: 'ReserveCredits',
  data: {
    workspaceId,
    holdId: `hold-${i}`,
    idempotencyKey: `job-${i}`,
    action: 'PERSON_ENRICHMENT',
    units: 1,
    creditsPerUnit: 1,
    expiresAt,
    actorId: 'member',
    now,
  },
});
