/**
 * RecordAutoTopUpCharge: what the provider made of one attempt to charge a top-up, from the payments
 * reaction's answer or the provider's webhook, in any order and any number of times.
 *
 * - Paid: the top-up is credited as a purchase of its package (refundable and disputable as any
 *   purchase, its payment intent the purchase id), once, when the amount collected is the amount
 *   requested; facts the provider sent earlier about the payment follow in the same append. Money
 *   collected that cannot be credited is recorded as such, never dropped.
 * - Failed: declines and provider errors are tried again later, a bounded number of times; a card
 *   that needs its holder (3-D Secure) cannot be charged off-session at all. The last failure pauses
 *   auto top-up until a billing manager acts.
 */
import { mayStillBePaid, monthOf } from '../auto-top-up';
import type { RecordAutoTopUpCharge } from '../commands';
import type { Money } from '../credits';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { TopUpRecord, WorkspaceCreditsState } from '../state';
import { expireDueGrants } from './expiries';
import { applyDeferredFacts } from './payment-facts';

const DAY_MS = 24 * 60 * 60 * 1000;
export const AUTO_TOP_UP_ACTOR = 'auto-top-up';

export function recordAutoTopUpCharge(
  command: RecordAutoTopUpCharge,
  state: WorkspaceCreditsState,
): WorkspaceCreditsEvent[] {
  const { outcome } = command.data;
  const topUp = state.autoTopUp.topUps.get(command.data.topUpId);
  switch (outcome.status) {
    case 'SUCCEEDED':
      return paid(command, state, topUp, outcome);
    case 'FAILED':
      return topUp ? failed(command, topUp, outcome) : [];
    case 'PROCESSING':
      return [];
  }
}

function paid(
  command: RecordAutoTopUpCharge,
  state: WorkspaceCreditsState,
  topUp: TopUpRecord | undefined,
  outcome: Extract<RecordAutoTopUpCharge['data']['outcome'], { status: 'SUCCEEDED' }>,
): WorkspaceCreditsEvent[] {
  const { workspaceId, topUpId, grantId } = command.data;
  const { paymentIntentId, amountReceived } = outcome;
  if (state.uncreditedSessions.has(paymentIntentId)) return [];
  const taken = state.purchases.get(paymentIntentId);
  // Credited already: nothing more. A manual purchase an admin gave the payment intent's id as its
  // reference must not hide this payment.
  if (taken?.payment.provider === 'STRIPE') return [];
  const now = command.data.now.getTime();
  // `counted`: the money is for this top-up, which no longer counts money on its way (paid by
  // another attempt, or ended): the event counts it against the month (PaidCheckoutNotCredited).
  const notCredited = (reason: string, counted?: TopUpRecord): WorkspaceCreditsEvent[] => [
    {
      type: 'PaidCheckoutNotCredited',
      data: {
        workspaceId,
        sessionId: paymentIntentId,
        paymentIntentId,
        ...(counted && { autoTopUpId: counted.topUpId }),
        amountPaid: amountReceived,
        reason,
        receivedAt: iso(now),
      },
    },
  ];
  // Money came for a top-up whose money was still awaited, and cannot be credited: the top-up ends
  // with it, as failed, or it would stay in flight for good (no other top-up is ever requested while
  // one is). Auto top-up pauses: charging again would take more money while this is unresolved; an
  // admin credits or refunds it (uncreditedPayments), and a billing manager starts it again.
  const endsTopUp = (reason: string): WorkspaceCreditsEvent[] => {
    if (!topUp || !mayStillBePaid(topUp)) return notCredited(reason, topUp);
    const message =
      `Stripe collected ${amountReceived.amount} ${amountReceived.currency} (${paymentIntentId}) for this top-up, ` +
      `but it could not be credited: ${reason}. An admin will credit or refund it.`;
    const ended = failed(
      command,
      topUp,
      { status: 'FAILED', paymentIntentId, reason: 'ERROR', code: 'not_credited', message },
      amountReceived,
    );
    return [...notCredited(reason), ...ended];
  };
  if (taken) return endsTopUp(`the purchase id ${paymentIntentId} is already a manual purchase of this workspace`);
  if (!topUp) return notCredited(`no auto top-up ${topUpId} was requested in this workspace`);
  if (topUp.status === 'SUCCEEDED')
    return notCredited(`auto top-up ${topUpId} was already paid by ${topUp.paymentIntentId}`, topUp);
  if (amountReceived.amount !== topUp.amount.amount || amountReceived.currency !== topUp.amount.currency) {
    return endsTopUp(
      `collected ${amountReceived.amount} ${amountReceived.currency} for a top-up of ${topUp.amount.amount} ${topUp.amount.currency}`,
    );
  }
  const recorded: WorkspaceCreditsEvent[] = [
    ...expireDueGrants(state, workspaceId, now),
    {
      type: 'CreditsPurchased',
      data: {
        workspaceId,
        grantId,
        purchaseId: paymentIntentId,
        packageId: topUp.packageId,
        packageName: topUp.packageName,
        credits: topUp.credits,
        price: topUp.amount,
        payment: { provider: 'STRIPE', autoTopUpId: topUpId, paymentIntentId },
        ...(topUp.expiresAfterDays !== null && { expiresAt: iso(now + topUp.expiresAfterDays * DAY_MS) }),
        purchasedBy: AUTO_TOP_UP_ACTOR,
        purchasedAt: iso(now),
      },
    },
  ];
  return [...recorded, ...applyDeferredFacts(state, workspaceId, paymentIntentId, recorded, now)];
}

