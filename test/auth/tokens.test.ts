/**
 * Token verification, with and without the verifier's cache: the same tokens are accepted and
 * refused, and a cached token expires at the same second as one checked afresh.
 */
import jwt from 'jsonwebtoken';
import {
  bearerToken,
  createExpiringTokenVerifier,
  createTokenVerifier,
  InvalidTokenError,
  signToken,
  verifyToken,
} from '../../src/auth/tokens';

const SECRET = 'test-secret-of-enough-length-for-hs256';
const member = { subject: 'user-1', workspaceId: 'ws-1', role: 'MEMBER' as const, admin: false };
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

/** A verifier on a clock the test moves by hand. */
function verifierAt(start: number, cacheSize?: number) {
  const clock = { now: start };
  const verify = createTokenVerifier(SECRET, { now: () => clock.now, ...(cacheSize !== undefined && { cacheSize }) });
  return { clock, verify };
}

const signedAt = (issuedAt: number, claims: Record<string, unknown>, secret = SECRET) =>
  jwt.sign({ iat: Math.floor(issuedAt / 1000), ...claims }, secret, { algorithm: 'HS256', noTimestamp: true });

const refusal = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidTokenError) return error.message;
    throw error;
  }
  throw new Error('the token was accepted');
};

describe.each([
  ['with the cache', undefined],
  ['without the cache', 0],
])('a token verifier %s', (_name, cacheSize) => {
  it('accepts a good token every time, with the principal it carries', () => {
    const { verify } = verifierAt(T0, cacheSize);
    const token = signedAt(T0, { sub: 'user-1', workspaceId: 'ws-1', role: 'MEMBER', exp: T0 / 1000 + 60 });
    expect(verify(token)).toEqual(member);
    expect(verify(token)).toEqual(member);
  });

  it('refuses a token without exp, which nothing could expire', () => {
    const { verify } = verifierAt(T0, cacheSize);
    const forever = signedAt(T0, { sub: 'user-1', workspaceId: 'ws-1', role: 'MEMBER' });
    expect(refusal(() => verify(forever))).toBe('The token has no exp claim; tokens must expire.');
    expect(refusal(() => verifyToken(forever, SECRET))).toBe('The token has no exp claim; tokens must expire.');
  });

  it('refuses an exp past any date, a token that would never expire under another name', () => {
    const { verify } = verifierAt(T0, cacheSize);
    for (const exp of [1e300, 253_402_300_800]) {
      const never = signedAt(T0, { sub: 'user-1', workspaceId: 'ws-1', role: 'MEMBER', exp });
      expect(refusal(() => verify(never))).toBe('The token expires after 9999-12-31; tokens must expire.');
    }
    const decade = signedAt(T0, {
      sub: 'user-1',
      workspaceId: 'ws-1',
      role: 'MEMBER',
      exp: T0 / 1000 + 10 * 365 * 24 * 60 * 60,
    });
    expect(verify(decade)).toEqual(member);
  });

  it('stops accepting a token at the second it expires, after having accepted it', () => {
    const { clock, verify } = verifierAt(T0, cacheSize);
    const exp = T0 / 1000 + 60;
    const token = signedAt(T0, { sub: 'user-1', workspaceId: 'ws-1', role: 'MEMBER', exp });
    expect(verify(token)).toEqual(member);
    clock.now = exp * 1000 - 1;
    expect(verify(token)).toEqual(member);
    clock.now = exp * 1000;
    expect(refusal(() => verify(token))).toBe('The token has expired.');
    // Still refused when asked again: an expired token is never put back.
    expect(refusal(() => verify(token))).toBe('The token has expired.');
  });

  it('refuses a token before its nbf, and accepts it from that second on', () => {
    const { clock, verify } = verifierAt(T0, cacheSize);
    const token = signedAt(T0, {
      sub: 'user-1',
      workspaceId: 'ws-1',
      role: 'MEMBER',
      nbf: T0 / 1000 + 10,
      exp: T0 / 1000 + 60,
    });
    expect(refusal(() => verify(token))).toBe('The token is not valid.');
    clock.now = T0 + 10_000;
    expect(verify(token)).toEqual(member);
  });

  it('refuses a token signed with another secret, even after the good one was accepted', () => {
    const { verify } = verifierAt(T0, cacheSize);
    const claims = { sub: 'user-1', workspaceId: 'ws-1', role: 'MEMBER', exp: T0 / 1000 + 60 };
    expect(verify(signedAt(T0, claims))).toEqual(member);
    expect(refusal(() => verify(signedAt(T0, claims, 'another-secret-of-enough-length')))).toBe(
      'The token is not valid.',
    );
  });

  it('refuses a tampered token, another algorithm, and missing claims', () => {
    const { verify } = verifierAt(T0, cacheSize);
    const good = signedAt(T0, { sub: 'user-1', workspaceId: 'ws-1', role: 'MEMBER', exp: T0 / 1000 + 60 });
    expect(verify(good)).toEqual(member);
    const [header, , signature] = good.split('.');
    const admin = Buffer.from(JSON.stringify({ sub: 'user-1', workspaceId: 'ws-1', role: 'MEMBER', admin: true }));
    expect(refusal(() => verify(`${header}.${admin.toString('base64url')}.${signature}`))).toBe(
      'The token is not valid.',
    );
    const unsigned = jwt.sign({ sub: 'user-1', workspaceId: 'ws-1', role: 'MEMBER' }, '', { algorithm: 'none' });
    expect(refusal(() => verify(unsigned))).toBe('The token is not valid.');
    expect(refusal(() => verify(signedAt(T0, { sub: 'user-1', role: 'MEMBER', exp: T0 / 1000 + 60 })))).toMatch(
      /^The token lacks the sub, workspaceId or role claims, or one is malformed/,
    );
    expect(refusal(() => verify('not.a.token'))).toBe('The token is not valid.');
  });

  it('refuses claims the API would refuse as input: a subject with controls, a malformed workspace id', () => {
    const { verify } = verifierAt(T0, cacheSize);
    const withClaims = (claims: Record<string, unknown>) =>
      signedAt(T0, { sub: 'user-1', workspaceId: 'ws-1', role: 'MEMBER', exp: T0 / 1000 + 60, ...claims });
    for (const claims of [
      { sub: 'evil\u0000\u001b]0;pwned\u0007' },
      { sub: 'a\nb' },
      { sub: 'abc\u202Efdp.exe' },
      { sub: '\ud800' },
      { sub: 'x'.repeat(257) },
      { workspaceId: 'acme/x' },
      { workspaceId: '' },
      { workspaceId: '-acme' },
    ]) {
      expect(refusal(() => verify(withClaims(claims)))).toMatch(/or one is malformed \(sub: 1-256 characters/);
    }
    expect(verify(withClaims({ sub: 'auth0|5f1c9e 👩‍💻 Zoë' }))).toMatchObject({ subject: 'auth0|5f1c9e 👩‍💻 Zoë' });
    expect(verify(withClaims({ sub: 'x'.repeat(256), workspaceId: 'a.b:c-d_e' }))).toMatchObject({
      workspaceId: 'a.b:c-d_e',
    });
  });
});

it('reads what the token CLI signs', () => {
  const admin = { subject: 'root', workspaceId: 'ws-9', role: 'OWNER' as const, admin: true };
  expect(createTokenVerifier(SECRET)(signToken(admin, SECRET, 60))).toEqual(admin);
});

it('tells when a token expires, from its exp claim', () => {
  const verify = createExpiringTokenVerifier(SECRET, { now: () => T0 });
  const token = signedAt(T0, { sub: 'user-1', workspaceId: 'ws-1', role: 'MEMBER', exp: T0 / 1000 + 90 });
  expect(verify(token)).toEqual({ principal: member, expiresAt: T0 + 90_000 });
  expect(verify(token)).toEqual({ principal: member, expiresAt: T0 + 90_000 });
});

describe('the Authorization header', () => {
  it('reads a bearer token whatever the case of the scheme, and nothing else', () => {
    for (const value of ['Bearer abc', 'bearer abc', 'BEARER abc', ' Bearer  abc '])
      expect(bearerToken(value)).toBe('abc');
    for (const value of ['Basic abc', 'Bearer', 'Bearer a b', 'abc', '']) expect(bearerToken(value)).toBeUndefined();
  });
});
