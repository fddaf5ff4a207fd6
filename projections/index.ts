/** Every read model the service keeps, in the order the runner applies a batch to them. */
import { autoTopUpProjection } from './auto-top-up';
import { creditAlertsProjection } from './credit-alerts';
import { creditHoldsProjection } from './credit-holds';
import { creditLedgerProjection } from './credit-ledger';
import { creditPurchasesProjection } from './credit-purchases';
import type { Projection } from './projection';
import { workspaceBalanceProjection } from './workspace-balance';

export const PROJECTIONS: readonly Projection[] = [
  workspaceBalanceProjection,
  creditLedgerProjection,
  creditPurchasesProjection,
  creditAlertsProjection,
  creditHoldsProjection,
  autoTopUpProjection,
];
