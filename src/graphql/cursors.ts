/**
 * Ledger pages: how many entries one holds, and its cursors, opaque to clients, a position in the
 * log inside. A cursor this API did not make (or one forged past the log's range) is not a cursor:
 * the resolver answers BAD_USER_INPUT. (No decorators here: the query limits read the page size
 * before the schema is built.)
 */

export const MAX_LEDGER_PAGE = 200;
/** A page's size when the caller gives neither `first` nor `last`. */
export const DEFAULT_LEDGER_PAGE = 50;

const MAX_POSITION = 2n ** 63n - 1n;

export const encodeCursor = (position: bigint): string => Buffer.from(`ledger:${position}`).toString('base64url');

/** The position a cursor stands for, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): bigint | undefined {
  const match = /^ledger:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) return undefined;
  const position = BigInt(match[1] as string);
  return position <= MAX_POSITION ? position : undefined;
}