/** `collected`: money came that could not be credited; no retry whatever the reason. */
function failed(
  command: RecordAutoTopUpCharge,
  topUp: TopUpRecord,
  outcome: Extract<RecordAutoTopUpCharge['data']['outcome'], { status: 'FAILED' }>,
  collected?: Money,
): WorkspaceCreditsEvent[] {
  const final = collected !== undefined;
  const { workspaceId, topUpId, attempt, retry } = command.data;
  // Recorded already (the reaction and the webhook both report it), or overtaken by a payment.
  if (topUp.status === 'SUCCEEDED' || topUp.status === 'FAILED' || (!final && attempt <= topUp.failedAttempts))
    return [];
  const now = command.data.now.getTime();
  const attemptFailed = (retryAt: string | null, afterCancel: boolean): WorkspaceCreditsEvent => {
    // A retry that falls in a later month is charged in it: the top-up counts there from now on.
    const retryMonth = retryAt === null ? undefined : monthOf(Date.parse(retryAt));
    return {
      type: 'AutoTopUpFailed',
      data: {
        workspaceId,
        topUpId,
        attempt,
        paymentIntentId: outcome.paymentIntentId,
        reason: outcome.reason,
        code: outcome.code,
        message: outcome.message,
        retryAt,
        ...(afterCancel && { afterCancel: true as const }),
        ...(retryMonth !== undefined && retryMonth !== topUp.month && { retryMonth }),
        ...(collected !== undefined && { collected }),
        failedAt: iso(now),
      },
    };
  };
  // Its consent or card went while this attempt was on its way: nothing follows it (money that
  // came for it and could not be credited is recorded with it, `collected`).
  if (topUp.status === 'CANCELED') return [attemptFailed(null, true)];
  const canRetry = !final && outcome.reason !== 'REQUIRES_ACTION' && attempt < retry.maxAttempts;
  const retryAt = canRetry ? iso(now + retry.firstDelayMs * 2 ** (attempt - 1)) : null;
  const events: WorkspaceCreditsEvent[] = [attemptFailed(retryAt, false)];
  if (retryAt === null) {
    const why = final
      ? outcome.message
      : outcome.reason === 'REQUIRES_ACTION'
        ? 'the card needs its holder to authenticate each payment (3-D Secure)'
        : `${attempt} attempt${attempt === 1 ? '' : 's'} failed, the last: ${outcome.message}`;
    events.push({ type: 'AutoTopUpPaused', data: { workspaceId, topUpId, reason: why, pausedAt: iso(now) } });
  }
  return events;
}
