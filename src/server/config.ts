/**
 * Every setting comes from the environment, parsed and checked once at start. The README's
 * configuration table lists the same variables with the same defaults.
 */
import { join, resolve } from 'node:path';
import { bool, cleanEnv, EnvError, makeValidator, num, str } from 'envalid';
import { parseDurations } from './durations';

/** A TCP port; 0 asks the system for a free one (tests use it). */
const listenPort = makeValidator<number>((input) => {
  const value = Number(input);
  if (!/^\d+$/.test(input) || value > 65535) throw new EnvError(`Invalid port "${input}"`);
  return value;
});

/** An EventStoreDB connection string (esdb:// or esdb+discover://); empty means none. */
const eventStoreUrl = makeValidator<string>((input) => {
  if (input !== '' && !/^esdb(\+discover)?:\/\/[^/?#]+/.test(input)) {
    throw new EnvError(`Invalid EventStoreDB connection string "${input}" (expected esdb://host:port?tls=false)`);
  }
  return input;
});

/** A comma-separated list of durations (`5s,5m,2h`; units ms, s, m, h, d). */
const durations = makeValidator<number[]>((input) => parseDurations(input));

/** One duration (`5d`). */
const duration = makeValidator<number>((input) => {
  const [value, ...rest] = parseDurations(input);
  if (value === undefined || rest.length > 0) throw new EnvError(`Invalid duration "${input}" (expected e.g. 5d)`);
  return value;
});

export interface Config {
  production: boolean;
  host: string;
  port: number;
  dataDir: string;
  /** Embedded event store file, under dataDir. */
  eventStoreFile: string;
  /** EventStoreDB connection string; when set, the event store (not the read models) lives there. */
  eventStoreUrl: string | undefined;
  /** Read models and their checkpoints, under dataDir. */
  readModelFile: string;
  /** The command side's workspace state snapshots (a cache), under dataDir. */
  snapshotDir: string;
  catalogFile: string;
  jwtSecret: string | undefined;
  logLevel: string;
  shutdownTimeoutMs: number;
  expirySweepIntervalMs: number;
  /** How the reactions retry a side effect that failed: attempts before parking, first wait. */
  reactionRetry: { maxAttempts: number; firstDelayMs: number };
  /** Stripe credentials; undefined when the server runs without payments. */
  stripe: { secretKey: string; webhookSecret: string; apiBase: string | undefined } | undefined;
  checkoutSuccessUrl: string;
  checkoutCancelUrl: string;
  webhooks: WebhookConfig;
}

/** Outbound webhooks (docs/webhooks.md). */
export interface WebhookConfig {
  /** AES-256-GCM key of the signing secrets in events, base64; undefined outside production: a key file under dataDir. */
  secretKey: string | undefined;
  /** http and private addresses allowed (development and tests). */
  allowPrivateUrls: boolean;
  timeoutMs: number;
  retryScheduleMs: number[];
  disableAfterMs: number;
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const env = cleanEnv(environment, {
    NODE_ENV: str({ choices: ['development', 'test', 'production'], default: 'development' }),
    HOST: str({ default: '0.0.0.0', desc: 'Interface the HTTP server listens on' }),
    PORT: listenPort({ default: 4000, desc: 'HTTP port; 0 picks a free one' }),
    DATA_DIR: str({ default: './data', desc: 'Embedded event store, read models and the development JWT secret' }),
    EVENTSTORE_URL: eventStoreUrl({
      default: '',
      desc: 'EventStoreDB connection string, e.g. esdb://localhost:2113?tls=false; unset: the embedded store',
    }),
    CATALOG_FILE: str({ default: 'config/catalog.json', desc: 'Rate card, plans and credit packages' }),
    AUTH_JWT_SECRET: str({ default: '', desc: 'HS256 secret of bearer tokens; required in production' }),
    LOG_LEVEL: str({ choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' }),
    SHUTDOWN_TIMEOUT_MS: num({ default: 10_000, desc: 'How long SIGTERM waits for in-flight requests' }),
    EXPIRY_SWEEP_INTERVAL_MS: num({
      default: 60_000,
      desc: 'How often expired credits of quiet workspaces are recorded',
    }),
    REACTION_MAX_ATTEMPTS: num({
      default: 10,
      desc: 'Attempts a reaction makes at a side effect (a refund at Stripe) before parking it for an operator',
    }),
    REACTION_FIRST_RETRY_MS: num({
      default: 1000,
      desc: 'Wait before a reaction retries a failed side effect; it doubles on each failure, up to 10 minutes',
    }),
    STRIPE_SECRET_KEY: str({ default: '', desc: 'Stripe secret key (sk_test_… or sk_live_…); unset: payments off' }),
    STRIPE_WEBHOOK_SECRET: str({ default: '', desc: 'Signing secret of the /webhooks/stripe endpoint (whsec_…)' }),
    STRIPE_API_BASE: str({ default: '', desc: 'Another Stripe-compatible server, e.g. http://127.0.0.1:12111' }),
    CHECKOUT_SUCCESS_URL: str({
      default: 'http://localhost:4000/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}',
      desc: 'Where Stripe sends the buyer after paying',
    }),
    CHECKOUT_CANCEL_URL: str({
      default: 'http://localhost:4000/billing?checkout=cancelled',
      desc: 'Where Stripe sends a buyer who cancels',
    }),
    WEBHOOK_SECRET_KEY: str({
      default: '',
      desc: 'Key (32 bytes, base64) sealing webhook signing secrets; required in production',
    }),
    WEBHOOK_ALLOW_PRIVATE_URLS: bool({ default: false, desc: 'Allow http and private addresses as webhook URLs' }),
    WEBHOOK_TIMEOUT_MS: num({ default: 10_000, desc: 'Deadline of one webhook attempt' }),
    WEBHOOK_RETRY_SCHEDULE: durations({
      default: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      desc: 'Waits before each retry of a webhook, e.g. 5s,5m,30m,2h,5h,10h,10h',
    }),
    WEBHOOK_DISABLE_AFTER: duration({
      default: 5 * 24 * 60 * 60 * 1000,
      desc: 'How long every attempt to an endpoint may fail before it is disabled, e.g. 5d',
    }),
  });
  if (env.NODE_ENV === 'production' && env.WEBHOOK_SECRET_KEY === '') {
    throw new EnvError('WEBHOOK_SECRET_KEY must be set when NODE_ENV=production (openssl rand -base64 32).');
  }
  const dataDir = resolve(env.DATA_DIR);
  return {
    production: env.NODE_ENV === 'production',
    host: env.HOST,
    port: env.PORT,
    dataDir,
    eventStoreFile: join(dataDir, 'events.sqlite'),
    eventStoreUrl: env.EVENTSTORE_URL === '' ? undefined : env.EVENTSTORE_URL,
    readModelFile: join(dataDir, 'read-models.sqlite'),
    snapshotDir: join(dataDir, 'snapshots'),
    catalogFile: resolve(env.CATALOG_FILE),
    jwtSecret: env.AUTH_JWT_SECRET === '' ? undefined : env.AUTH_JWT_SECRET,
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    expirySweepIntervalMs: env.EXPIRY_SWEEP_INTERVAL_MS,
    reactionRetry: { maxAttempts: env.REACTION_MAX_ATTEMPTS, firstDelayMs: env.REACTION_FIRST_RETRY_MS },
    stripe:
      env.STRIPE_SECRET_KEY && env.STRIPE_WEBHOOK_SECRET
        ? {
            secretKey: env.STRIPE_SECRET_KEY,
            webhookSecret: env.STRIPE_WEBHOOK_SECRET,
            apiBase: env.STRIPE_API_BASE === '' ? undefined : env.STRIPE_API_BASE,
          }
        : undefined,
    checkoutSuccessUrl: env.CHECKOUT_SUCCESS_URL,
    checkoutCancelUrl: env.CHECKOUT_CANCEL_URL,
    webhooks: {
      secretKey: env.WEBHOOK_SECRET_KEY === '' ? undefined : env.WEBHOOK_SECRET_KEY,
      allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: env.WEBHOOK_RETRY_SCHEDULE,
      disableAfterMs: env.WEBHOOK_DISABLE_AFTER,
    },
  };
}
