/**
 * Standard Webhooks' headers for one attempt, signed with the `standardwebhooks` library:
 * `webhook-id` (the same on every attempt of a message), `webhook-timestamp` (this attempt's, in
 * seconds) and `webhook-signature`, one `v1,<base64 HMAC-SHA256>` per signing secret separated by
 * spaces (two while a rotated secret's overlap lasts; a receiver accepts any one it knows).
 */
import { Webhook } from 'standardwebhooks';

/** Signs with one secret (`whsec_…`); made once per secret, since making one decodes the secret. */
export type Signer = Pick<Webhook, 'sign'>;
export const signerFor = (secret: string): Signer => new Webhook(secret);

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
