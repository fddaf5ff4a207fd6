/**
 * What a customer's webhook endpoint is told, as one pure function of a credits event: the mapping
 * table below. A replay of the log builds the same messages, byte for byte, because they are made
 * only of the event, its position in the log and the balance the ledger shows at that position.
 * docs/webhooks.md documents each message's `data`; a field is only ever added within a schema
 * version, and a change that would break a receiver is a new version.
 *
 * To announce another event: add its type to WEBHOOK_EVENT_TYPES and one line to MESSAGES.
 */
import type { WorkspaceCreditsEvent, WorkspaceCreditsEventType } from '../events';

export const WEBHOOK_SCHEMA_VERSION = 1;

export const WEBHOOK_EVENT_TYPES = [
  'credits.low',
  'credits.depleted',
  'credits.recovered',
  'credits.expiring',
  'credits.auto_top_up_failed',
  'hold.expired',
  'purchase.completed',
  'purchase.refunded',
  'refund.pending',
  'refund.succeeded',
  'refund.failed',
  'dispute.opened',
  'dispute.closed',
  'webhook_endpoint.disabled',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const isWebhookEventType = (value: string): value is WebhookEventType =>
  (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);

/**
 * The message sent when someone asks for a test of an endpoint (sendTestWebhook): to that one
 * endpoint, whatever it subscribes to. It is no event type: no endpoint subscribes to it.
 */
export const WEBHOOK_TEST_TYPE = 'webhook.test';
/** What a delivery carries: one of the event types, or a test. */
export type WebhookMessageType = WebhookEventType | typeof WEBHOOK_TEST_TYPE;

/** The body of one delivery (Standard Webhooks' `{ type, timestamp, data }`). */
export interface WebhookMessage {
  type: WebhookMessageType;
  /** When the event took effect (ISO-8601), the same on every attempt. */
  timestamp: string;
  /**
   * `workspaceId` and `balanceAfter` are null only in a message about a platform endpoint (a test
   * of one, or one disabled), which belongs to no workspace.
   */
  data: { schemaVersion: number; workspaceId: string | null; position: string; balanceAfter: number | null } & Record<
    string,
    unknown
  >;
}

/** Where the event stands in the log: its position, and the ledger's balance right after it. */
export interface LogContext {
  position: bigint;
  balanceAfter: number;
}

type Of<T extends WorkspaceCreditsEventType> = Extract<WorkspaceCreditsEvent, { type: T }>;
type Announce<T extends WorkspaceCreditsEventType> = (event: Of<T>) => [WebhookEventType, string, object][];

/** Crossings from this instant on carry their own available balance as balanceAfter (see below). */
export const CROSSING_BALANCE_SINCE = Date.parse('2026-12-03T14:00:00.000Z');
const crossingBalance = (at: string, available: number): { balanceAfter?: number } =>
  Date.parse(at) >= CROSSING_BALANCE_SINCE ? { balanceAfter: available } : {};

/** The mapping table: credits event → the webhook messages it makes (type, instant, type-specific data). */
const MESSAGES: { [T in WorkspaceCreditsEventType]?: Announce<T> } = {
  // Crossings are announced only when the workspace's rules asked for it when they happened. From
  // CROSSING_BALANCE_SINCE on, their balance after is the available balance the crossing was
  // decided on, which leaves out credits a dispute holds (the ledger's row keeps them until the
  // dispute is lost); before it, the ledger's, so that a rebuild sends the same bytes as before.
  CreditsLow: ({ data }) =>
    data.notify
      ? [
          [
            'credits.low',
            data.crossedAt,
            {
              available: data.available,
              threshold: data.threshold,
              ...crossingBalance(data.crossedAt, data.available),
            },
          ],
        ]
      : [],
  CreditsDepleted: ({ data }) =>
    data.notify
      ? [
          [
            'credits.depleted',
            data.depletedAt,
            { available: 0, threshold: data.threshold, ...crossingBalance(data.depletedAt, 0) },
          ],
        ]
      : [],
  CreditsRecovered: ({ data }) =>
    data.notify
      ? [
          [
            'credits.recovered',
            data.crossedAt,
            {
              available: data.available,
              threshold: data.threshold,
              stillLow: data.stillLow === true,
              ...crossingBalance(data.crossedAt, data.available),
            },
          ],
        ]
      : [],
  CreditsExpiringSoon: ({ data }) => [
    [
      'credits.expiring',
      data.noticedAt,
      {
        grantId: data.grantId,
        source: data.source,
        credits: data.credits,
        // Only where the event has it: a rebuild derives the exact bodies notices before it had.
        ...(data.heldCredits !== undefined && { heldCredits: data.heldCredits }),
        expiresAt: data.expiresAt,
      },
    ],
  ],
  // One message per failed charge. The decision that gives up (no retryAt) pauses auto top-up in
  // the same append (AutoTopUpPaused, which says nothing more of its own): `paused` says so here.
  AutoTopUpFailed: ({ data }) =>
    data.afterCancel
      ? []
      : [
          [
            'credits.auto_top_up_failed',
            data.failedAt,
            {
              topUpId: data.topUpId,
              attempt: data.attempt,
              reason: data.reason,
              code: data.code,
              message: data.message,
              retryAt: data.retryAt,
              paused: data.retryAt === null,
            },
          ],
        ],
  // A running action's hold reached its expiry unsettled: what it held is back in the balance, but
  // for credits that came back to a grant already expired, which lapsed at once: the balance after
  // is the one the decision recorded (availableAfter), not the ledger's row between the two.
  CreditHoldExpired: ({ data }) => [
    [
      'hold.expired',
      data.expiredAt,
      {
        holdId: data.holdId,
        credits: data.credits,
        expiredAt: data.expiredAt,
        ...(data.availableAfter !== undefined && { balanceAfter: data.availableAfter }),
      },
    ],
  ],
  CreditsPurchased: ({ data }) => [
    [
      'purchase.completed',
      data.purchasedAt,
      {
        purchaseId: data.purchaseId,
        packageId: data.packageId,
        credits: data.credits,
        price: data.price,
        ...(data.expiresAt !== undefined && { expiresAt: data.expiresAt }),
      },
    ],
  ],
  PurchaseRefundRequested: ({ data }) => [
    [
      'purchase.refunded',
      data.requestedAt,
      {
        purchaseId: data.purchaseId,
        refundId: data.refundId,
        creditsTakenBack: data.credits,
        creditsOwed: data.creditsOwed,
        amount: data.amount,
        reason: data.reason,
        status: 'REQUESTED',
      },
    ],
  ],
  CreditPurchaseRefunded: ({ data }) => [
    [
      'purchase.refunded',
      data.refundedAt,
      {
        purchaseId: data.purchaseId,
        refundId: data.refundId,
        creditsTakenBack: data.credits,
        creditsOwed: 0,
        amount: data.amount,
        reason: data.reason,
        status: 'SUCCEEDED',
      },
    ],
  ],
  PurchaseRefundPending: ({ data }) => [
    ['refund.pending', data.updatedAt, { purchaseId: data.purchaseId, refundId: data.refundId, status: data.status }],
  ],
  PurchaseRefundSucceeded: ({ data }) => [
    [
      'refund.succeeded',
      data.succeededAt,
      { purchaseId: data.purchaseId, refundId: data.refundId, status: 'SUCCEEDED' },
    ],
  ],
  PurchaseRefundFailed: ({ data }) => [
    [
      'refund.failed',
      data.failedAt,
      {
        purchaseId: data.purchaseId,
        refundId: data.refundId,
        status: data.status,
        reason: data.reason,
        creditsReturned: data.credits + (data.creditsRestored ?? 0),
        amount: data.amount,
      },
    ],
  ],
  PurchaseDisputeOpened: ({ data }) => [
    [
      'dispute.opened',
      data.openedAt,
      {
        purchaseId: data.purchaseId,
        disputeId: data.disputeId,
        amount: data.amount,
        reason: data.reason,
        creditsHeld: data.creditsHeld,
        creditsSpent: data.creditsSpent,
      },
    ],
  ],
  PurchaseDisputeClosed: ({ data }) => [
    [
      'dispute.closed',
      data.closedAt,
      {
        purchaseId: data.purchaseId,
        disputeId: data.disputeId,
        outcome: data.outcome,
        creditsTakenBack: data.creditsTakenBack,
        creditsOwed: data.creditsOwed,
        amountLost: data.amountLost,
      },
    ],
  ],
};

/**
 * Where an endpoint receives, as another receiver or a log may be told it: its origin alone. The
 * user, password, query and fragment may carry a token, and so may the path (chat services put
 * theirs there: /services/T…/B…/<token>).
 */
export function publicUrlOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}

