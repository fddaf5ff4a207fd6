/**
 * The limits on one operation, against the real schema: what a query costs, which documents cross
 * the depth and alias limits, and that every operation this project sends stays within them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  isEnumType,
  isInputObjectType,
  isListType,
  parse,
  separateOperations,
  specifiedRules,
  typeFromAST,
  validate,
  type DocumentNode,
  type GraphQLInputType,
  type NamedTypeNode,
} from 'graphql';
import { MAX_LEDGER_PAGE } from '../../src/graphql/cursors';
import { buildCreditsSchema } from '../../src/graphql/schema';
import { documentShapeRefusal } from '../../src/graphql/limits/document-shape';
import { operationLimits } from '../../src/graphql/limits/operation-limits';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from '../../src/graphql/limits/query-limits';
import { loadBillingOperations } from '../support/billing-operations';

const schema = buildCreditsSchema();

function limitsOf(limits: QueryLimits = DEFAULT_QUERY_LIMITS) {
  const applied = operationLimits(schema, limits);
  // One instance for every call, so that costs come from its cache as they do in the server.
  const measure = operationLimits(schema, { ...limits, maxCost: 0 });
  return {
    /** The codes, limits and actual values of the validation refusals. */
    refusals: (query: string) =>
      validate(schema, parse(query), applied.validationRules).map((error) => error.extensions),
    /** The estimated cost, read from the refusal of a zero-cost limit. */
    cost: (document: DocumentNode, variables?: Record<string, unknown>, operationName?: string) =>
      measure.costRefusal(document, operationName, variables)?.actual ?? 0,
    costRefusal: applied.costRefusal,
    rules: applied.validationRules,
  };
}

