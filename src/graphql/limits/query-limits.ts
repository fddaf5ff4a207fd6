/**
 * How much one GraphQL operation may ask for. Without limits, one MEMBER's 140 KB query of 1,000
 * aliased `creditLedger(first: 200)` built a 55 MB answer in about 3 s and stalled every tenant:
 * the answer's size is decided by the query, so the query is measured before anything runs
 * (operation-limits.ts). This file imports nothing, so the configuration can read it cheaply.
 */
export interface QueryLimits {
  /** Most lexical tokens in one document: parsing stops there (a 1 MiB document takes about 0.4 s to parse). */
  maxTokens: number;
  /** Largest estimated cost (query-cost.ts); one 200-entry ledger page with every field costs 8,801. */
  maxCost: number;
  /** Deepest nesting of fields; the schema's deepest useful path (ledger → edges → node → grants → credits) is 5. */
  maxDepth: number;
  /** Most aliased fields in one operation (`__typename` is free). */
  maxAliases: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxTokens: 10_000, maxCost: 10_000, maxDepth: 8, maxAliases: 20 };