/**
 * The alert that one of a workspace's endpoints was disabled because every attempt to it failed
 * for too long (WebhookEndpointDisabled, reason FAILING): for the workspace's other endpoints and
 * the platform's that subscribe to it, so that someone hears of it before more is missed.
 */
export function endpointDisabledMessage(
  endpoint: {
    workspaceId: string | null;
    endpointId: string;
    url: string;
    failingSince: string | null;
    disabledAt: string;
  },
  at: { position: bigint; balanceAfter: number | null },
): WebhookMessage {
  const { workspaceId, endpointId, url, failingSince, disabledAt } = endpoint;
  return {
    type: 'webhook_endpoint.disabled',
    timestamp: disabledAt,
    data: {
      schemaVersion: WEBHOOK_SCHEMA_VERSION,
      workspaceId,
      position: at.position.toString(),
      balanceAfter: at.balanceAfter,
      endpointId,
      url: publicUrlOf(url),
      reason: 'FAILING',
      failingSince,
    },
  };
}

/**
 * The test message asked for at an endpoint: its workspace (null for a platform endpoint), the
 * position of the request in the log and, for a workspace's endpoint, the balance there.
 */
export function testMessage(
  test: { workspaceId: string | null; endpointId: string; requestedAt: string },
  at: { position: bigint; balanceAfter: number | null },
): WebhookMessage {
  return {
    type: WEBHOOK_TEST_TYPE,
    timestamp: test.requestedAt,
    data: {
      schemaVersion: WEBHOOK_SCHEMA_VERSION,
      workspaceId: test.workspaceId,
      position: at.position.toString(),
      balanceAfter: at.balanceAfter,
      endpointId: test.endpointId,
    },
  };
}

/** Whether the event makes any message at all (cheap: no context needed to ask). */
export const mayAnnounce = (type: string): boolean => type in MESSAGES;

/** The webhook messages one credits event makes, at its place in the log. */
export function webhookMessagesOf(event: WorkspaceCreditsEvent, at: LogContext): WebhookMessage[] {
  const announce = MESSAGES[event.type] as Announce<typeof event.type> | undefined;
  if (!announce) return [];
  return announce(event as never).map(([type, timestamp, data]) => ({
    type,
    timestamp,
    data: {
      schemaVersion: WEBHOOK_SCHEMA_VERSION,
      workspaceId: event.data.workspaceId,
      position: at.position.toString(),
      balanceAfter: at.balanceAfter,
      ...data,
    },
  }));
}
