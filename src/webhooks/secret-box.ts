/**
 * Signing secrets at rest: `whsec_` and 24 random bytes in base64 (Standard Webhooks' form), sealed
 * with AES-256-GCM under the service's key (WEBHOOK_SECRET_KEY) before they enter an event, so the
 * event store, its backups and exports never hold one in clear. A sealed secret is
 * `v1.<iv>.<tag>.<ciphertext>` in base64url; opening it with another key fails loudly.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { WebhookSecrets } from './port';

const ALGORITHM = 'aes-256-gcm';
export const SECRET_PREFIX = 'whsec_';

/** The key as WEBHOOK_SECRET_KEY gives it: 32 bytes in base64 (`openssl rand -base64 32`). */
export function parseSecretKey(encoded: string): Buffer {
  const key = Buffer.from(encoded.trim(), 'base64');
  if (key.length !== 32) throw new Error('WEBHOOK_SECRET_KEY must be 32 bytes in base64 (openssl rand -base64 32).');
  return key;
}

export function aesGcmSecrets(key: Buffer): WebhookSecrets {
  if (key.length !== 32) throw new Error('The webhook secret key must be 32 bytes.');
  return {
    generate: () => `${SECRET_PREFIX}${randomBytes(24).toString('base64')}`,
    seal(secret) {
      const iv = randomBytes(12);
      const cipher = createCipheriv(ALGORITHM, key, iv);
      const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), sealed]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [version, iv, tag, data] = sealed.split('.');
      if (version !== 'v1' || iv === undefined || tag === undefined || data === undefined) {
        throw new Error('Not a sealed webhook secret.');
      }
      const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