describe('the cost of an operation', () => {
  const { cost } = limitsOf();

  it('counts each field once, and each ledger entry asked for', () => {
    expect(cost(parse('{ plans { id name } }'))).toBe(3);
    expect(cost(parse('{ creditLedger(workspaceId: "w", first: 10) { edges { cursor } } }'))).toBe(1 + 10 * 2);
    // The default page, 50 entries.
    expect(cost(parse('{ creditLedger(workspaceId: "w") { edges { cursor } } }'))).toBe(1 + 50 * 2);
    // A page of holds, like a page of the ledger.
    expect(cost(parse('{ creditHolds(workspaceId: "w", first: 30) { edges { cursor } } }'))).toBe(1 + 30 * 2);
    expect(cost(parse('{ creditHolds(workspaceId: "w") { edges { cursor } } }'))).toBe(1 + 50 * 2);
    // Paging backwards, the page is as big as `last` says.
    expect(cost(parse('{ creditLedger(workspaceId: "w", last: 30, before: "c") { edges { cursor } } }'))).toBe(
      1 + 30 * 2,
    );
  });

  it('counts the balance at an instant at what folding a stream costs: four fit in one operation, not five', () => {
    const at = (n: number) =>
      parse(
        `{ ${Array.from({ length: n }, (_, i) => `b${i}: creditBalanceAt(workspaceId: "w", at: "2026-01-01T00:00:00Z") { available }`).join(' ')} }`,
      );
    expect(cost(at(1))).toBe(2_400 + 1);
    expect(limitsOf().costRefusal(at(4), undefined, {})).toBeUndefined();
    expect(limitsOf().costRefusal(at(5), undefined, {})).toMatchObject({
      extensions: { code: 'QUERY_TOO_COMPLEX', limit: 10_000, actual: 5 * 2_401 },
    });
  });

  it('counts alerts, deliveries and their attempts by the page each asks for, and endpoints at their limit', () => {
    expect(cost(parse('{ creditAlerts(workspaceId: "w", first: 100) { id } }'))).toBe(1 + 100 * 1);
    expect(cost(parse('{ creditAlerts(workspaceId: "w") { id } }'))).toBe(1 + 20 * 1);
    const nested = (n: number) =>
      parse(`{ webhookDeliveries(endpointId: "we_1", first: ${n}) { id attemptHistory(first: ${n}) { id } } }`);
    expect(cost(nested(10))).toBe(1 + 10 * (1 + (1 + 10 * 1)));
    // A hundred deliveries of a hundred attempts each is past the limit on its own.
    expect(cost(nested(100))).toBe(1 + 100 * (1 + (1 + 100 * 1)));
    expect(limitsOf().costRefusal(nested(100), undefined, {})?.extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(cost(parse('{ webhookEndpoints(workspaceId: "w") { id eventTypes } }'))).toBe(1 + 20 * 2);
    const byVariable = parse(
      'query ($n: Int!) { webhookDeliveries(endpointId: "we_1", first: $n) { attemptHistory(first: $n) { id } } }',
    );
    expect(cost(byVariable, { n: 2 })).toBe(1 + 2 * (1 + 2));
    expect(cost(byVariable, { n: 50 })).toBe(1 + 50 * (1 + 50));
  });

  it('counts a negative or unreadable page as one item, so it cannot pay for the fields beside it', () => {
    const costly = `${Array.from({ length: 3 }, (_, i) => `l${i}: creditLedger(workspaceId: "w", first: 200) { edges { cursor node { id type occurredAt credits balanceAfter source action units actorId reference refundedCredits grants { grantId source credits } } } }`).join(' ')}`;
    for (const field of [
      'creditAlerts(workspaceId: "w", first: -2147483647) { id }',
      'creditHolds(workspaceId: "w", first: -2147483647) { edges { cursor } }',
      'creditLedger(workspaceId: "w", last: -2147483647) { edges { cursor } }',
      'webhookDeliveries(endpointId: "we_1", first: -2147483647) { id }',
    ]) {
      const document = parse(`{ a: ${field} ${costly} }`);
      expect(cost(parse(`{ ${field} }`))).toBeGreaterThan(0);
      expect(limitsOf().costRefusal(document, undefined, {})?.extensions.code).toBe('QUERY_TOO_COMPLEX');
    }
  });

  it('follows the variables a page size comes from, every time the same document is used', () => {
    const backwards = parse(
      'query ($n: Int, $w: ID!) { creditLedger(workspaceId: $w, last: $n) { edges { cursor } } }',
    );
    expect(cost(backwards, { n: 5, w: 'a' })).toBe(1 + 5 * 2);
    expect(cost(backwards, { n: 200, w: 'a' })).toBe(1 + 200 * 2);
    const document = parse(
      'query ($n: Int!, $w: ID!) { creditLedger(workspaceId: $w, first: $n) { edges { node { id } } } }',
    );
    expect(cost(document, { n: 1, w: 'a' })).toBe(1 + 1 * 3);
    expect(cost(document, { n: 200, w: 'a' })).toBe(1 + 200 * 3);
    expect(cost(document, { n: 1, w: 'b' })).toBe(1 + 1 * 3);
    // Every paged field: a small page first must not leave its cost cached for a large one.
    for (const [field, selection] of [
      ['creditHolds', 'edges { cursor }'],
      ['creditPurchasesPage', 'edges { cursor }'],
      ['creditAlerts', 'id type'],
    ]) {
      const paged = parse(`query ($n: Int) { a: ${field}(workspaceId: "w", first: $n) { ${selection} } }`);
      expect(cost(paged, { n: 1 })).toBe(1 + 1 * 2);
      expect(cost(paged, { n: 200 })).toBe(1 + 200 * 2);
    }
  });

  it('counts what @include and @skip leave in, by their variables', () => {
    const document = parse(
      'query ($big: Boolean!) { plans { id } creditLedger(workspaceId: "w", first: 200) @include(if: $big) { edges { cursor } } }',
    );
    expect(cost(document, { big: false })).toBe(2);
    expect(cost(document, { big: true })).toBe(2 + 1 + 200 * 2);
    expect(cost(document, { big: false })).toBe(2);
  });

  it('counts only the operation asked for', () => {
    const document = parse(
      'query Small { plans { id } } query Big { creditLedger(workspaceId: "w", first: 100) { edges { cursor } } }',
    );
    expect(cost(document, {}, 'Small')).toBe(2);
    expect(cost(document, {}, 'Big')).toBe(1 + 100 * 2);
  });

  it('still counts the other fields when one argument cannot be read', () => {
    const document = parse(
      'query ($w: ID) { a: workspaceCredits(workspaceId: $w) { available } creditLedger(workspaceId: "w", first: 200) { edges { cursor } } }',
    );
    expect(cost(document, {})).toBe(1 + 200 * 2);
  });
});

describe('refusals', () => {
  const attack = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: creditLedger(workspaceId: "w", first: 200) { edges { node { id credits balanceAfter } } }`).join(' ')} }`;

  it('refuses 1,000 aliases of a ledger page as TOO_MANY_ALIASES, with the limit and the count', () => {
    expect(limitsOf().refusals(attack)).toEqual([
      { code: 'TOO_MANY_ALIASES', limit: 20, actual: 1000, http: { status: 400 } },
    ]);
  });

  it('refuses a query nested deeper than the limit as QUERY_TOO_DEEP', () => {
    const { refusals } = limitsOf({ ...DEFAULT_QUERY_LIMITS, maxDepth: 4 });
    const deep = '{ creditLedger(workspaceId: "w") { edges { node { grants { credits } } } } }';
    expect(refusals(deep)).toEqual([{ code: 'QUERY_TOO_DEEP', limit: 4, actual: 5, http: { status: 400 } }]);
    // Spreading a fragment is not a level.
    const spread = '{ creditLedger(workspaceId: "w") { edges { node { ...E } } } } fragment E on LedgerEntry { id }';
    expect(refusals(spread)).toEqual([]);
  });

  it('refuses a document nested deeper than any query within the depth limit, before parsing, as QUERY_TOO_DEEP', () => {
    const { documentRefusal } = operationLimits(schema, DEFAULT_QUERY_LIMITS); // depth 8: nesting 24
    const nested = (levels: number) => `{ ${'...on Query { '.repeat(levels)}__typename${' }'.repeat(levels)} }`;
    expect(documentRefusal(nested(23))).toBeUndefined();
    expect(documentRefusal(nested(24))?.extensions).toEqual({
      code: 'QUERY_TOO_DEEP',
      limit: 24,
      actual: 25,
      http: { status: 400 },
    });
    // Brackets and parentheses count too: lists of input objects nested in an argument.
    expect(
      documentRefusal(
        `{ creditLedger(workspaceId: "w", types: ${'['.repeat(30)}${']'.repeat(30)}) { edges { cursor } } }`,
      )?.extensions,
    ).toMatchObject({ code: 'QUERY_TOO_DEEP' });
    // Every operation this project sends passes.
    for (const document of Object.values(loadBillingOperations())) expect(documentRefusal(document)).toBeUndefined();
  });

  it('refuses what costs more than the limit as QUERY_TOO_COMPLEX, with the limit and the cost', () => {
    const page = (alias: string) =>
      `${alias}: creditLedger(workspaceId: "w", first: 200) { edges { cursor node { id type occurredAt credits balanceAfter source action units actorId reference refundedCredits grants { grantId source credits } } } }`;
    // One 200-entry page with every field costs 1 + 200 × 24; two fit within the limit, three do not.
    expect(limitsOf().cost(parse(`{ ${page('a')} }`))).toBe(4801);
    expect(limitsOf().costRefusal(parse(`{ ${page('a')} ${page('b')} }`), undefined, {})).toBeUndefined();
    const refusal = limitsOf().costRefusal(parse(`{ ${page('a')} ${page('b')} ${page('c')} }`), undefined, {});
    expect(refusal?.extensions).toEqual({
      code: 'QUERY_TOO_COMPLEX',
      limit: 10_000,
      actual: 14_403,
      http: { status: 400 },
    });
    expect(refusal?.message).toBe(
      "The query's estimated cost is 14403; at most 10000 is allowed. Ask for fewer entries or fields.",
    );
  });
});

describe('the shape of a document, measured before validation', () => {
  const { documentRefusal } = operationLimits(schema, DEFAULT_QUERY_LIMITS);
  /** `query { ...F0 }` where each fragment spreads the next twice, `levels` deep: 2^levels fields in a few hundred bytes. */
  const fanOut = (levels: number) =>
    [
      'query { ...F0 }',
      ...Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`),
      `fragment F${levels} on Query { __typename }`,
    ].join('\n');

  it('refuses fragments that expand past the cost limit as QUERY_TOO_COMPLEX, counting each fragment once', () => {
    // 45 levels stand for 2^45 fields; expanding them one by one would never end.
    const refusal = documentRefusal(fanOut(45));
    expect(refusal?.extensions).toEqual({
      code: 'QUERY_TOO_COMPLEX',
      limit: 10_000,
      actual: 2 ** 45,
      http: { status: 400 },
    });
    expect(refusal?.message).toBe(
      `The query selects ${2 ** 45} fields once its fragments are expanded, and each costs at least 1; at most 10000 is allowed. Ask for fewer fields.`,
    );
    expect(documentRefusal(fanOut(14))?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', actual: 16_384 });
    // 2^13 = 8,192 fields are within the limit here (the estimate that follows counts them too).
    expect(documentRefusal(fanOut(13))).toBeUndefined();
  });

  it('refuses a field written more than 16 times in one selection set as FIELD_REPEATED, inline fragments included', () => {
    const copies = (n: number, field = 'workspaceCredits(workspaceId: "w") { available }') =>
      Array.from({ length: n }, () => field).join(' ');
    expect(documentRefusal(`{ ${copies(16)} }`)).toBeUndefined();
    expect(documentRefusal(`{ ${copies(450)} }`)?.extensions).toEqual({
      code: 'FIELD_REPEATED',
      limit: 16,
      actual: 450,
      http: { status: 400 },
    });
    // Nested and inline fragments are counted where they land.
    expect(
      documentRefusal(
        `{ workspaceCredits(workspaceId: "w") { ${copies(9, 'available')} ... on WorkspaceCredits { ${copies(8, 'available')} } } }`,
      )?.extensions,
    ).toMatchObject({ code: 'FIELD_REPEATED', actual: 17 });
    // __typename, which clients add to every selection set and fragment, may come 100 times; named
    // fragments are counted where they are defined, and aliases are other names.
    expect(documentRefusal(`{ ${copies(100, '__typename')} }`)).toBeUndefined();
    expect(documentRefusal(`{ ${copies(9990, '__typename')} }`)?.extensions).toEqual({
      code: 'FIELD_REPEATED',
      limit: 100,
      actual: 9990,
      http: { status: 400 },
    });
    const fragment = (name: string) => `fragment ${name} on WorkspaceCredits { __typename available held }`;
    expect(
      documentRefusal(
        `{ workspaceCredits(workspaceId: "w") { __typename ...A ...B ...C ...D ...E } } ${['A', 'B', 'C', 'D', 'E'].map(fragment).join(' ')}`,
      ),
    ).toBeUndefined();
    expect(documentRefusal(`{ a: __typename b: __typename c: __typename d: __typename }`)).toBeUndefined();
  });

  it("refuses a condition on a subscription's root field, and leaves conditions below it and in queries alone", () => {
    const root = 'workspaceCreditsChanged(workspaceId: "w")';
    expect(documentRefusal(`subscription S { ${root} @skip(if: true) { available } }`)?.extensions).toEqual({
      code: 'GRAPHQL_VALIDATION_FAILED',
      http: { status: 400 },
    });
    expect(
      documentRefusal(
        `subscription { ...A } fragment A on Subscription { ...B } fragment B on Subscription { ${root} @include(if: $x) { available } }`,
      )?.message,
    ).toBe('An anonymous subscription may not use @skip or @include on its root field.');
    expect(documentRefusal(`subscription { ${root} { available held @skip(if: true) } }`)).toBeUndefined();
    expect(
      documentRefusal(`query { workspaceCredits(workspaceId: "w") @skip(if: true) { available } }`),
    ).toBeUndefined();
    // A cycle of fragments is left to validation, as elsewhere.
    expect(documentRefusal(`subscription { ...A } fragment A on Subscription { ...A }`)).toBeUndefined();
  });

  it('refuses more than 50 fragments as TOO_MANY_FRAGMENTS, and leaves cycles and syntax errors to validation', () => {
    const fragments = (n: number) =>
      `{ __typename } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { __typename }`).join(' ')}`;
    expect(documentRefusal(fragments(50))).toBeUndefined();
    expect(documentRefusal(fragments(51))?.extensions).toEqual({
      code: 'TOO_MANY_FRAGMENTS',
      limit: 50,
      actual: 51,
      http: { status: 400 },
    });
    expect(
      documentRefusal('{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }'),
    ).toBeUndefined();
    expect(documentRefusal('{ workspaceCredits(')).toBeUndefined();
  });
});

