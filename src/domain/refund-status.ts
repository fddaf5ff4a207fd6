/**
 * The order a refund's status moves in. Providers deliver status changes at least once and in any
 * order, so a refund keeps the furthest status it was ever told: REQUESTED, then PENDING or
 * REQUIRES_ACTION, then SUCCEEDED, then FAILED or CANCELED (final; a refund can fail even after it
 * succeeded, but nothing follows a failure).
 */
import type { RefundStatus } from './events';

const RANK: Record<RefundStatus, number> = {
  REQUESTED: 0,
  PENDING: 1,
  REQUIRES_ACTION: 1,
  SUCCEEDED: 2,
  FAILED: 3,
  CANCELED: 3,
};

export const refundStatusRank = (status: RefundStatus): number => RANK[status];

/** Whether a refund in `status` has given its money back for good or never will: nothing follows. */
export const isFinalRefundStatus = (status: RefundStatus): boolean => RANK[status] === 3;
