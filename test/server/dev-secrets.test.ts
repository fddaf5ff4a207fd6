/**
 * The development secrets a fresh checkout makes for itself in DATA_DIR (the JWT secret and the
 * key that seals webhook signing secrets): made once, shared by every process that starts on the
 * directory at the same moment; a file a crash left empty, or one holding no key, is named rather
 * than blamed on WEBHOOK_SECRET_KEY.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { resolveJwtSecret } from '../../src/auth/tokens';
import { resolveWebhookSecretKey } from '../../src/server/webhook-key';

const run = promisify(execFile);
const newDir = () => mkdtempSync(join(tmpdir(), 'dev-secrets-'));
const DIST = resolve(__dirname, '../../dist/src');

it('makes each secret once, readable by its owner only, and leaves nothing else behind', () => {
  const dataDir = join(newDir(), 'nested', 'data');
  const key = resolveWebhookSecretKey(undefined, dataDir, false);
  const secret = resolveJwtSecret(undefined, dataDir, false);
  expect(key).toHaveLength(32);
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
  expect(resolveWebhookSecretKey(undefined, dataDir, false).equals(key)).toBe(true);
  expect(resolveJwtSecret(undefined, dataDir, false)).toBe(secret);
  expect(readdirSync(dataDir).sort()).toEqual(['dev-jwt-secret', 'webhook-secret-key']);
  for (const file of readdirSync(dataDir)) expect(statSync(join(dataDir, file)).mode & 0o777).toBe(0o600);
});

it('gives every process that starts on a fresh directory at the same moment the same secrets', async () => {
  const script = `
    const { resolveWebhookSecretKey } = require(${JSON.stringify(join(DIST, 'server/webhook-key.js'))});
    const { resolveJwtSecret } = require(${JSON.stringify(join(DIST, 'auth/tokens.js'))});
    const dir = process.argv[1];
    console.log(resolveWebhookSecretKey(undefined, dir, false).toString('base64') + ' ' + resolveJwtSecret(undefined, dir, false));`;
  for (let round = 0; round < 2; round++) {
    const dataDir = join(newDir(), 'data');
    const outputs = await Promise.all(
      Array.from({ length: 5 }, () =>
        run(process.execPath, ['-e', script, dataDir]).then(({ stdout }) => stdout.trim()),
      ),
    );
    expect(new Set(outputs).size).toBe(1);
    const [key, secret] = (outputs[0] as string).split(' ');
    expect(readFileSync(join(dataDir, 'webhook-secret-key'), 'utf8')).toBe(key);
    expect(readFileSync(join(dataDir, 'dev-jwt-secret'), 'utf8')).toBe(secret);
    expect(readdirSync(dataDir).sort()).toEqual(['dev-jwt-secret', 'webhook-secret-key']);
  }
});

it('names a secret file a process stopped before writing, and says to delete it', () => {
  const dataDir = newDir();
  writeFileSync(join(dataDir, 'webhook-secret-key'), '');
  writeFileSync(join(dataDir, 'dev-jwt-secret'), '\n');
  for (const [resolve, file] of [
    [() => resolveWebhookSecretKey(undefined, dataDir, false), 'webhook-secret-key'],
    [() => resolveJwtSecret(undefined, dataDir, false), 'dev-jwt-secret'],
  ] as const) {
    expect(resolve).toThrow(`${join(dataDir, file)} is empty: a process was stopped while making it`);
  }
  // Left as they were, for the operator to delete.
  expect(readdirSync(dataDir).sort()).toEqual(['dev-jwt-secret', 'webhook-secret-key']);
});

it('names a key file that holds no key, and says what it is for', () => {
  const dataDir = newDir();
  const file = join(dataDir, 'webhook-secret-key');
  writeFileSync(file, 'not a key');
  expect(() => resolveWebhookSecretKey(undefined, dataDir, false)).toThrow(
    `${file} holds no 32-byte key in base64. It seals the signing secrets of this data directory's webhook endpoints`,
  );
  // The file is left as it was: it may be the only copy of a key that is merely damaged.
  expect(readFileSync(file, 'utf8')).toBe('not a key');
});

it('takes the configured secrets, and in production makes none', () => {
  const dataDir = newDir();
  const configured = Buffer.alloc(32, 9).toString('base64');
  expect(resolveWebhookSecretKey(configured, dataDir, true).equals(Buffer.alloc(32, 9))).toBe(true);
  expect(() => resolveWebhookSecretKey('short', dataDir, true)).toThrow('WEBHOOK_SECRET_KEY must be 32 bytes');
  expect(() => resolveWebhookSecretKey(undefined, dataDir, true)).toThrow('WEBHOOK_SECRET_KEY must be set');
  expect(() => resolveJwtSecret(undefined, dataDir, true)).toThrow('AUTH_JWT_SECRET must be set');
  expect(readdirSync(dataDir)).toEqual([]);
});
