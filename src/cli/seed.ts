/**
 * `credits seed`: gives a workspace this calendar month's plan allowance through the running
 * server's GraphQL API, as the subscription system would. The README's quick start uses it so that
 * its commands work on any date: a period written into the README would end and then be refused.
 */
import { signToken } from '../auth/tokens';
import { calendarMonthOf } from '../server/calendar-month';

const APPLY_PLAN_ALLOWANCE = /* GraphQL */ `
  mutation Seed($input: ApplyPlanAllowanceInput!) {
    applyPlanAllowance(input: $input) {
      workspaceId
      plan {
        name
      }
      periodStart
      periodEnd
      available
      included {
        granted
        remaining
      }
    }
  }
`;

export interface SeedOptions {
  /** The server's base URL, e.g. http://127.0.0.1:4000. */
  url: string;
  /** The secret the server verifies tokens with. */
  jwtSecret: string;
  workspaceId: string;
  planId: string;
  now?: Date;
}

/** A short-lived admin token: applying an allowance is the subscription system's (admin) job. */
const seedToken = (jwtSecret: string): string =>
  signToken({ subject: 'credits-seed', workspaceId: 'platform', role: 'SERVICE', admin: true }, jwtSecret, 60);

/** Sends the mutation and resolves with the server's JSON answer; rejects if it carries errors. */
export async function seedWorkspace(options: SeedOptions): Promise<unknown> {
  const { periodStart, periodEnd } = calendarMonthOf(options.now ?? new Date());
  let response: Response;
  try {
    response = await fetch(new URL('/graphql', options.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${seedToken(options.jwtSecret)}` },
      body: JSON.stringify({
        query: APPLY_PLAN_ALLOWANCE,
        variables: { input: { workspaceId: options.workspaceId, planId: options.planId, periodStart, periodEnd } },
      }),
    });
  } catch (error) {
    throw new Error(`No server answered at ${options.url} (start it with npm start): ${String(error)}`);
  }
  const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: unknown } }[] };
  if (body.errors?.length) {
    const messages = body.errors.map((error) => error.message);
    // The usual cause: this shell's DATA_DIR (or AUTH_JWT_SECRET) is not the server's.
    if (body.errors.some((error) => error.extensions?.code === 'UNAUTHENTICATED')) {
      messages.push(
        `The server at ${options.url} did not take a token signed with this shell's secret: run seed with the ` +
          "server's DATA_DIR (its development secret) or AUTH_JWT_SECRET.",
      );
    }
    throw new Error(messages.join('\n'));
  }
  return body;
}
