/**
 * The read side as the API sees it: a workspace's balance breakdown at the instant of the read,
 * assembled from the balance read model, the catalog and the domain's balance rules.
 */
import type { Catalog, Plan } from '../catalog/catalog';
import type { Clock } from '../commands/credits-commands';
import { creditBalance, lowBalanceThreshold, type CreditBalance } from '../domain/balance';
import type { GrantSource } from '../domain/credits';
import type { WorkspaceBalanceReader } from '../../projections/workspace-balance';

export interface WorkspaceCreditsView extends Omit<CreditBalance, 'grants'> {
  workspaceId: string;
  plan: Plan | undefined;
  periodStart: Date | undefined;
  periodEnd: Date | undefined;
  lowBalance: boolean;
  lowBalanceThreshold: number;
  grants: {
    id: string;
    source: GrantSource;
    granted: number;
    remaining: number;
    expiresAt: Date | undefined;
    grantedAt: Date;
  }[];
}

export class CreditsQueries {
  constructor(
    private readonly balances: WorkspaceBalanceReader,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
  ) {}

  /** An unknown workspace has an all-zero balance: it simply has no grants yet. */
  workspaceCredits(workspaceId: string): WorkspaceCreditsView {
    const now = this.clock.now().getTime();
    const period = this.balances.period(workspaceId);
    const balance = creditBalance(this.balances.grants(workspaceId), period?.allowanceGrantId, now);
    const includedCredits = period?.includedCredits ?? 0;
    const threshold = lowBalanceThreshold(this.catalog.lowBalance, includedCredits);
    return {
      workspaceId,
      plan: period && { id: period.planId, name: period.planName, includedCredits },
      periodStart: period && new Date(period.periodStart),
      periodEnd: period && new Date(period.periodEnd),
      ...balance,
      lowBalance: balance.available < threshold,
      lowBalanceThreshold: threshold,
      grants: balance.grants.map((grant) => ({
        id: grant.id,
        source: grant.source,
        granted: grant.granted,
        remaining: grant.remaining,
        expiresAt: grant.expiresAt === undefined ? undefined : new Date(grant.expiresAt),
        grantedAt: new Date(grant.grantedAt),
      })),
    };
  }

  availableCredits(workspaceId: string): number {
    return this.workspaceCredits(workspaceId).available;
  }
}
