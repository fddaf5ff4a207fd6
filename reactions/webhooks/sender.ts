/**
 * Sends one attempt at a delivery: reads its body and its endpoint (URL, status, sealed secrets)
 * as the read model has them at that moment, signs with every secret that signs then, and POSTs.
 * It records nothing: the performer records what came of it. The composition root runs it on a
 * thread of its own (src/server/webhook-sender-thread.ts), so that reading, signing and HTTP take
 * no time from the thread that decides commands.
 */
import type { WebhookSecrets, WebhookTransport } from '../../src/webhooks/port';
import type { WebhookReader } from './reader';
import { signedHeaders, signerFor, type Signer } from './signature';

/** One attempt to send: the delivery (its webhook-id), and the instant its signature carries (epoch ms). */
export interface SendOrder {
  deliveryId: string;
  at: number;
}

/**
 * What came of it: nothing sent (the delivery or its endpoint is unknown, or the endpoint is not
 * enabled), or the receiver's answer: its status code (null when none came) and, when the attempt
 * failed, why; with the number of the delivery's last recorded attempt before this one.
 */
export type SendOutcome =
  | { sent: false }
  | {
      sent: true;
      url: string;
      statusCode: number | null;
      error: string | null;
      latencyMs: number;
      attemptsBefore: number;
    };

export interface WebhookSender {
  send(order: SendOrder): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** Signers kept in memory (two per endpoint during a secret's overlap). */
const SIGNERS_KEPT = 1_000;

const describe = (error: unknown): string => {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error instanceof Error ? `${error.name}: ${error.message}${cause}`.slice(0, 500) : String(error);
};

/** A 2xx answer is a delivery; anything else a failure, a redirect included, since none is followed. */
export const delivered = (statusCode: number | null): boolean =>
  statusCode !== null && statusCode >= 200 && statusCode < 300;

/** Sends in the calling thread. */
export function webhookSender(
  reader: Pick<WebhookReader, 'outgoing'>,
  transport: WebhookTransport,
  secrets: Pick<WebhookSecrets, 'open'>,
): WebhookSender {
  const signers = new Map<string, Signer>();
  /** A signer per sealed secret, opened once rather than at every attempt. */
  const signer = (sealed: string): Signer => {
    let found = signers.get(sealed);
    if (!found) {
      if (signers.size >= SIGNERS_KEPT) signers.clear();
      found = signerFor(secrets.open(sealed));
      signers.set(sealed, found);
    }
    return found;
  };
  return {
    async send({ deliveryId, at }) {
      const outgoing = reader.outgoing(deliveryId);
      // Disabled or deleted since, or the delivery canceled (its type unsubscribed): its derivation
      // drops the work; nothing is sent.
      if (!outgoing || outgoing.status !== 'ENABLED' || outgoing.canceled) return { sent: false };
      const { body, url, current, previous, attempts: attemptsBefore } = outgoing;
      const sealed = [current, ...(previous && previous.expiresAt > at ? [previous.sealed] : [])];
      const headers = signedHeaders(deliveryId, new Date(at), body, sealed.map(signer));
      const started = performance.now();
      let statusCode: number | null = null;
      let error: string | null = null;
      try {
        ({ statusCode } = await transport.post({ url, headers, body }));
      } catch (failure) {
        error = describe(failure);
      }
      const latencyMs = Math.round(performance.now() - started);
      if (statusCode !== null && !delivered(statusCode)) {
        error =
          statusCode >= 300 && statusCode < 400
            ? `HTTP ${statusCode}: redirects are not followed`
            : `HTTP ${statusCode}`;
      }
      return { sent: true, url, statusCode, error, latencyMs, attemptsBefore };
    },
    close: () => transport.close(),
  };
}
