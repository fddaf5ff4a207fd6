/**
 * Ledger pages: how many entries one holds, and its cursors, opaque to clients, a position in the
 * log inside. A cursor this API did not make (or one forged past the log's range) is not a cursor:
 * the resolver answers BAD_USER_INPUT. (No decorators here: the query limits read the page size
 * before the schema is built.)
 */
import { GraphQLError } from 'graphql';

export const MAX_LEDGER_PAGE = 200;
/** A page's size when the caller gives neither `first` nor `last`. */
export const DEFAULT_LEDGER_PAGE = 50;

const MAX_POSITION = 2n ** 63n - 1n;

/**
 * What a cursor argument stands for, by the decoder of its kind; undefined when none was given. A
 * cursor this API did not issue is refused, an empty one too: a client that sends "" for "no
 * cursor" would otherwise page from the start.
 */
export function cursorArgument<T>(
  name: 'after' | 'before',
  cursor: string | null | undefined,
  decode: (cursor: string) => T | undefined,
): T | undefined {
  if (cursor === undefined || cursor === null) return undefined;
  const decoded = decode(cursor);
  if (decoded === undefined) {
    throw new GraphQLError(`${name} is not a cursor this API returned.`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return decoded;
}

export const encodeCursor = (position: bigint): string => Buffer.from(`ledger:${position}`).toString('base64url');

/** The position a cursor stands for, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): bigint | undefined {
  const match = /^ledger:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) return undefined;
  const position = BigInt(match[1] as string);
  return position <= MAX_POSITION ? position : undefined;
}

/**
 * A purchase page's cursor: when the purchase was bought and its id, the order purchases are listed
 * in (newest first, then by id), so it stays valid while new purchases arrive.
 */
export const encodePurchaseCursor = (position: { at: number; id: string }): string =>
  Buffer.from(`purchase:${position.at}:${position.id}`).toString('base64url');

/** The purchase a cursor names, or undefined when it is not one of ours. */
export function decodePurchaseCursor(cursor: string): { at: number; id: string } | undefined {
  const match = /^purchase:(\d{1,15}):([^]{1,400})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) return undefined;
  return { at: Number(match[1]), id: match[2] as string };
}

/**
 * A page that pages forwards only (`first`/`after`, newest first): its edges, and pageInfo saying
 * whether older items follow and whether a cursor placed it after newer ones.
 */
export function forwardPage<Node>(
  edges: { cursor: string; node: Node }[],
  hasNextPage: boolean,
  after: unknown,
): {
  edges: { cursor: string; node: Node }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor?: string; endCursor?: string };
} {
  return {
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: after !== undefined,
      startCursor: edges[0]?.cursor,
      endCursor: edges[edges.length - 1]?.cursor,
    },
  };
}
