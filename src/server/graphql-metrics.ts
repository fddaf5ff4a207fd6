/**
 * Records every GraphQL operation over HTTP into metrics.ts: its count by operation name and
 * outcome (`ok`, or the first error's extensions.code as the client saw it), its latency by
 * operation name, and each error of a mutation as a command refusal by its code.
 *
 * Operation names come from clients, so they are bounded: the first MAX_OPERATION_NAMES names
 * signed-in callers use, of at most MAX_OPERATION_NAME_LENGTH characters, get series of their own,
 * and every other one counts as `other`, so a client that invents names cannot grow the metrics
 * without end (a 200 KB name repeated on every histogram line made /metrics 300 MB). The labelled
 * series are looked up once per label values.
 */
import type { ApolloServerPlugin, BaseContext, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import { commandRefusals, graphqlRequests, graphqlRequestSeconds } from './metrics';

const MAX_OPERATION_NAMES = 100;
/** A name longer than this is `other`: each series repeats its name on every line of /metrics. */
const MAX_OPERATION_NAME_LENGTH = 64;

/** A metric's labelled series, made once for each key. */
function seriesOf<T>(make: (key: string) => T): (key: string) => T {
  const known = new Map<string, T>();
  return (key) => {
    let series = known.get(key);
    if (series === undefined) known.set(key, (series = make(key)));
    return series;
  };
}

export function graphqlMetricsPlugin(): ApolloServerPlugin<BaseContext> {
  const names = new Set<string>();
  const nameOf = (context: GraphQLRequestContextWillSendResponse<BaseContext>): string => {
    if (!context.operation) return 'unresolved'; // refused before an operation was found
    const name = context.operationName ?? 'anonymous';
    if (names.has(name)) return name;
    // Only a signed-in caller's names take one of the places, so that nobody without a token can
    // fill them first and leave the real operations counted as `other`.
    const signedIn = (context.contextValue as { principal?: unknown }).principal !== undefined;
    if (!signedIn || name.length > MAX_OPERATION_NAME_LENGTH || names.size >= MAX_OPERATION_NAMES) return 'other';
    names.add(name);
    return name;
  };
  const requests = seriesOf((key) => {
    const [operation, outcome] = key.split('\u0000') as [string, string];
    return graphqlRequests.labels(operation, outcome);
  });
  const latency = seriesOf((operation) => graphqlRequestSeconds.labels(operation));
  const refusals = seriesOf((code) => commandRefusals.labels(code));
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse(context) {
          const { body } = context.response;
          const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
          const codeOf = (index: number): string => {
            const code = errors?.[index]?.extensions?.code;
            return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
          };
          const operation = nameOf(context);
          requests(`${operation}\u0000${errors?.length ? codeOf(0) : 'ok'}`).inc();
          latency(operation).observe((performance.now() - started) / 1000);
          if (context.operation?.operation === OperationTypeNode.MUTATION)
            errors?.forEach((_error, index) => refusals(codeOf(index)).inc());
        },
      };
    },
  };
}
