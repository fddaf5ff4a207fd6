/**
 * Development only: one click on the Billing page opens a demo workspace. `POST
 * /billing/demo-session` gives the `demo` workspace a plan allowance for the current month and, the
 * first time, a few spends (through the same command layer as the API), then answers short-lived
 * OWNER and MEMBER tokens signed with the server's secret. The HTTP server never mounts this router
 * when NODE_ENV=production, and the router refuses to be built for production as a second guard.
 */
import { Router } from 'express';
import type { Logger } from 'pino';
import type { Role } from '../auth/principal';
import { signToken } from '../auth/tokens';
import type { CreditAction } from '../domain/credits';
import type { Services } from '../graphql/context';
import { calendarMonthOf } from './calendar-month';

export const DEMO_WORKSPACE_ID = 'demo';
/** Demo tokens expire after an hour: enough to look around, useless if they leak. */
export const DEMO_TOKEN_TTL_SECONDS = 60 * 60;
const DEMO_PLAN_ID = 'growth';
const DEMO_ACTOR = 'demo-session';

/** Spends a small team would make in a day; idempotency keys make a repeated seed a no-op. */
const DEMO_SPENDS: readonly { action: CreditAction; units: number; reference: string }[] = [
  { action: 'ORG_CHART_GENERATION', units: 2, reference: 'Acme Corp, Globex' },
  { action: 'BUYING_COMMITTEE_MAPPING', units: 3, reference: 'Q3 enterprise deals' },
  { action: 'PERSON_ENRICHMENT', units: 12, reference: 'Acme Corp buying committee' },
  { action: 'ACTION_PLAN_GENERATION', units: 4, reference: 'Globex renewal' },
  { action: 'ORG_CHART_SYNC', units: 1, reference: 'Acme Corp' },
  { action: 'PERSON_ENRICHMENT', units: 6, reference: 'Initech champions' },
];

export interface DemoSession {
  workspaceId: string;
  expiresAt: string;
  tokens: Record<'OWNER' | 'MEMBER', string>;
}

/**
 * Applies this month's allowance (granted once per period) and, if the workspace has never spent,
 * the demo spends. Resolves once the read models include all of it.
 */
export async function seedDemoWorkspace(services: Services, now: Date = new Date()): Promise<void> {
  const workspaceId = DEMO_WORKSPACE_ID;
  const metadata = { actorId: DEMO_ACTOR };
  const planId = services.catalog.plan(DEMO_PLAN_ID) ? DEMO_PLAN_ID : services.catalog.plans[0]?.id;
  if (planId) {
    await services.commands.applyPlanAllowance({ workspaceId, planId, ...calendarMonthOf(now) }, metadata);
  }
  const hasSpent = services.queries.ledgerPage(workspaceId, { first: 1, types: ['CONSUMPTION'] }).entries.length > 0;
  if (!hasSpent) {
    for (const [index, spend] of DEMO_SPENDS.entries()) {
      await services.commands.consumeCredits(
        { workspaceId, ...spend, idempotencyKey: `demo-seed-${index}` },
        { actorId: index % 2 === 0 ? 'demo-owner' : 'demo-member' },
      );
    }
  }
}

export function demoSession(jwtSecret: string, now: Date = new Date()): DemoSession {
  const token = (role: Role, subject: string) =>
    signToken({ subject, workspaceId: DEMO_WORKSPACE_ID, role, admin: false }, jwtSecret, DEMO_TOKEN_TTL_SECONDS);
  return {
    workspaceId: DEMO_WORKSPACE_ID,
    expiresAt: new Date(now.getTime() + DEMO_TOKEN_TTL_SECONDS * 1000).toISOString(),
    tokens: { OWNER: token('OWNER', 'demo-owner'), MEMBER: token('MEMBER', 'demo-member') },
  };
}

/** `GET /demo-session` says the demo exists; `POST /demo-session` seeds it and answers tokens. */
export function demoSessionRouter(
  services: Services,
  options: { production: boolean; jwtSecret: string; logger: Logger },
): Router {
  if (options.production) throw new Error('The demo session is not available in production.');
  const router = Router();
  // Concurrent clicks share one seeding run.
  let seeding: Promise<void> | undefined;
  router.get('/demo-session', (_req, res) => {
    res.json({ available: true, workspaceId: DEMO_WORKSPACE_ID });
  });
  router.post('/demo-session', async (_req, res) => {
    try {
      seeding ??= seedDemoWorkspace(services).finally(() => (seeding = undefined));
      await seeding;
      res.set('Cache-Control', 'no-store').json(demoSession(options.jwtSecret));
    } catch (error) {
      options.logger.error({ err: error }, 'could not seed the demo workspace');
      res.status(500).json({ error: 'The demo workspace could not be prepared.' });
    }
  });
  return router;
}
