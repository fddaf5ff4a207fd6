/**
 * The configuration is read once, at startup, and a setting that cannot work stops the server there
 * with its name, rather than misbehaving later (a negative deadline, zero attempts).
 */
import { loadConfig } from '../../src/server/config';

/** What loadConfig throws for these settings. */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig({ DATA_DIR: '/tmp/unused', ...env });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`loadConfig took ${JSON.stringify(env)}`);
}

describe('settings that must be positive whole numbers', () => {
  it.each([
    'WEBHOOK_TIMEOUT_MS',
    'SHUTDOWN_TIMEOUT_MS',
    'EXPIRY_SWEEP_INTERVAL_MS',
    'REACTION_MAX_ATTEMPTS',
    'REACTION_FIRST_RETRY_MS',
  ])('refuses %s below 1 or not a number, naming it', (name) => {
    for (const value of ['-5', '0', 'soon', '1.5']) expect(refusal({ [name]: value })).toContain(name);
  });

  it('names every setting that is wrong at once', () => {
    const message = refusal({ WEBHOOK_TIMEOUT_MS: '-5', PORT: 'x', LOG_LEVEL: 'loud' });
    expect(message).toMatch(/^Invalid configuration\./);
    expect(message).toContain('WEBHOOK_TIMEOUT_MS: Invalid positive integer "-5"');
    expect(message).toContain('PORT: Invalid port "x"');
    expect(message).toContain('LOG_LEVEL');
  });

  it('takes them when they are', () => {
    const config = loadConfig({ DATA_DIR: '/tmp/unused', WEBHOOK_TIMEOUT_MS: '2500', REACTION_MAX_ATTEMPTS: '4' });
    expect(config.webhooks.timeoutMs).toBe(2500);
  });
});

describe('secrets in production', () => {
  const own = { AUTH_JWT_SECRET: 'a'.repeat(64), WEBHOOK_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') };

  it('refuses the secrets earlier versions of docker-compose.yml published as defaults', () => {
    const published = {
      AUTH_JWT_SECRET: 'insecure-local-secret-change-me-0123456789',
      WEBHOOK_SECRET_KEY: 'aW5zZWN1cmUtbG9jYWwta2V5LWNoYW5nZS1tZS0wMTI=',
    };
    for (const name of ['AUTH_JWT_SECRET', 'WEBHOOK_SECRET_KEY'] as const) {
      const message = refusal({ NODE_ENV: 'production', ...own, [name]: published[name] });
      expect(message).toContain(`${name} is a value published in this project's repository`);
    }
    // Outside production they are just strings (a laptop's compose run).
    expect(() => loadConfig({ DATA_DIR: '/tmp/unused', ...published })).not.toThrow();
  });

  it('takes secrets of your own', () => {
    expect(loadConfig({ DATA_DIR: '/tmp/unused', NODE_ENV: 'production', ...own }).production).toBe(true);
  });
});
