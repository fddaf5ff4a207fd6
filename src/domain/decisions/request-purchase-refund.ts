/**
 * RequestPurchaseRefund: an admin's refund of a purchase begins. The credits leave the balance at
 * once and the money to return is fixed, both from the purchase as this stream has it at the
 * revision the event is appended at. The provider is asked afterwards, by the payments reaction;
 * a purchase paid outside the provider (or a refund of no money) is done at once.
 */
import type { RequestPurchaseRefund } from '../commands';
import { idempotencyKeyReused } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import { creditsLeft, paidBackBy, planAdminRefund } from '../purchase-money';
import type { PurchaseRefundRecord, WorkspaceCreditsState } from '../state';
import { expireDueGrants } from './expiries';
import { paymentOf } from './payment-facts';
import { requireReason } from './validation';

export function requestPurchaseRefund(
  command: RequestPurchaseRefund,
  state: WorkspaceCreditsState,
): WorkspaceCreditsEvent[] {
  const keyless = command.data.idempotencyKey === undefined;
  const data = keyless
    ? { ...command.data, refundId: keylessRefundId(state, command.data, command.data.now.getTime()) }
    : command.data;
  const keyed = keyless ? undefined : state.refundKeys.get(data.idempotencyKey as string);
  const earlier = state.purchaseRefunds.get(keyed ?? data.refundId);
  if (earlier) {
    if (isSameRequest(earlier, data)) return [];
    throw idempotencyKeyReused(data.idempotencyKey ?? data.refundId);
  }
  requireReason(data.reason, 'A refund');
  const now = data.now.getTime();
  const plan = planAdminRefund(state, data.purchaseId, data.credits, now);
  const back = { amount: plan.amount.amount, paysFor: plan.credits, namesCredits: true };
  const paid = paidBackBy(state, plan.purchase, back, creditsLeft(state, plan.purchase, now));
  const events: WorkspaceCreditsEvent[] = [
    ...expireDueGrants(state, data.workspaceId, now),
    {
      type: 'PurchaseRefundRequested',
      data: {
        workspaceId: data.workspaceId,
        refundId: data.refundId,
        purchaseId: data.purchaseId,
        grantId: plan.purchase.grantId,
        origin: 'ADMIN',
        ...paymentOf(plan.purchase),
        ...(data.idempotencyKey !== undefined && { idempotencyKey: data.idempotencyKey }),
        ...(data.credits !== undefined && { creditsAsked: data.credits }),
        credits: paid.takenBack,
        creditsOwed: paid.owed,
        creditsRepaid: paid.creditsRepaid,
        paysFor: back.paysFor,
        amount: plan.amount,
        reason: data.reason,
        requestedBy: data.requestedBy,
        requestedAt: iso(now),
      },
    },
  ];
  // Nothing to ask of a provider: the admin returned an invoice's money themselves, or there is none.
  if (plan.purchase.payment.provider === 'MANUAL' || plan.amount.amount === 0) {
    events.push({
      type: 'PurchaseRefundSucceeded',
      data: {
        workspaceId: data.workspaceId,
        refundId: data.refundId,
        purchaseId: data.purchaseId,
        succeededAt: iso(now),
      },
    });
  }
  return events;
}

/**
 * Whether a request repeats an earlier refund: same purchase, reason and credits. A refund that
 * named its credits is repeated only by a request naming the same number (a repeat asking for all
 * that is left is another request). One that asked for all is repeated by a request for all, or for
 * as many as it took.
 */
const isSameRequest = (
  earlier: PurchaseRefundRecord,
  data: { purchaseId: string; credits?: number | undefined; reason: string },
): boolean =>
  earlier.origin === 'ADMIN' &&
  earlier.purchaseId === data.purchaseId &&
  earlier.reason === data.reason &&
  (earlier.creditsAsked === undefined
    ? data.credits === undefined || data.credits === earlier.credits
    : data.credits === earlier.creditsAsked);

/** How long a request without a key repeats the refund it made: a retry after a lost answer, not a new refund. */
export const KEYLESS_REPEAT_MS = 24 * 60 * 60 * 1000;

/**
 * The refund a request without a key means (`refundId`: derived from its purchase, credits and
 * reason): the one it made that is still under way (however long Stripe takes), or that succeeded
 * within KEYLESS_REPEAT_MS; else a new one (the one it made failed, was canceled, or succeeded long
 * ago). A request for all the unspent credits (no `credits`) repeats the last such refund only
 * while nothing is left to refund: credits that came back to the purchase since (a hold released, a
 * spend refunded) make it a new refund, of them. Deterministic from the stream, so a repeat's answer
 * names the refund the decision repeated.
 */
export function keylessRefundId(
  state: WorkspaceCreditsState,
  request: { refundId: string; purchaseId: string; credits?: number | undefined; reason: string },
  now: number,
): string {
  const everything = request.credits === undefined;
  let repeatable: string | undefined;
  for (let n = 1; ; n += 1) {
    const id = n === 1 ? request.refundId : `${request.refundId}_${n}`;
    const earlier = state.purchaseRefunds.get(id);
    if (!earlier) {
      if (everything && moreToRefund(state, request.purchaseId, now)) return id;
      return repeatable ?? keyedRepeat(state, request, now) ?? id;
    }
    if (!mayRepeat(earlier, now)) continue;
    if (!everything) return id;
    repeatable = id;
  }
}

/** Whether a request without a key made now would still be a repeat of this refund. */
const mayRepeat = (earlier: PurchaseRefundRecord, now: number): boolean =>
  earlier.status !== 'FAILED' &&
  earlier.status !== 'CANCELED' &&
  (earlier.status !== 'SUCCEEDED' || now - earlier.requestedAt < KEYLESS_REPEAT_MS);

/**
 * The same refund asked for earlier with a key (an admin whose first try carried one, and whose
 * retry, from another tool, did not): the request without a key repeats it on the same terms as one
 * made without, rather than returning the money a second time. The latest, if several.
 */
function keyedRepeat(
  state: WorkspaceCreditsState,
  request: { purchaseId: string; credits?: number | undefined; reason: string },
  now: number,
): string | undefined {
  let latest: PurchaseRefundRecord | undefined;
  for (const refundId of state.refundKeys.values()) {
    const earlier = state.purchaseRefunds.get(refundId);
    // Asked on the same terms: a keyed refund of everything is not a keyless one of a number.
    const sameTerms = earlier !== undefined && earlier.creditsAsked === request.credits;
    if (!earlier || !sameTerms || !isSameRequest(earlier, request) || !mayRepeat(earlier, now)) continue;
    if (!latest || earlier.requestedAt >= latest.requestedAt) latest = earlier;
  }
  return latest?.refundId;
}

/** Whether a refund of all a purchase has left would refund anything now. */
function moreToRefund(state: WorkspaceCreditsState, purchaseId: string, now: number): boolean {
  const purchase = state.purchases.get(purchaseId);
  return purchase !== undefined && purchase.openDisputeId === undefined && creditsLeft(state, purchase, now) > 0;
}
