/** The mapping from credits events to webhook messages: what each type says, and what says nothing. */
import {
  CROSSING_BALANCE_SINCE,
  endpointDisabledMessage,
  webhookMessagesOf,
} from '../../../src/domain/webhooks/messages';
import { depleted, expiring, low, recovered } from '../alert-builders';
import { topUpFailed } from '../auto-top-up-builders';
import { at, consumed, DAY, purchased, WORKSPACE } from '../builders';
import { holdExpired } from '../hold-builders';
import {
  disputeClosed,
  disputeOpened,
  refundFailed,
  refundPending,
  refundRequested,
  refundSucceeded,
} from '../payment-builders';

const context = { position: 42n, balanceAfter: 70 };
/** What every message's data starts with, at `context`. */
const everyMessage = { schemaVersion: 1, workspaceId: WORKSPACE, position: '42', balanceAfter: 70 };
const typesOf = (event: Parameters<typeof webhookMessagesOf>[0]) =>
  webhookMessagesOf(event, context).map((m) => m.type);

describe('webhook messages', () => {
  it('carry the workspace, the log position, the balance after and the schema version, then the type’s own data', () => {
    expect(webhookMessagesOf(low(70, 100, at(DAY)), context)).toEqual([
      {
        type: 'credits.low',
        timestamp: at(DAY).toISOString(),
        data: {
          ...everyMessage,
          available: 70,
          threshold: 100,
        },
      },
    ]);
  });

  it('announce a crossing only when the rules asked to be told of it', () => {
    expect(typesOf(low(70, 100, at(0), false))).toEqual([]);
    expect(typesOf(depleted(100, at(0), false))).toEqual([]);
    expect(typesOf(depleted(100))).toEqual(['credits.depleted']);
    expect(typesOf(recovered(150, 100))).toEqual(['credits.recovered']);
  });

  it('say what expires: the credits left, and those held apart when running actions hold some', () => {
    const [left] = webhookMessagesOf(expiring('g-1', 50, at(7 * DAY), at(0)), context);
    expect(left?.data).toEqual({
      ...everyMessage,
      grantId: 'g-1',
      source: 'PROMOTIONAL',
      credits: 50,
      expiresAt: at(7 * DAY).toISOString(),
    });
    const [held] = webhookMessagesOf(expiring('g-1', 50, at(7 * DAY), at(0), 'PROMOTIONAL', 900), context);
    expect(held?.data).toMatchObject({ credits: 50, heldCredits: 900 });
  });

  it('name each purchase, refund status and dispute event', () => {
    expect(typesOf(expiring('g-1', 50, at(7 * DAY), at(0)))).toEqual(['credits.expiring']);
    expect(typesOf(purchased())).toEqual(['purchase.completed']);
    expect(typesOf(refundRequested())).toEqual(['purchase.refunded']);
    expect(typesOf(refundPending())).toEqual(['refund.pending']);
    expect(typesOf(refundSucceeded())).toEqual(['refund.succeeded']);
    expect(typesOf(refundFailed())).toEqual(['refund.failed']);
    expect(typesOf(disputeOpened())).toEqual(['dispute.opened']);
    expect(typesOf(disputeClosed())).toEqual(['dispute.closed']);
  });

  it('tell of each failed auto top-up charge once, saying whether another attempt follows or auto top-up paused', () => {
    const retrying = topUpFailed({ attempt: 1, retryAt: at(DAY).toISOString(), when: at(0) });
    expect(webhookMessagesOf(retrying, context)).toEqual([
      {
        type: 'credits.auto_top_up_failed',
        timestamp: at(0).toISOString(),
        data: {
          ...everyMessage,
          topUpId: 'topup-1',
          attempt: 1,
          reason: 'DECLINED',
          code: 'card_declined',
          message: 'Your card was declined.',
          retryAt: at(DAY).toISOString(),
          paused: false,
        },
      },
    ]);
    const [last] = webhookMessagesOf(topUpFailed({ attempt: 3, retryAt: null }), context);
    expect(last?.data).toMatchObject({ attempt: 3, retryAt: null, paused: true });
    const paused = {
      type: 'AutoTopUpPaused' as const,
      data: { workspaceId: WORKSPACE, topUpId: 'topup-1', reason: '3 attempts failed', pausedAt: at(0).toISOString() },
    };
    expect(typesOf(paused)).toEqual([]);
  });

  it('tell of a hold that expired unsettled, with the credits that came back', () => {
    const [message] = webhookMessagesOf(
      holdExpired([{ grantId: 'g-1', source: 'PURCHASED', credits: 300 }], at(DAY)),
      context,
    );
    expect(message).toEqual({
      type: 'hold.expired',
      timestamp: at(DAY).toISOString(),
      data: {
        ...everyMessage,
        holdId: 'hold-1',
        credits: 300,
        expiredAt: at(DAY).toISOString(),
      },
    });
  });

  it('tell of a hold whose credits came back to an expired grant the balance that could be spent after, not the ledger’s row between', () => {
    // 400 came back to a grant already expired and lapsed in the same append: 300 could be spent.
    const [message] = webhookMessagesOf(
      holdExpired([{ grantId: 'g-1', source: 'PROMOTIONAL', credits: 400 }], at(DAY), 'hold-1', 300),
      { position: 5n, balanceAfter: 700 },
    );
    expect(message?.data).toMatchObject({ position: '5', balanceAfter: 300, credits: 400 });
  });

  it('tell of a crossing the available balance it was decided on, not the ledger’s (which keeps disputed credits)', () => {
    const disputed = { position: 7n, balanceAfter: 2000 }; // the ledger: 2,000 disputed, none spendable
    const since = new Date(CROSSING_BALANCE_SINCE);
    expect(webhookMessagesOf(low(0, 100, since), disputed)[0]?.data).toMatchObject({ balanceAfter: 0 });
    expect(webhookMessagesOf(depleted(100, since), disputed)[0]?.data).toMatchObject({ balanceAfter: 0 });
    expect(webhookMessagesOf(recovered(150, 100, since), disputed)[0]?.data).toMatchObject({ balanceAfter: 150 });
    // Crossings before the rule keep the bytes they were sent with: a rebuild or a resend sends the same.
    const before = new Date(CROSSING_BALANCE_SINCE - 1);
    expect(webhookMessagesOf(low(0, 100, before), disputed)[0]?.data).toMatchObject({ balanceAfter: 2000 });
  });

  it('tell a recovery from depletion that is still low apart from a recovery past the threshold', () => {
    const [partial] = webhookMessagesOf(recovered(60, 500, at(DAY), true), context);
    expect(partial).toEqual({
      type: 'credits.recovered',
      timestamp: at(DAY).toISOString(),
      data: { ...everyMessage, available: 60, threshold: 500, stillLow: true },
    });
    const [full] = webhookMessagesOf(recovered(600, 500, at(DAY)), context);
    expect(full?.data).toMatchObject({ available: 600, threshold: 500, stillLow: false });
    // Recorded before stillLow existed: a recovery past the threshold.
    const old = recovered(600, 500, at(DAY));
    if (old.type === 'CreditsRecovered') delete old.data.stillLow;
    expect(webhookMessagesOf(old, context)[0]?.data).toMatchObject({ stillLow: false });
  });

  it('tell of a disabled endpoint by its origin, never the credentials or token its URL carries', () => {
    const message = endpointDisabledMessage(
      {
        workspaceId: WORKSPACE,
        endpointId: 'we_1',
        url: 'https://user:secret@hooks.example.com:8443/services/T01/B02/tok3n?token=abc123#frag',
        failingSince: at(0).toISOString(),
        disabledAt: at(5 * DAY).toISOString(),
      },
      context,
    );
    expect(message).toEqual({
      type: 'webhook_endpoint.disabled',
      timestamp: at(5 * DAY).toISOString(),
      data: {
        ...everyMessage,
        endpointId: 'we_1',
        url: 'https://hooks.example.com:8443',
        reason: 'FAILING',
        failingSince: at(0).toISOString(),
      },
    });
    expect(JSON.stringify(message)).not.toMatch(/secret|abc123|frag|tok3n|services/);
  });

  it('count in a failed refund’s creditsReturned the credits that had lapsed for its money', () => {
    const [message] = webhookMessagesOf(refundFailed({ credits: 40, creditsRestored: 60 }), context);
    expect(message?.data).toMatchObject({ creditsReturned: 100 });
    const [older] = webhookMessagesOf(refundFailed({ credits: 40 }), context);
    expect(older?.data).toMatchObject({ creditsReturned: 40 });
  });

  it('say nothing of a spend', () => {
    expect(typesOf(consumed({ credits: 8, drawdown: [], availableAfter: 92 }))).toEqual([]);
  });
});