/** Values for every variable of the document: the largest page, and something plausible elsewhere. */
function largestVariables(document: DocumentNode): Record<string, unknown> {
  const valueOf = (type: GraphQLInputType): unknown => {
    const named = getNamedType(type);
    const nullable = getNullableType(type);
    if (isListType(nullable)) return [valueOf(nullable.ofType)];
    if (isEnumType(named)) return named.getValues()[0]?.value;
    if (isInputObjectType(named)) {
      return Object.fromEntries(Object.values(named.getFields()).map((field) => [field.name, valueOf(field.type)]));
    }
    return (
      { Int: MAX_LEDGER_PAGE, SafeInt: MAX_LEDGER_PAGE, Boolean: true, DateTime: new Date().toISOString() }[
        named.name
      ] ?? 'x'
    );
  };
  const operation = getOperationAST(document);
  return Object.fromEntries(
    (operation?.variableDefinitions ?? []).map((definition) => [
      definition.variable.name.value,
      valueOf(typeFromAST(schema, definition.type as NamedTypeNode) as GraphQLInputType),
    ]),
  );
}

describe('what this project sends', () => {
  const { rules, cost } = limitsOf();
  // One document, as codegen reads them: fragments of one file are used in another.
  const testOperations = readdirSync(join(__dirname, '../e2e'))
    .filter((file) => file.endsWith('.graphql'))
    .map((file) => readFileSync(join(__dirname, '../e2e', file), 'utf8'))
    .join('\n');
  const testDocuments = Object.entries(separateOperations(parse(testOperations)));
  const billingPage = Object.entries(loadBillingOperations()).map(([name, text]) => [name, parse(text)] as const);

  it.each([...testDocuments, ...billingPage])(
    '%s is within every limit, even at the largest page',
    (_name, document) => {
      expect(validate(schema, document, [...specifiedRules, ...rules])).toEqual([]);
      const variables = largestVariables(document);
      // The variables are good ones: the estimate counted the fields (a refused variable counts nothing).
      expect(cost(document, variables)).toBeGreaterThan(0);
      expect(cost(document, variables)).toBeLessThanOrEqual(DEFAULT_QUERY_LIMITS.maxCost);
      expect(documentShapeRefusal(document, DEFAULT_QUERY_LIMITS.maxCost)).toBeUndefined();
    },
  );
});
