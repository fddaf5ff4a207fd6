/**
 * What free text taken from outside (reasons, references, idempotency keys, descriptions, a token's
 * subject) may hold: tabs and line breaks (LF or CRLF), and no other control character. Refused:
 *
 * - C0 and C1 controls and a lone CR (which makes a terminal write the rest of the line over its
 *   start): a NUL or an escape sequence stored in the log would reach every export and every
 *   terminal that shows it (PostgreSQL refuses to load a NUL at all);
 * - halves of a surrogate pair, which JSON and every reader would take differently;
 * - the characters that change how text around them reads without being seen: the bidirectional
 *   embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069, the "Trojan Source" ones),
 *   the line and paragraph separators (U+2028, U+2029), a byte-order mark (U+FEFF) and the
 *   noncharacters U+FFFE and U+FFFF. A reference "abc\u202Efdp.exe" would read "abcexe.pdf" in the
 *   ledger and in exports.
 */
export const PLAIN_TEXT =
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  /^(?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F\uD800-\uDFFF\u2028-\u202E\u2066-\u2069\uFEFF\uFFFE\uFFFF]|\r\n|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

/** The rule in words, for messages. */
export const PLAIN_TEXT_RULE = 'must not contain control or text-direction characters';
