/** The webhooks reaction's work, as its derivation records it and its performer reads it. */
import { createHash } from 'node:crypto';
import type { WebhookMessageType } from '../../src/domain/webhooks/messages';

export const WEBHOOKS_REACTION = 'webhooks';

/**
 * One message to one endpoint, until it is delivered or given up on. The body is not here: it is
 * kept once, in the delivery's row, and read from there when it is sent (reader.ts, `outgoing`).
 */
export interface WebhookWork {
  endpointId: string;
  /** The webhook-id: the same on every attempt, and after a redelivery. */
  deliveryId: string;
  eventType: WebhookMessageType;
  /** The number of this run's first attempt (1, or the next one after a redelivery). */
  firstAttempt: number;
  /**
   * When the redelivery this run resends was asked for (epoch ms). Its attempts name it, so the
   * answer of an attempt of the run before, in flight when it was asked for, is told apart: it is
   * history, and the resend still goes.
   */
  redeliveryRequestedAt?: number;
}

/**
 * A message's webhook-id, from the endpoint, the event and the message type: derived again the same
 * by a replay, so a replay cannot make a second message of one already delivered.
 */
export function deliveryIdOf(endpointId: string, eventId: string, type: WebhookMessageType): string {
  const digest = createHash('sha256').update(`${endpointId}\n${eventId}\n${type}`).digest('base64url');
  return `msg_${digest.slice(0, 27)}`;
}

/**
 * Work keys start with the endpoint: the executor bounds the attempts in flight per endpoint by
 * this prefix (see `partitionConcurrency`), and an endpoint's work can be dropped at once.
 */
export const workKey = (endpointId: string, deliveryId: string): string => `${endpointId}/${deliveryId}`;
