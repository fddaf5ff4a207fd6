/**
 * Variables whose text is not well-formed Unicode (a lone surrogate, which JSON's \ud800 escape can
 * make) are refused before anything runs: stored, such text would be served differently by each
 * reader (the mutation's own answer, the ledger, an export replacing it with U+FFFD).
 */

/** A surrogate with no partner (String.prototype.isWellFormed, which this TypeScript lib lacks). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The path of the first string in `value` that is not well-formed Unicode, or undefined when all are. */
export function illFormedTextAt(value: unknown, path = 'variables'): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const found = illFormedTextAt(value[index], `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, field] of Object.entries(value)) {
      const found = illFormedTextAt(key, `${path} key`) ?? illFormedTextAt(field, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

export const illFormedTextMessage = (path: string): string =>
  `${path} is not well-formed Unicode text (a lone surrogate); send UTF-16 pairs or UTF-8.`;
