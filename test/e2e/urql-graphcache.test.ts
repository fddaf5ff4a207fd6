/**
 * urql's normalized cache (Graphcache) takes the API with no configuration but the one the README
 * gives: `keys` that say the value types have no key. It then warns about nothing, so every other
 * object was keyed by its id, and a mutation's answer replaces the balance a query cached.
 */
import { Client, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { GrantCreditsDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { everyObjectType, seedCacheWorkspace } from '../support/client-caches';
import { adminToken, startServer, type ServerProcess } from '../support/server-process';
import { VALUE_TYPES } from '../support/value-types';

const WORKSPACE = `ws-urql-${process.pid}`;
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer();
  await seedCacheWorkspace(server.url, WORKSPACE);
});
afterAll(async () => {
  await server?.stop();
});

it('keys every object by its id and warns about nothing, given keys for the value types', async () => {
  const warnings: string[] = [];
  const client = new Client({
    url: `${server.url}/graphql`,
    fetchOptions: { headers: { authorization: `Bearer ${adminToken()}` } },
    exchanges: [
      cacheExchange({
        keys: Object.fromEntries(VALUE_TYPES.map((type) => [type, () => null])),
        logger: (level, message) => {
          if (level === 'warn' || level === 'error') warnings.push(message);
        },
      }),
      fetchExchange,
    ],
  });
  const workspaceId = WORKSPACE;
  const answers = [];
  for (const { query, variables } of everyObjectType(workspaceId)) {
    answers.push(await client.query(query, variables).toPromise());
  }
  expect(answers.map((answer) => answer.error?.message)).toEqual(answers.map(() => undefined));
  expect(warnings).toEqual([]);

  // A grant answers the balance; the cached query shows it without asking the server again.
  const granted = await client
    .mutation(GrantCreditsDocument, {
      input: { workspaceId, credits: 25, reason: 'urql test', idempotencyKey: 'urql-grant' },
    })
    .toPromise();
  expect(granted.data?.grantCredits.available).toBe(5525);
  const cached = await client
    .query(WorkspaceCreditsDocument, { workspaceId }, { requestPolicy: 'cache-only' })
    .toPromise();
  expect(cached.data?.workspaceCredits.available).toBe(5525);
  expect(warnings).toEqual([]);
});
