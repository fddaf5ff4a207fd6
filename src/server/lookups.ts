/**
 * The command side's lookups (src/commands/ports.ts), answered from the read models' indexes: which
 * workspace a purchase, a payment or a spend belongs to. Only where to look comes from here; the
 * decision is then made on that workspace's stream.
 */
import type { Database } from 'better-sqlite3';
import type { CreditPurchasesReader } from '../../projections/credit-purchases-reader';
import type { WorkspaceLookup } from '../commands/ports';

export function workspaceLookup(
  readModels: Database,
  purchases: CreditPurchasesReader,
  catchUp: () => Promise<boolean>,
): WorkspaceLookup {
  const spend = readModels.prepare<[string], { workspace_id: string; stream_revision: number | null }>(
    `SELECT workspace_id, stream_revision FROM ledger_entries
     WHERE consumption_id = ? AND type IN ('CONSUMPTION', 'HOLD_SETTLED')`,
  );
  return {
    workspacesOfPurchase: (purchaseId) => purchases.workspacesOfPurchase(purchaseId),
    workspaceOfPayment: (paymentIntentId) => purchases.workspaceOfPayment(paymentIntentId),
    spendLocation(consumptionId) {
      const row = spend.get(consumptionId);
      return row?.stream_revision == null
        ? undefined
        : { workspaceId: row.workspace_id, revision: BigInt(row.stream_revision) };
    },
    catchUp,
  };
}
