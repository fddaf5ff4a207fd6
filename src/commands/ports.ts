/**
 * What the command side asks of the rest of the service, as narrow ports wired in the composition
 * root. Lookups only say which workspace (and where in its stream) an id belongs to: an index
 * answers them, and every decision is then made on that workspace's own stream.
 */

export interface WorkspaceLookup {
  /** The workspaces with a purchase of this id: a manual payment reference may repeat across workspaces. */
  workspacesOfPurchase(purchaseId: string): string[];
  /** The workspace whose purchase a provider payment paid for, if one is recorded. */
  workspaceOfPayment(paymentIntentId: string): string | undefined;
  /** The workspace and stream revision of the event that recorded a spend. */
  spendLocation(consumptionId: string): { workspaceId: string; revision: bigint } | undefined;
  /**
   * Waits until the index includes the log as it is now; false when it did not in time. An id it
   * does not know may have been written a moment ago through another replica.
   */
  catchUp(): Promise<boolean>;
}
