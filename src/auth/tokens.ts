/**
 * Bearer tokens: HS256 JWTs carrying `sub`, `workspaceId`, `role`, optional `admin` and `exp`.
 * The server verifies them and the token CLI signs them with the same secret. A token without
 * `exp` is refused: it could only be revoked by changing the secret for everyone, and a socket
 * opened with it would never have to close.
 */
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { PLAIN_TEXT } from '../domain/plain-text';
import { WORKSPACE_ID_PATTERN, WORKSPACE_ID_RULE } from '../domain/workspace-id';
import { ROLES, type Principal } from './principal';
import { secretFileOf } from '../make-directory';

/** What a token's subject may be: 1-256 characters on one line, plain text (domain/plain-text.ts). */
export const SUBJECT_RULE = 'sub: 1-256 characters on one line without control or text-direction characters';

export const isSubject = (value: string): boolean =>
  value.length >= 1 && value.length <= 256 && PLAIN_TEXT.test(value) && !/[\t\r\n]/.test(value);

/**
 * The claims, held to the rules the API holds the same values to: the subject is recorded as the
 * actor of every change (the ledger, exports, usage by member), and the workspace id names streams
 * and, with the subject, a caller's rate-limit and socket counts (`workspace/subject`).
 */
const claimsSchema = z.object({
  sub: z.string().refine(isSubject),
  workspaceId: z.string().regex(WORKSPACE_ID_PATTERN),
  role: z.enum(ROLES),
  admin: z.boolean().optional(),
});

/** The last exp accepted: 9999-12-31T23:59:59Z, in seconds (the last instant a date can be written in). */
export const LAST_EXP = 253_402_300_799;

export class InvalidTokenError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidTokenError';
  }
}

/**
 * Checks a token's signature (HS256 only), expiry and claims and returns its principal; throws
 * InvalidTokenError otherwise. Prefer createTokenVerifier for many tokens with one secret.
 */
export function verifyToken(token: string, secret: string | KeyObject): Principal {
  return verifyClaims(token, typeof secret === 'string' ? secretKey(secret) : secret, nowSeconds(Date.now)).principal;
}

/**
 * The secret as a KeyObject. Given a string, jsonwebtoken first tries it as a PEM public key on
 * every call, and that failing attempt (an exception with its stack) costs more than the HMAC.
 */
function secretKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

interface Verified {
  principal: Principal;
  /** The exp and nbf claims (seconds since the epoch), checked again on every use. */
  exp: number;
  nbf: number | undefined;
}

const nowSeconds = (now: () => number): number => Math.floor(now() / 1000);

function verifyClaims(token: string, key: KeyObject, clockTimestamp: number): Verified {
  let payload: unknown;
  try {
    payload = jwt.verify(token, key, { algorithms: ['HS256'], clockTimestamp });
  } catch (error) {
    throw new InvalidTokenError(
      error instanceof jwt.TokenExpiredError ? 'The token has expired.' : 'The token is not valid.',
    );
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) {
    throw new InvalidTokenError(
      `The token lacks the sub, workspaceId or role claims, or one is malformed (${SUBJECT_RULE}; ${WORKSPACE_ID_RULE}).`,
    );
  }
  const { exp, nbf } = payload as { exp?: unknown; nbf?: unknown };
  if (typeof exp !== 'number') throw new InvalidTokenError('The token has no exp claim; tokens must expire.');
  // An exp past any date (1e300, past year 9999) is a token that never expires under another name.
  if (!(exp <= LAST_EXP)) throw new InvalidTokenError('The token expires after 9999-12-31; tokens must expire.');
  return {
    principal: Object.freeze({
      subject: claims.data.sub,
      workspaceId: claims.data.workspaceId,
      role: claims.data.role,
      admin: claims.data.admin === true,
    }),
    exp,
    nbf: typeof nbf === 'number' ? nbf : undefined,
  };
}

export interface TokenVerifierOptions {
  /** Distinct tokens whose verification is remembered. Default 10,000; 0 turns the cache off. */
  cacheSize?: number;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
}

/** Tokens longer than this are verified every time rather than remembered. */
const MAX_CACHED_TOKEN_LENGTH = 4096;

/** A verified token: who it is for, and the instant it stops being accepted. */
export interface VerifiedToken {
  principal: Principal;
  /** The exp claim, in milliseconds since the epoch. */
  expiresAt: number;
}

/**
 * A verifier for one secret. A token whose signature and claims have been verified once is
 * remembered by its exact text (only successes are, so nothing unverified can ever enter), and
 * its exp and nbf are checked against the clock on every use exactly as jsonwebtoken checks them:
 * a token stops being accepted at the same second with or without the cache.
 */
export function createTokenVerifier(secret: string, options: TokenVerifierOptions = {}): (token: string) => Principal {
  const verify = verifierFor(secret, options);
  return (token) => verify(token).principal;
}

/** The same verifier, also telling when the token expires (for a socket that must close then). */
export function createExpiringTokenVerifier(
  secret: string,
  options: TokenVerifierOptions = {},
): (token: string) => VerifiedToken {
  const verify = verifierFor(secret, options);
  return (token) => {
    const { principal, exp } = verify(token);
    return { principal, expiresAt: exp * 1000 };
  };
}

function verifierFor(secret: string, options: TokenVerifierOptions): (token: string) => Verified {
  const key = secretKey(secret);
  const now = options.now ?? Date.now;
  const cacheSize = options.cacheSize ?? 10_000;
  if (cacheSize <= 0) return (token) => verifyClaims(token, key, nowSeconds(now));
  const cache = new LRUCache<string, Verified>({ max: cacheSize });
  return (token) => {
    const clock = nowSeconds(now);
    const cached = cache.get(token);
    if (cached) {
      const current = clock < cached.exp && (cached.nbf === undefined || cached.nbf <= clock);
      if (current) return cached;
      // Expired (or not yet valid): forget it and let the full check give the precise refusal.
      cache.delete(token);
    }
    const verified = verifyClaims(token, key, clock);
    if (token.length <= MAX_CACHED_TOKEN_LENGTH) cache.set(token, verified);
    return verified;
  };
}

/** Why an Authorization value was not read: it is not a bearer token. */
export const BEARER_ONLY = 'Authorization must be "Bearer <token>".';

/** The token of an `Authorization: Bearer <token>` value (the scheme in any case, RFC 7235); undefined for any other. */
export function bearerToken(authorization: string): string | undefined {
  const [scheme, token, ...rest] = authorization.trim().split(/\s+/);
  return scheme?.toLowerCase() === 'bearer' && token && rest.length === 0 ? token : undefined;
}

export function signToken(principal: Principal, secret: string, expiresInSeconds: number): string {
  return jwt.sign(
    { workspaceId: principal.workspaceId, role: principal.role, ...(principal.admin && { admin: true }) },
    secret,
    { algorithm: 'HS256', subject: principal.subject, expiresIn: expiresInSeconds },
  );
}

export const DEV_SECRET_FILE = 'dev-jwt-secret';

/**
 * Outside production a missing AUTH_JWT_SECRET is replaced by a random secret kept under DATA_DIR,
 * so a fresh checkout works and the token CLI and the server agree without any setup.
 */
export function resolveJwtSecret(configured: string | undefined, dataDir: string, production: boolean): string {
  if (configured) return configured;
  if (production) throw new Error('AUTH_JWT_SECRET must be set when NODE_ENV=production.');
  return secretFileOf(dataDir, DEV_SECRET_FILE, () => randomBytes(32).toString('hex'));
}
