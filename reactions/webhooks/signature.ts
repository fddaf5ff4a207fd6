/**
 * Standard Webhooks' headers for one attempt:
 * `webhook-id` (the same on every attempt of a message), `webhook-timestamp` (this attempt's, in
 * seconds) and `webhook-signature`, one `v1,<base64 HMAC-SHA256>` per signing secret separated by
 * spaces (two while a rotated secret's overlap lasts; a receiver accepts any one it knows).
 */
import { createHmac } from 'node:crypto';

const PREFIX = 'whsec_';

/** Signs with one secret (`whsec_…`); made once per secret, since making one decodes the secret. */
export interface Signer {
  /** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp in seconds>.<body>">`, as the `standardwebhooks` library signs. */
  sign(deliveryId: string, at: Date, body: string): string;
}

/**
 * The scheme of the `standardwebhooks` library's `Webhook.sign` (which receivers verify with), on
 * node:crypto's HMAC: the library's is plain JavaScript and cost several times more per attempt.
 */
export function signerFor(secret: string): Signer {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  if (key.length === 0) throw new Error("Secret can't be empty.");
  return {
    sign: (deliveryId, at, body) =>
      `v1,${createHmac('sha256', key)
        .update(`${deliveryId}.${Math.floor(at.getTime() / 1000)}.${body}`)
        .digest('base64')}`,
  };
}

export function signedHeaders(
  deliveryId: string,
  at: Date,
  body: string,
  signers: readonly Signer[],
): Record<string, string> {
  return {
    'webhook-id': deliveryId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signers.map((signer) => signer.sign(deliveryId, at, body)).join(' '),
  };
}
