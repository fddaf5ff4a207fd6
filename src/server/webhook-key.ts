/**
 * The key that seals webhook signing secrets in events. Production takes it from
 * WEBHOOK_SECRET_KEY (the configuration refuses to start without it). Elsewhere a missing key is
 * replaced by a random one kept in DATA_DIR/webhook-secret-key, as the development JWT secret is,
 * so a fresh checkout works; losing that file makes its endpoints' secrets unreadable.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseSecretKey } from '../webhooks/secret-box';
import { secretFileOf } from '../make-directory';

export const DEV_KEY_FILE = 'webhook-secret-key';

export function resolveWebhookSecretKey(configured: string | undefined, dataDir: string, production: boolean): Buffer {
  if (configured) return parseSecretKey(configured);
  if (production) throw new Error('WEBHOOK_SECRET_KEY must be set when NODE_ENV=production.');
  const file = join(dataDir, DEV_KEY_FILE);
  const key = Buffer.from(
    secretFileOf(dataDir, DEV_KEY_FILE, () => randomBytes(32).toString('base64')),
    'base64',
  );
  if (key.length !== 32) {
    throw new Error(
      `${file} holds no 32-byte key in base64. It seals the signing secrets of this data directory's webhook endpoints: restore it from a backup, or set WEBHOOK_SECRET_KEY to the key it held.`,
    );
  }
  return key;
}
