/**
 * The key that seals webhook signing secrets in events. Production takes it from
 * WEBHOOK_SECRET_KEY (the configuration refuses to start without it). Elsewhere a missing key is
 * replaced by a random one kept in DATA_DIR/webhook-secret-key, as the development JWT secret is,
 * so a fresh checkout works; losing that file makes its endpoints' secrets unreadable.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSecretKey } from '../webhooks/secret-box';
import { makeDirectory } from '../make-directory';

const DEV_KEY_FILE = 'webhook-secret-key';

export function resolveWebhookSecretKey(configured: string | undefined, dataDir: string, production: boolean): Buffer {
  if (configured) return parseSecretKey(configured);
  if (production) throw new Error('WEBHOOK_SECRET_KEY must be set when NODE_ENV=production.');
  const file = join(dataDir, DEV_KEY_FILE);
  if (!existsSync(file)) {
    makeDirectory(dataDir);
    try {
      writeFileSync(file, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return parseSecretKey(readFileSync(file, 'utf8'));
}
