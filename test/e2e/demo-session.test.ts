/**
 * The development-only demo session behind the Billing page's one-click sign-in: it seeds the demo
 * workspace once and hands out short-lived tokens; with NODE_ENV=production it does not exist.
 */
import { verifyToken } from '../../src/auth/tokens';
import { DEMO_TOKEN_TTL_SECONDS, demoSessionRouter } from '../../src/server/demo-session';
import type { Services } from '../../src/graphql/context';
import { StartCreditPurchaseDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { expectData, expectError } from '../support/graphql-client';
import { startServer, TEST_JWT_SECRET, type ServerProcess } from '../support/server-process';

interface DemoSessionAnswer {
  workspaceId: string;
  expiresAt: string;
  tokens: { OWNER: string; MEMBER: string };
}

const demoSession = async (server: ServerProcess) => {
  const response = await fetch(`${server.url}/billing/demo-session`, { method: 'POST' });
  expect(response.status).toBe(200);
  return (await response.json()) as DemoSessionAnswer;
};

describe('the demo session in development', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ env: { NODE_ENV: 'development' } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('seeds the demo workspace once and answers short-lived OWNER and MEMBER tokens', async () => {
    expect(await (await fetch(`${server.url}/billing/demo-session`)).json()).toEqual({
      available: true,
      workspaceId: 'demo',
    });
    const [first, second] = await Promise.all([demoSession(server), demoSession(server)]);
    expect(first.workspaceId).toBe('demo');
    const owner = verifyToken(first.tokens.OWNER, TEST_JWT_SECRET);
    expect(owner).toEqual({ subject: 'demo-owner', workspaceId: 'demo', role: 'OWNER', admin: false });
    expect(verifyToken(first.tokens.MEMBER, TEST_JWT_SECRET)).toMatchObject({ role: 'MEMBER', workspaceId: 'demo' });
    const lifetime = Date.parse(first.expiresAt) - Date.now();
    expect(lifetime).toBeLessThanOrEqual(DEMO_TOKEN_TTL_SECONDS * 1000);
    expect(lifetime).toBeGreaterThan(DEMO_TOKEN_TTL_SECONDS * 1000 - 60_000);

    const seeded = (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId: 'demo' }, first.tokens.OWNER))
      .workspaceCredits;
    expect(seeded.plan?.id).toBe('growth');
    expect(seeded.included.granted).toBe(5000);
    expect(seeded.included.consumed).toBeGreaterThan(0);

    await demoSession(server); // again: nothing more is granted or spent
    const again = (
      await expectData(server.url, WorkspaceCreditsDocument, { workspaceId: 'demo' }, second.tokens.MEMBER)
    ).workspaceCredits;
    expect(again).toEqual(seeded);

    const refused = await expectError(
      server.url,
      StartCreditPurchaseDocument,
      { workspaceId: 'demo', packageId: 'credits-500' },
      first.tokens.MEMBER,
    );
    expect(refused.code).toBe('FORBIDDEN');
  });

  it('serves the Billing page with a strict content security policy', async () => {
    const page = await fetch(`${server.url}/billing/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<h1>Billing</h1>');
    const redirect = await fetch(`${server.url}/billing?checkout=cancelled`, { redirect: 'manual' });
    expect(redirect.headers.get('location')).toBe('/billing/?checkout=cancelled');
  });
});

describe('the demo session in production', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('does not exist, while the Billing page itself is served', async () => {
    expect((await fetch(`${server.url}/billing/demo-session`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${server.url}/billing/demo-session`)).status).toBe(404);
    expect((await fetch(`${server.url}/billing/`)).status).toBe(200);
  });

  it('cannot even be built for production', () => {
    expect(() =>
      demoSessionRouter({} as Services, { production: true, jwtSecret: TEST_JWT_SECRET, logger: {} as never }),
    ).toThrow('not available in production');
  });
});
