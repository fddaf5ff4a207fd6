/**
 * Every setting comes from the environment, parsed and checked once at start. The README's
 * configuration table lists the same variables with the same defaults.
 */
import { join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { bool, cleanEnv, EnvError, makeValidator, str } from 'envalid';
import { DEFAULT_RETRY_RECORDS_IN_MEMORY, DEFAULT_STATE_CACHE_BYTES } from '../commands/command-handler';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from '../graphql/limits/query-limits';
import { parseDurations } from './durations';
import type { RateLimitSettings } from './rate-limits';
import type { SocketLimits } from './subscriptions';

/** A TCP port; 0 asks the system for a free one (tests use it). */
const listenPort = makeValidator<number>((input) => {
  const value = Number(input);
  if (!/^\d+$/.test(input) || value > 65535) throw new EnvError(`Invalid port "${input}"`);
  return value;
});

/**
 * The largest number a setting takes: Node runs a timer of more milliseconds than this after 1 ms
 * (a shutdown cut short, a sweeper spinning), and no count or size here needs more.
 */
const LARGEST_SETTING = 2_147_483_647;

/** A whole number above zero. */
const positiveInt = makeValidator<number>((input) => {
  const value = Number(input);
  if (!/^\d+$/.test(input) || value < 1) throw new EnvError(`Invalid positive integer "${input}"`);
  if (value > LARGEST_SETTING) throw new EnvError(`"${input}" is too large (at most ${LARGEST_SETTING})`);
  return value;
});

/** A whole number, zero or more. */
const count = makeValidator<number>((input) => {
  if (!/^\d+$/.test(input)) throw new EnvError(`Invalid count "${input}" (a whole number, 0 or more)`);
  if (Number(input) > LARGEST_SETTING) throw new EnvError(`"${input}" is too large (at most ${LARGEST_SETTING})`);
  return Number(input);
});

/** A directory; an empty value would put everything in the working directory unannounced. */
const directory = makeValidator<string>((input) => {
  if (input.trim() === '') throw new EnvError('An empty directory (set a path, or leave the variable unset)');
  return input;
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

/**
 * Secrets that earlier versions of docker-compose.yml gave as defaults: anyone can read them, so
 * production refuses them (a token signed with one would be an admin's).
 */
const PUBLISHED_SECRETS = new Set([
  'insecure-local-secret-change-me-0123456789',
  'aW5zZWN1cmUtbG9jYWwta2V5LWNoYW5nZS1tZS0wMTI=',
]);

/** HS256 keys shorter than the hash (32 bytes) are open to brute force; RFC 7518 §3.2 forbids them. */
const MIN_JWT_SECRET_BYTES = 32;

/** A signing secret of at least 32 bytes; empty means none (a development secret is generated). */
const jwtSecret = makeValidator<string>((input) => {
  const bytes = Buffer.byteLength(input, 'utf8');
  if (input !== '' && bytes < MIN_JWT_SECRET_BYTES) {
    throw new EnvError(
      `AUTH_JWT_SECRET is ${bytes} bytes; it must be at least ${MIN_JWT_SECRET_BYTES} (for example: openssl rand -hex 32)`,
    );
  }
  // Blanks only: a secret anyone would guess first, most likely a template left unfilled.
  if (input !== '' && input.trim() === '') {
    throw new EnvError('AUTH_JWT_SECRET is only blanks; set a secret (for example: openssl rand -hex 32)');
  }
  return input;
});

/** A bearer token guessed in a day of tries is no protection: at least 16 bytes. */
const metricsToken = makeValidator<string>((input) => {
  const bytes = Buffer.byteLength(input, 'utf8');
  if (input !== '' && bytes < 16) throw new EnvError(`METRICS_TOKEN is ${bytes} bytes; it must be at least 16`);
  return input;
});

/** `input` as an absolute http(s) URL, or undefined when it is not one. */
function httpUrl(input: string): URL | undefined {
  try {
    const url = new URL(input);
    return ['http:', 'https:'].includes(url.protocol) ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An absolute http(s) URL (a path is allowed, for a server behind a proxy at /credits); empty means
 * unset. A trailing slash is dropped, so that pages are appended as `${url}/billing`.
 */
const publicUrl = makeValidator<string>((input) => {
  if (input === '') return input;
  const url = httpUrl(input);
  if (!url || url.search !== '' || url.hash !== '') {
    throw new EnvError(`Invalid PUBLIC_URL "${input}" (expected e.g. https://credits.example.com)`);
  }
  return input.replace(/\/+$/, '');
});

/** An absolute http(s) URL, kept as written (query and all); empty means unset. */
const absoluteUrl = makeValidator<string>((input) => {
  if (input === '') return input;
  if (!httpUrl(input)) {
    throw new EnvError(`"${input}" is not an absolute http(s) URL (expected e.g. https://app.example.com/credits)`);
  }
  return input;
});

/**
 * The interface to listen on: an IP address (v4 or v6) or a host name, checked for its form here;
 * whether the machine has it shows when the server listens.
 */
const listenHost = makeValidator<string>((input) => {
  if (input === '') return input; // the mode's default, below
  const name =
    /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
  if (isIP(input) === 0 && !name.test(input)) {
    throw new EnvError(`"${input}" is neither an IP address nor a host name (expected e.g. 0.0.0.0, 127.0.0.1 or ::)`);
  }
  return input;
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
  /** Remembered spends the command side no longer keeps in memory (a cache), under dataDir. */
  retryRecordsFile: string;
  /** What the command side keeps in memory: bytes of workspace states, spends per workspace. */
  memory: { stateCacheBytes: number; retryRecordsInMemory: number };
  catalogFile: string;
  jwtSecret: string | undefined;
  logLevel: string;
  shutdownTimeoutMs: number;
  /** How long the drain keeps answering new requests 503 before it closes, in flight or not. */
  shutdownLingerMs: number;
  /** How long a client may take to send a whole request, its body included. */
  requestTimeoutMs: number;
  expirySweepIntervalMs: number;
  /** How the reactions retry a side effect that failed: attempts before parking, first wait. */
  reactionRetry: { maxAttempts: number; firstDelayMs: number };
  /** How often an auto top-up is tried before it pauses, and the wait after the first decline (doubling). */
  autoTopUpRetry: { maxAttempts: number; firstDelayMs: number };
  /** Stripe credentials; undefined when the server runs without payments. */
  stripe: { secretKey: string; webhookSecret: string; apiBase: string | undefined } | undefined;
  /** What one GraphQL operation may ask for. */
  queryLimits: QueryLimits;
  /** Requests per caller and per client address, per window, in this process. */
  rateLimits: RateLimitSettings;
  /** Open graphql-ws sockets, and operations running over them, one caller may hold at once. */
  socketLimits: SocketLimits;
  /** The bearer token GET /metrics asks for; without one it is off in production, open otherwise. */
  metricsToken: string | undefined;
  /** Where browsers reach this server; undefined: http://localhost:<the port it listens on> (see public-url.ts). */
  publicUrl: string | undefined;
  /** Where Checkout sends the buyer back; undefined: the Billing page at the public URL. */
  checkoutSuccessUrl: string | undefined;
  checkoutCancelUrl: string | undefined;
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
  /** Endpoints one owner (a workspace, or the platform) may have at once. */
  maxEndpoints: number;
}

/**
 * Every setting that cannot work, by name, in one error thrown to the caller (the server prints it
 * and exits 1 before it opens anything), rather than envalid's own print-and-exit.
 */
function refuseInvalid({ errors }: { errors: Partial<Record<string, Error>> }): void {
  const refused = Object.entries(errors).map(([name, error]) => `${name}: ${error?.message ?? 'invalid'}`);
  if (refused.length > 0) throw new EnvError(`Invalid configuration. ${refused.join('; ')}`);
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const settings = {
    NODE_ENV: str({ choices: ['development', 'test', 'production'], default: 'development' }),
    HOST: listenHost({
      default: '',
      desc: 'Interface the HTTP server listens on; unset: 0.0.0.0 in production, 127.0.0.1 otherwise',
    }),
    PORT: listenPort({ default: 4000, desc: 'HTTP port; 0 picks a free one' }),
    DATA_DIR: directory({
      default: './data',
      desc: 'Embedded event store, read models and the development JWT secret',
    }),
    EVENTSTORE_URL: eventStoreUrl({
      default: '',
      desc: 'EventStoreDB connection string, e.g. esdb://localhost:2113?tls=false; unset: the embedded store',
    }),
    CATALOG_FILE: str({ default: 'config/catalog.json', desc: 'Rate card, plans and credit packages' }),
    AUTH_JWT_SECRET: jwtSecret({
      default: '',
      desc: 'HS256 secret of bearer tokens, 32 bytes or more; required in production',
    }),
    LOG_LEVEL: str({ choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' }),
    SHUTDOWN_TIMEOUT_MS: positiveInt({ default: 10_000, desc: 'How long SIGTERM waits for in-flight requests' }),
    SHUTDOWN_LINGER_MS: count({
      default: 1_000,
      desc: 'How long SIGTERM keeps answering new requests 503 before closing, even with none in flight',
    }),
    REQUEST_TIMEOUT_MS: positiveInt({
      default: 30_000,
      desc: 'How long a client may take to send a whole request (headers within 10 s); 408 past it',
    }),
    EXPIRY_SWEEP_INTERVAL_MS: positiveInt({
      default: 60_000,
      desc: 'How often expired credits of quiet workspaces are recorded',
    }),
    REACTION_MAX_ATTEMPTS: positiveInt({
      default: 10,
      desc: 'Attempts a reaction makes at a side effect (a refund at Stripe) before parking it for an operator',
    }),
    REACTION_FIRST_RETRY_MS: positiveInt({
      default: 1000,
      desc: 'Wait before a reaction retries a failed side effect; it doubles on each failure, up to 10 minutes',
    }),
    AUTO_TOP_UP_MAX_ATTEMPTS: positiveInt({
      default: 3,
      desc: 'Attempts to charge one auto top-up before auto top-up pauses itself',
    }),
    AUTO_TOP_UP_RETRY_MS: positiveInt({
      default: 3_600_000,
      desc: 'Wait after a declined auto top-up before the next attempt; it doubles after each failure',
    }),
    STRIPE_SECRET_KEY: str({ default: '', desc: 'Stripe secret key (sk_test_… or sk_live_…); unset: payments off' }),
    STRIPE_WEBHOOK_SECRET: str({ default: '', desc: 'Signing secret of the /webhooks/stripe endpoint (whsec_…)' }),
    STRIPE_API_BASE: absoluteUrl({
      default: '',
      desc: 'Another Stripe-compatible server, e.g. http://127.0.0.1:12111',
    }),
    PUBLIC_URL: publicUrl({
      default: '',
      desc: 'Where browsers reach this server, e.g. https://credits.example.com; unset: http://localhost:<PORT>',
    }),
    CHECKOUT_SUCCESS_URL: absoluteUrl({
      default: '',
      desc: 'Where Stripe sends the buyer after paying; unset: <PUBLIC_URL>/billing?checkout=success&session_id=…',
    }),
    CHECKOUT_CANCEL_URL: absoluteUrl({
      default: '',
      desc: 'Where Stripe sends a buyer who cancels; unset: <PUBLIC_URL>/billing?checkout=cancelled',
    }),
    WEBHOOK_SECRET_KEY: str({
      default: '',
      desc: 'Key (32 bytes, base64) sealing webhook signing secrets; required in production',
    }),
    WEBHOOK_ALLOW_PRIVATE_URLS: bool({ default: false, desc: 'Allow http and private addresses as webhook URLs' }),
    WEBHOOK_TIMEOUT_MS: positiveInt({ default: 10_000, desc: 'Deadline of one webhook attempt' }),
    WEBHOOK_RETRY_SCHEDULE: durations({
      default: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      desc: 'Waits before each retry of a webhook, e.g. 5s,5m,30m,2h,5h,10h,10h',
    }),
    WEBHOOK_MAX_ENDPOINTS: positiveInt({
      default: 20,
      desc: 'Webhook endpoints one workspace may have at once (and, apart, the platform)',
    }),
    WEBHOOK_DISABLE_AFTER: duration({
      default: 5 * 24 * 60 * 60 * 1000,
      desc: 'How long every attempt to an endpoint may fail before it is disabled, e.g. 5d',
    }),
    GRAPHQL_MAX_TOKENS: positiveInt({
      default: DEFAULT_QUERY_LIMITS.maxTokens,
      desc: 'Most lexical tokens in one GraphQL document',
    }),
    GRAPHQL_MAX_COST: positiveInt({
      default: DEFAULT_QUERY_LIMITS.maxCost,
      desc: 'Largest estimated cost of one operation',
    }),
    GRAPHQL_MAX_DEPTH: positiveInt({ default: DEFAULT_QUERY_LIMITS.maxDepth, desc: 'Deepest nesting of fields' }),
    GRAPHQL_MAX_ALIASES: positiveInt({
      default: DEFAULT_QUERY_LIMITS.maxAliases,
      desc: 'Most aliases in one operation',
    }),
    RATE_LIMIT_WINDOW_MS: positiveInt({ default: 10_000, desc: "Length of the rate limits' counting window" }),
    RATE_LIMIT_PER_TOKEN: count({ default: 1_000, desc: 'Requests to /graphql per caller per window; 0: off' }),
    RATE_LIMIT_PER_ADDRESS: count({
      default: 3_000,
      desc: 'Requests to /graphql per client address per window; 0: off',
    }),
    RATE_LIMIT_WEBHOOK: count({
      default: 600,
      desc: 'Requests to /webhooks/stripe per client address per window; 0: off',
    }),
    METRICS_TOKEN: metricsToken({ default: '', desc: 'Bearer token of GET /metrics; unset: off in production' }),
    WS_SOCKETS_PER_CALLER: positiveInt({ default: 20, desc: 'Open graphql-ws sockets one caller may hold' }),
    WS_OPERATIONS_PER_CALLER: positiveInt({
      default: 50,
      desc: 'Subscriptions (and other operations) one caller may have running over its graphql-ws sockets together',
    }),
    STATE_CACHE_MB: positiveInt({
      default: DEFAULT_STATE_CACHE_BYTES / 1024 / 1024,
      desc: 'Memory for workspace states kept between commands (approximate MiB; least recently used go first)',
    }),
    RETRY_RECORDS_IN_MEMORY: positiveInt({
      default: DEFAULT_RETRY_RECORDS_IN_MEMORY,
      desc: 'Remembered spends, and ended holds, a workspace keeps in memory (each); older ones are read from DATA_DIR/retry-records.sqlite',
    }),
  };
  const env = cleanEnv(environment, settings, { reporter: refuseInvalid });
  // Every setting that is missing or does not fit another, named at once.
  const missing: string[] = [];
  if (env.NODE_ENV === 'production' && env.AUTH_JWT_SECRET === '') {
    missing.push('AUTH_JWT_SECRET must be set when NODE_ENV=production (openssl rand -base64 48)');
  }
  if (env.NODE_ENV === 'production' && env.WEBHOOK_SECRET_KEY === '') {
    missing.push('WEBHOOK_SECRET_KEY must be set when NODE_ENV=production (openssl rand -base64 32)');
  }
  if (env.SHUTDOWN_LINGER_MS > env.SHUTDOWN_TIMEOUT_MS) {
    missing.push(
      `SHUTDOWN_LINGER_MS (${env.SHUTDOWN_LINGER_MS}) must not be longer than SHUTDOWN_TIMEOUT_MS (${env.SHUTDOWN_TIMEOUT_MS}), which ends the shutdown`,
    );
  }
  missing.push(...stripeProblems(env));
  if (missing.length > 0) throw new EnvError(`Invalid configuration. ${missing.join('; ')}.`);
  if (env.NODE_ENV === 'production') {
    for (const name of ['AUTH_JWT_SECRET', 'WEBHOOK_SECRET_KEY'] as const) {
      if (PUBLISHED_SECRETS.has(env[name])) {
        throw new EnvError(`${name} is a value published in this project's repository; set a secret of your own.`);
      }
    }
  }
  const dataDir = resolve(env.DATA_DIR);
  return {
    production: env.NODE_ENV === 'production',
    // Outside production the server hands out demo tokens and may reach private addresses
    // (WEBHOOK_ALLOW_PRIVATE_URLS): it listens on this machine alone unless told otherwise.
    host: env.HOST || (env.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1'),
    port: env.PORT,
    dataDir,
    eventStoreFile: join(dataDir, 'events.sqlite'),
    eventStoreUrl: env.EVENTSTORE_URL === '' ? undefined : env.EVENTSTORE_URL,
    readModelFile: join(dataDir, 'read-models.sqlite'),
    snapshotDir: join(dataDir, 'snapshots'),
    retryRecordsFile: join(dataDir, 'retry-records.sqlite'),
    memory: { stateCacheBytes: env.STATE_CACHE_MB * 1024 * 1024, retryRecordsInMemory: env.RETRY_RECORDS_IN_MEMORY },
    catalogFile: resolve(env.CATALOG_FILE),
    jwtSecret: env.AUTH_JWT_SECRET === '' ? undefined : env.AUTH_JWT_SECRET,
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    shutdownLingerMs: env.SHUTDOWN_LINGER_MS,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    expirySweepIntervalMs: env.EXPIRY_SWEEP_INTERVAL_MS,
    reactionRetry: { maxAttempts: env.REACTION_MAX_ATTEMPTS, firstDelayMs: env.REACTION_FIRST_RETRY_MS },
    autoTopUpRetry: { maxAttempts: env.AUTO_TOP_UP_MAX_ATTEMPTS, firstDelayMs: env.AUTO_TOP_UP_RETRY_MS },
    stripe:
      env.STRIPE_SECRET_KEY && env.STRIPE_WEBHOOK_SECRET
        ? {
            secretKey: env.STRIPE_SECRET_KEY,
            webhookSecret: env.STRIPE_WEBHOOK_SECRET,
            apiBase: env.STRIPE_API_BASE === '' ? undefined : env.STRIPE_API_BASE,
          }
        : undefined,
    webhooks: {
      secretKey: env.WEBHOOK_SECRET_KEY === '' ? undefined : env.WEBHOOK_SECRET_KEY,
      allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: env.WEBHOOK_RETRY_SCHEDULE,
      disableAfterMs: env.WEBHOOK_DISABLE_AFTER,
      maxEndpoints: env.WEBHOOK_MAX_ENDPOINTS,
    },
    queryLimits: {
      maxTokens: env.GRAPHQL_MAX_TOKENS,
      maxCost: env.GRAPHQL_MAX_COST,
      maxDepth: env.GRAPHQL_MAX_DEPTH,
      maxAliases: env.GRAPHQL_MAX_ALIASES,
    },
    socketLimits: { socketsPerCaller: env.WS_SOCKETS_PER_CALLER, operationsPerCaller: env.WS_OPERATIONS_PER_CALLER },
    metricsToken: env.METRICS_TOKEN === '' ? undefined : env.METRICS_TOKEN,
    rateLimits: {
      windowSeconds: env.RATE_LIMIT_WINDOW_MS / 1000,
      graphqlPerToken: env.RATE_LIMIT_PER_TOKEN,
      graphqlPerAddress: env.RATE_LIMIT_PER_ADDRESS,
      webhookPerAddress: env.RATE_LIMIT_WEBHOOK,
    },
    publicUrl: env.PUBLIC_URL === '' ? undefined : env.PUBLIC_URL,
    checkoutSuccessUrl: env.CHECKOUT_SUCCESS_URL === '' ? undefined : env.CHECKOUT_SUCCESS_URL,
    checkoutCancelUrl: env.CHECKOUT_CANCEL_URL === '' ? undefined : env.CHECKOUT_CANCEL_URL,
  };
}

/**
 * Stripe settings that cannot work as meant: half of them (payments would be off without a word),
 * the two secrets swapped, and in production a live key sent to another server than Stripe's, or
 * Checkout sending buyers of live payments back to a localhost address.
 */
function stripeProblems(env: {
  NODE_ENV: string;
  STRIPE_SECRET_KEY: string;
  STRIPE_WEBHOOK_SECRET: string;
  STRIPE_API_BASE: string;
  PUBLIC_URL: string;
  CHECKOUT_SUCCESS_URL: string;
  CHECKOUT_CANCEL_URL: string;
}): string[] {
  const { STRIPE_SECRET_KEY: key, STRIPE_WEBHOOK_SECRET: webhookSecret } = env;
  const problems: string[] = [];
  if (key !== '' && webhookSecret === '') {
    problems.push('STRIPE_SECRET_KEY is set without STRIPE_WEBHOOK_SECRET: set both for payments, or neither');
  }
  if (key === '' && webhookSecret !== '') {
    problems.push('STRIPE_WEBHOOK_SECRET is set without STRIPE_SECRET_KEY: set both for payments, or neither');
  }
  if (key !== '' && !/^(sk|rk)_/.test(key)) {
    problems.push('STRIPE_SECRET_KEY must be a secret or restricted key (sk_… or rk_…)');
  }
  if (webhookSecret !== '' && !webhookSecret.startsWith('whsec_')) {
    problems.push("STRIPE_WEBHOOK_SECRET must be the webhook endpoint's signing secret (whsec_…)");
  }
  // Live money only: a laptop stack (docker-compose runs NODE_ENV=production) with test keys stays open.
  if (env.NODE_ENV === 'production' && webhookSecret !== '' && /^(sk|rk)_live_/.test(key)) {
    if (env.STRIPE_API_BASE !== '') {
      problems.push('STRIPE_API_BASE must not be set with a live key: payments would go to another server than Stripe');
    }
    // Checkout sends buyers back to PUBLIC_URL's Billing page, unless both return URLs are given.
    const returnsElsewhere = env.CHECKOUT_SUCCESS_URL !== '' && env.CHECKOUT_CANCEL_URL !== '';
    if (!returnsElsewhere && env.PUBLIC_URL === '') {
      problems.push('PUBLIC_URL must be set in production with a live key: Checkout sends buyers back to it');
    } else if (!returnsElsewhere && !env.PUBLIC_URL.startsWith('https://')) {
      problems.push('PUBLIC_URL must use https in production with a live key: Checkout sends buyers back to it');
    }
  }
  return problems;
}
