/**
 * Bearer tokens: HS256 JWTs carrying `sub`, `workspaceId`, `role`, optional `admin` and `exp`.
 * The server verifies them and the token CLI signs them with the same secret.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { ROLES, type Principal } from './principal';

const claimsSchema = z.object({
  sub: z.string().min(1),
  workspaceId: z.string().min(1),
  role: z.enum(ROLES),
  admin: z.boolean().optional(),
});

export class InvalidTokenError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidTokenError';
  }
}

export function verifyToken(token: string, secret: string): Principal {
  let payload: unknown;
  try {
    payload = jwt.verify(token, secret, { algorithms: ['HS256'] });
  } catch (error) {
    throw new InvalidTokenError(
      error instanceof jwt.TokenExpiredError ? 'The token has expired.' : 'The token is not valid.',
    );
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw new InvalidTokenError('The token lacks the sub, workspaceId or role claims.');
  return {
    subject: claims.data.sub,
    workspaceId: claims.data.workspaceId,
    role: claims.data.role,
    admin: claims.data.admin === true,
  };
}

export function signToken(principal: Principal, secret: string, expiresInSeconds: number): string {
  return jwt.sign(
    { workspaceId: principal.workspaceId, role: principal.role, ...(principal.admin && { admin: true }) },
    secret,
    { algorithm: 'HS256', subject: principal.subject, expiresIn: expiresInSeconds },
  );
}

const DEV_SECRET_FILE = 'dev-jwt-secret';

/**
 * Outside production a missing AUTH_JWT_SECRET is replaced by a random secret kept under DATA_DIR,
 * so a fresh checkout works and the token CLI and the server agree without any setup.
 */
export function resolveJwtSecret(configured: string | undefined, dataDir: string, production: boolean): string {
  if (configured) return configured;
  if (production) throw new Error('AUTH_JWT_SECRET must be set when NODE_ENV=production.');
  const file = join(dataDir, DEV_SECRET_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
    } catch (error) {
      // Another process (the token CLI, a second server) created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return readFileSync(file, 'utf8').trim();
}
