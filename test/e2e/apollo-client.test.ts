/**
 * What a standard client does with the API and no configuration: Apollo Client's InMemoryCache,
 * without keyFields or typePolicies, normalizes every object that has an identity, and a live
 * workspaceCreditsChanged update replaces the balance a query is watching.
 */
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql, type NormalizedCacheObject } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { Kind, OperationTypeNode } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { everyObjectType, seedCacheWorkspace } from '../support/client-caches';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';
import { VALUE_TYPES } from '../support/value-types';

const WORKSPACE = `ws-apollo-${process.pid}`;

const BALANCE_FIELDS = gql`
  fragment LiveBalance on WorkspaceCredits {
    id
    workspaceId
    available
    included {
      remaining
    }
    grants {
      id
      remaining
    }
  }
`;
const BALANCE = gql`
  query Balance($workspaceId: ID!) {
    workspaceCredits(workspaceId: $workspaceId) {
      ...LiveBalance
    }
  }
  ${BALANCE_FIELDS}
`;
const CHANGED = gql`
  subscription Changed($workspaceId: ID!) {
    workspaceCreditsChanged(workspaceId: $workspaceId) {
      ...LiveBalance
    }
  }
  ${BALANCE_FIELDS}
`;
const SPEND = gql`
  mutation Spend($input: ConsumeCreditsInput!) {
    consumeCredits(input: $input) {
      id
      credits
      available
    }
  }
`;
let server: ServerProcess;
const clients: { apollo: ApolloClient; ws: Client }[] = [];

function apolloClient(token: string): ApolloClient {
  const ws = createClient({
    url: `${server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const isSubscription = ({ query }: ApolloLink.Operation) => {
    const definition = getMainDefinition(query);
    return definition.kind === Kind.OPERATION_DEFINITION && definition.operation === OperationTypeNode.SUBSCRIPTION;
  };
  const apollo = new ApolloClient({
    // No keyFields, no typePolicies: the API's ids are all the cache needs.
    cache: new InMemoryCache(),
    link: ApolloLink.split(
      isSubscription,
      new GraphQLWsLink(ws),
      new HttpLink({ uri: `${server.url}/graphql`, headers: { authorization: `Bearer ${token}` } }),
    ),
  });
  clients.push({ apollo, ws });
  return apollo;
}

beforeAll(async () => {
  server = await startServer();
  await seedCacheWorkspace(server.url, WORKSPACE);
});
afterAll(async () => {
  for (const { apollo, ws } of clients) {
    apollo.stop();
    await ws.dispose();
  }
  await server?.stop();
});

it('updates the balance a query watches from a live subscription, without keyFields', async () => {
  const apollo = apolloClient(tokenFor(WORKSPACE, 'OWNER'));
  const seen: number[] = [];
  const watched = apollo.watchQuery({ query: BALANCE, variables: { workspaceId: WORKSPACE } });
  const watching = watched.subscribe(({ data }) => {
    const balance = (data as { workspaceCredits?: { available: number } } | undefined)?.workspaceCredits;
    if (balance) seen.push(balance.available);
  });
  const live = apollo.subscribe({ query: CHANGED, variables: { workspaceId: WORKSPACE } }).subscribe(() => undefined);
  try {
    await until(() => seen.includes(5500));
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the subscription register
    // Spent by someone else: only the subscription can tell this client about it.
    const other = apolloClient(tokenFor(WORKSPACE, 'SERVICE'));
    await other.mutate({
      mutation: SPEND,
      variables: { input: { workspaceId: WORKSPACE, action: 'ORG_CHART_SYNC', idempotencyKey: 'apollo-1' } },
    });
    await until(() => seen.includes(5400));
    expect((apollo.cache.extract() as NormalizedCacheObject)[`WorkspaceCredits:${WORKSPACE}`]).toMatchObject({
      __typename: 'WorkspaceCredits',
      id: WORKSPACE,
      available: 5400,
    });
  } finally {
    live.unsubscribe();
    watching.unsubscribe();
  }
});

it('normalizes every object type that has an identity, and keeps values inside their parent', async () => {
  const apollo = apolloClient(adminToken());
  for (const { query, variables } of everyObjectType(WORKSPACE)) await apollo.query({ query, variables });
  const cache = apollo.cache.extract() as NormalizedCacheObject;
  const embedded = new Set<string>();
  // Anything stored inside another record rather than as a reference must be a value type.
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (value === null || typeof value !== 'object') return;
    const { __typename } = value as { __typename?: string };
    if (__typename) embedded.add(__typename);
    Object.values(value).forEach(walk);
  };
  for (const record of Object.values(cache)) Object.values(record ?? {}).forEach(walk);
  expect(embedded.size).toBeGreaterThan(0);
  for (const type of embedded) expect(VALUE_TYPES).toContain(type);
  const normalized = new Set(Object.keys(cache).map((key) => key.split(':')[0]));
  for (const type of [
    'Plan',
    'CreditPackage',
    'CreditRate',
    'WorkspaceCredits',
    'CreditGrant',
    'CreditEstimate',
    'UsageBucket',
    'CreditPurchase',
    'LedgerEntry',
  ]) {
    expect(normalized).toContain(type);
  }
  // The balance at an instant is its own record: it must not overwrite the balance now.
  const balances = Object.keys(cache).filter((key) => key.startsWith('WorkspaceCredits:'));
  expect(balances).toHaveLength(2);
  expect(balances).toContain(`WorkspaceCredits:${WORKSPACE}`);
});

it('keeps the grants of the balance at an instant apart from the grants now', async () => {
  const apollo = apolloClient(tokenFor(WORKSPACE, 'OWNER'));
  const before = new Date();
  await apollo.mutate({
    mutation: SPEND,
    variables: {
      input: { workspaceId: WORKSPACE, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: 'at-instant' },
    },
  });
  const grants = gql`
    query Grants($workspaceId: ID!, $at: DateTime!) {
      now: workspaceCredits(workspaceId: $workspaceId) {
        id
        grants {
          id
          grantId
          remaining
        }
      }
      then: creditBalanceAt(workspaceId: $workspaceId, at: $at) {
        id
        grants {
          id
          grantId
          remaining
        }
      }
    }
  `;
  type Grants = { id: string; grants: { id: string; grantId: string; remaining: number }[] };
  const { data } = await apollo.query<{ now: Grants; then: Grants }>({
    query: grants,
    variables: { workspaceId: WORKSPACE, at: before.toISOString() },
  });
  const remainingNow = data!.now.grants.reduce((sum, grant) => sum + grant.remaining, 0);
  const remainingThen = data!.then.grants.reduce((sum, grant) => sum + grant.remaining, 0);
  expect(remainingThen - remainingNow).toBe(7); // the spend after the instant
  for (const grant of data!.then.grants) expect(grant.id).toBe(`${grant.grantId}@${before.toISOString()}`);
  // Read back from the cache, the balance now still has what it has now.
  const cached = apollo.readQuery<{ workspaceCredits: Grants }>({
    query: gql`
      query Now($workspaceId: ID!) {
        workspaceCredits(workspaceId: $workspaceId) {
          id
          grants {
            id
            grantId
            remaining
          }
        }
      }
    `,
    variables: { workspaceId: WORKSPACE },
  });
  expect(cached?.workspaceCredits.grants).toEqual(data!.now.grants);
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the cache');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
