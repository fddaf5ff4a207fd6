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
    expect(loadConfig({ DATA_DIR: '/tmp/unused', NODE_ENV: 'production', ...own })).toMatchObject({
      production: true,
      host: '0.0.0.0',
    });
  });
});

describe('addresses and settings that depend on each other', () => {
  it('refuses a HOST that is neither an IP address nor a host name, and URLs that are not absolute', () => {
    expect(refusal({ HOST: 'not..a.host' })).toContain('HOST: "not..a.host" is neither an IP address nor a host name');
    for (const host of ['0.0.0.0', '::', '127.0.0.1', 'localhost', 'credits-api.internal']) {
      expect(loadConfig({ DATA_DIR: '/tmp/unused', HOST: host }).host).toBe(host);
    }
    // Unset: this machine alone outside production (demo tokens are handed out there), every
    // interface in production (a container).
    expect(loadConfig({ DATA_DIR: '/tmp/unused' }).host).toBe('127.0.0.1');
    expect(loadConfig({ DATA_DIR: '/tmp/unused', NODE_ENV: 'development' }).host).toBe('127.0.0.1');
    const message = refusal({
      STRIPE_API_BASE: 'notaurl',
      CHECKOUT_SUCCESS_URL: 'nope',
      CHECKOUT_CANCEL_URL: '/relative',
    });
    expect(message).toContain('STRIPE_API_BASE: "notaurl" is not an absolute http(s) URL');
    expect(message).toContain('CHECKOUT_SUCCESS_URL: "nope" is not an absolute http(s) URL');
    expect(message).toContain('CHECKOUT_CANCEL_URL: "/relative" is not an absolute http(s) URL');
    const custom = 'https://app.example.com/credits/thanks?sid={CHECKOUT_SESSION_ID}';
    expect(loadConfig({ DATA_DIR: '/tmp/unused', CHECKOUT_SUCCESS_URL: custom }).checkoutSuccessUrl).toBe(custom);
  });

  it('refuses a linger longer than the shutdown it is part of', () => {
    expect(refusal({ SHUTDOWN_LINGER_MS: '6000', SHUTDOWN_TIMEOUT_MS: '1000' })).toContain(
      'SHUTDOWN_LINGER_MS (6000) must not be longer than SHUTDOWN_TIMEOUT_MS (1000)',
    );
  });

  it('names both secrets production needs when both are missing', () => {
    const message = refusal({ NODE_ENV: 'production' });
    expect(message).toContain('AUTH_JWT_SECRET must be set when NODE_ENV=production');
    expect(message).toContain('WEBHOOK_SECRET_KEY must be set when NODE_ENV=production');
  });
});

describe('settings that could only misbehave later', () => {
  /** Production's own secrets, and Stripe on with `key`. */
  const productionWithStripe = (key: string) => ({
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: 'a'.repeat(64),
    WEBHOOK_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    STRIPE_SECRET_KEY: key,
    STRIPE_WEBHOOK_SECRET: 'whsec_x',
  });

  it('refuses a number past the largest timer Node runs as asked, and an empty DATA_DIR', () => {
    // Past 2,147,483,647 ms Node runs a timer after 1 ms: a shutdown cut short, a sweeper spinning.
    expect(refusal({ SHUTDOWN_TIMEOUT_MS: '3000000000' })).toContain('SHUTDOWN_TIMEOUT_MS: "3000000000" is too large');
    expect(refusal({ EXPIRY_SWEEP_INTERVAL_MS: '3000000000' })).toContain('EXPIRY_SWEEP_INTERVAL_MS');
    expect(refusal({ STATE_CACHE_MB: '99999999999999999999' })).toContain('STATE_CACHE_MB');
    expect(refusal({ SHUTDOWN_LINGER_MS: '3000000000' })).toContain('SHUTDOWN_LINGER_MS');
    expect(loadConfig({ DATA_DIR: '/tmp/unused', SHUTDOWN_TIMEOUT_MS: '2147483647' }).shutdownTimeoutMs).toBe(
      2147483647,
    );
    expect(refusal({ AUTH_JWT_SECRET: ' '.repeat(32) })).toContain('AUTH_JWT_SECRET is only blanks');
    expect(() => loadConfig({ DATA_DIR: '' })).toThrow(/DATA_DIR: An empty directory/);
    expect(() => loadConfig({ DATA_DIR: '  ' })).toThrow(/DATA_DIR/);
  });

  it('refuses half of the Stripe settings, or the two secrets swapped', () => {
    expect(refusal({ STRIPE_SECRET_KEY: 'sk_test_x' })).toContain(
      'STRIPE_SECRET_KEY is set without STRIPE_WEBHOOK_SECRET',
    );
    expect(refusal({ STRIPE_WEBHOOK_SECRET: 'whsec_x' })).toContain('STRIPE_WEBHOOK_SECRET is set without');
    const swapped = refusal({ STRIPE_SECRET_KEY: 'whsec_x', STRIPE_WEBHOOK_SECRET: 'sk_test_x' });
    expect(swapped).toContain('STRIPE_SECRET_KEY must be a secret or restricted key');
    expect(swapped).toContain("STRIPE_WEBHOOK_SECRET must be the webhook endpoint's signing secret");
    expect(
      loadConfig({ DATA_DIR: '/tmp/unused', STRIPE_SECRET_KEY: 'rk_test_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' }).stripe,
    ).toMatchObject({ secretKey: 'rk_test_x' });
  });

  it('refuses in production a live key sent elsewhere than Stripe, and Checkout returning buyers to localhost', () => {
    const production = productionWithStripe('sk_live_x');
    expect(refusal(production)).toContain('PUBLIC_URL must be set in production with a live key');
    expect(refusal({ ...production, PUBLIC_URL: 'http://credits.example.com' })).toContain('PUBLIC_URL must use https');
    expect(
      refusal({ ...production, PUBLIC_URL: 'https://credits.example.com', STRIPE_API_BASE: 'http://127.0.0.1:12111' }),
    ).toContain('STRIPE_API_BASE must not be set with a live key');
    expect(
      loadConfig({ DATA_DIR: '/tmp/unused', ...production, PUBLIC_URL: 'https://credits.example.com' }).stripe,
    ).toMatchObject({ secretKey: 'sk_live_x' });
    // Buyers sent back to the app's own pages: PUBLIC_URL is not where they land.
    const elsewhere = {
      CHECKOUT_SUCCESS_URL: 'https://app.example.com/ok',
      CHECKOUT_CANCEL_URL: 'https://app.example.com/no',
    };
    expect(loadConfig({ DATA_DIR: '/tmp/unused', ...production, ...elsewhere }).stripe).toMatchObject({
      secretKey: 'sk_live_x',
    });
  });

  it('takes test keys in production without PUBLIC_URL: the laptop stack of docker-compose', () => {
    expect(loadConfig({ DATA_DIR: '/tmp/unused', ...productionWithStripe('sk_test_x') }).stripe).toMatchObject({
      secretKey: 'sk_test_x',
    });
  });
});
