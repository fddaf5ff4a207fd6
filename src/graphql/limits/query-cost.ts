/**
 * The estimated cost of an operation, with graphql-query-complexity: every field costs 1 plus what
 * it selects, and a list field's selection counts once per item it can hold. A paged list holds
 * at most what its `first` or `last` asks for; the other lists grow with a workspace's data and
 * count a typical size (the table below), so the estimate follows the size of the answer, not of
 * the query text.
 *
 * The analysis costs about 40 µs per operation, a third of a whole `workspaceCredits` request, so
 * its result is kept per parsed document (Apollo hands back the same document object for the same
 * query text) and per value of the few variables it can depend on: those given to the arguments
 * of a paged list (`first`, `last`) and to @skip/@include. Any other variable, such as a
 * workspace id, leaves it unchanged.
 */
import { validate, visit, type DocumentNode, type GraphQLSchema, type ValueNode } from 'graphql';
import { createComplexityRule, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_LEDGER_PAGE } from '../cursors';

/**
 * A page's size as the cost counts it: what it asks for, at least one. Its arguments are validated
 * only when the field runs, after the cost was judged: a negative size must not make the whole
 * operation cheaper.
 */
const pageOf = (asked: unknown, otherwise: number): number => {
  const size = Number(asked ?? otherwise);
  return Number.isFinite(size) ? Math.max(1, size) : otherwise;
};

/** How many items a list field counts for, by `Type.field`. */
const LIST_SIZE: Record<string, (args: Record<string, unknown>) => number> = {
  // Paged: exactly what the page asks for, from the newest (first) or the oldest (last) end.
  'Query.creditLedger': (args) => pageOf(args.first ?? args.last, DEFAULT_LEDGER_PAGE),
  'Query.creditHolds': (args) => pageOf(args.first, DEFAULT_LEDGER_PAGE),
  'Query.creditAlerts': (args) => pageOf(args.first, 20),
  'Query.webhookDeliveries': (args) => pageOf(args.first, 20),
  'WebhookDelivery.attemptHistory': (args) => pageOf(args.first, 20),
  // A month of days, or a team's members, or the five actions.
  'Query.creditUsage': () => 31,
  'Query.creditPurchases': () => 20,
  'Query.creditPurchasesPage': (args) => pageOf(args.first, DEFAULT_LEDGER_PAGE),
  // An owner's endpoints: at most WEBHOOK_MAX_ENDPOINTS, 20 by default.
  'Query.webhookEndpoints': () => 20,
  'Query.platformWebhookEndpoints': () => 20,
  'WorkspaceCredits.grants': () => 10,
  'LedgerEntry.grants': () => 3,
  'CreditConsumption.drawdown': () => 3,
};

/**
 * Fields whose list size reads their arguments: the variables given to them change the cost, so the
 * cost cached for a document is kept per value of those variables. Taken from LIST_SIZE itself (a
 * size that takes `args`), so that a new paged field cannot be left out and have its cost cached
 * for one page size and reused for another.
 */
const SIZED_BY_ARGUMENTS = new Set(
  Object.entries(LIST_SIZE)
    .filter(([, size]) => size.length > 0)
    .map(([field]) => field.slice(field.indexOf('.') + 1)),
);

const listEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const size = LIST_SIZE[`${type.name}.${field.name}`];
  return size ? 1 + size(args) * childComplexity : undefined;
};

/**
 * Fields whose work does not show in the size of their answer, by `Type.field`. The balance at an
 * instant folds the workspace's whole stream, hundreds of milliseconds for a busy one: at 2,400,
 * four fit in one operation, not twenty aliases of it.
 */
export const FIELD_COST: Record<string, number> = {
  'Query.creditBalanceAt': 2_400,
};

const fieldEstimator: ComplexityEstimator = ({ type, field, childComplexity }) => {
  const cost = FIELD_COST[`${type.name}.${field.name}`];
  return cost === undefined ? undefined : cost + childComplexity;
};

const ESTIMATORS = [fieldEstimator, listEstimator, simpleEstimator({ defaultComplexity: 1 })];

/** Cost results kept per document, at most this many variants (values of the cost's variables). */
const VARIANTS_PER_DOCUMENT = 32;

/** The cost of the operation named `operationName` (undefined: the document's only operation). */
export type QueryCost = (
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
) => number;

/**
 * A cost function for one schema. Arguments the cost cannot read (a variable that fails to coerce)
 * add nothing: execution refuses the operation or that field for the same reason.
 */
export function queryCostFor(schema: GraphQLSchema): QueryCost {
  const costVariables = new WeakMap<DocumentNode, string[]>();
  const known = new WeakMap<DocumentNode, Map<string, number>>();
  const compute: QueryCost = (document, operationName, variables) => {
    let cost = 0;
    const rule = createComplexityRule({
      maximumComplexity: Number.MAX_SAFE_INTEGER,
      // Every node counts: the default cap of 10,000 nodes would end the estimate with an error.
      maxQueryNodes: Number.POSITIVE_INFINITY,
      estimators: ESTIMATORS,
      variables: variables ?? {},
      ...(operationName && { operationName }),
      onComplete: (complexity) => (cost = complexity),
    });
    validate(schema, document, [rule]);
    return cost;
  };
  return (document, operationName, variables) => {
    let names = costVariables.get(document);
    if (!names) costVariables.set(document, (names = variablesTheCostReads(document)));
    const key = `${operationName ?? ''}\u0000${JSON.stringify(names.map((name) => variables?.[name] ?? null))}`;
    let variants = known.get(document);
    if (!variants) known.set(document, (variants = new Map<string, number>()));
    const cached = variants.get(key);
    if (cached !== undefined) return cached;
    const cost = compute(document, operationName, variables);
    if (variants.size < VARIANTS_PER_DOCUMENT) variants.set(key, cost);
    return cost;
  };
}

/** Names of the variables used in @skip/@include and in the arguments of lists sized by them. */
function variablesTheCostReads(document: DocumentNode): string[] {
  const names = new Set<string>();
  const collect = (value: ValueNode): void => {
    visit(value, { Variable: (variable) => void names.add(variable.name.value) });
  };
  visit(document, {
    Directive: (directive) => {
      if (directive.name.value === 'skip' || directive.name.value === 'include') {
        for (const argument of directive.arguments ?? []) collect(argument.value);
      }
    },
    Field: (field) => {
      if (!SIZED_BY_ARGUMENTS.has(field.name.value)) return;
      for (const argument of field.arguments ?? []) collect(argument.value);
    },
  });
  return [...names].sort();
}
