/**
 * The read side's vocabulary the API speaks: ledger entry types, usage groupings, purchase,
 * dispute, checkout and refund statuses. The GraphQL layer takes them from here, not from the read
 * models that define them.
 */
export { LEDGER_ENTRY_TYPES, type LedgerEntryType } from '../../projections/credit-ledger';
export { USAGE_GROUPINGS, type UsageGrouping } from '../../projections/credit-ledger-reader';
export {
  CHECKOUT_STATUSES,
  DISPUTE_STATUSES,
  PURCHASE_STATUSES,
  type CheckoutStatus,
  type DisputeStatus,
  type PurchaseStatus,
} from '../../projections/credit-purchases-reader';
export { REFUND_STATUSES, type RefundStatus } from '../domain/events';
