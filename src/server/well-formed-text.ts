/**
 * Variables whose text is not well-formed Unicode (a lone surrogate, which JSON's \ud800 escape can
 * make) are refused before anything runs: stored, such text would be served differently by each
 * reader (the mutation's own answer, the ledger, an export replacing it with U+FFFD).
 */

/** A surrogate with no partner (String.prototype.isWellFormed, which this TypeScript lib lacks). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Nesting of variables looked into; deeper is refused as such (no input type of the schema nests nearly so deep). */
const MAX_DEPTH = 64;

/**
 * The path of the first string in `value` that is not well-formed Unicode, or of a value nested
 * deeper than MAX_DEPTH (reported with NESTED_TOO_DEEP), or undefined when all is well.
 */
export function illFormedTextAt(value: unknown, path = 'variables', depth = 0): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_DEPTH) return `${path}${NESTED_TOO_DEEP}`;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      if (typeof item !== 'string' && (item === null || typeof item !== 'object')) continue;
      const found = illFormedTextAt(item, `${path}[${index}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (LONE_SURROGATE.test(key)) return `${path} key`;
    if (typeof item !== 'string' && (item === null || typeof item !== 'object')) continue;
    const found = illFormedTextAt(item, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

const NESTED_TOO_DEEP = ' (nested too deep)';

export const illFormedTextMessage = (path: string): string =>
  path.endsWith(NESTED_TOO_DEEP)
    ? `${path.slice(0, -NESTED_TOO_DEEP.length)} is nested more than ${MAX_DEPTH} deep; no input needs that.`
    : `${path} is not well-formed Unicode text (a lone surrogate); send UTF-16 pairs or UTF-8.`;
