/**
 * JSON with every character outside ASCII written as a \u escape: the same value to JSON.parse, and
 * text whose bytes are its characters, so that a state snapshot is written and read back as bytes
 * (latin1) instead of being encoded to and decoded from UTF-8, which costs more than reading it.
 */

// JSON.stringify leaves no control characters: this is everything past '~'.
const NON_ASCII = /[^ -~]/;
const EVERY_NON_ASCII = /[^ -~]/g;
const escape = (character: string): string => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `json` (JSON text) with its non-ASCII characters escaped; looked through once when it has none, the usual case. */
export const asciiOnly = (json: string): string =>
  NON_ASCII.test(json) ? json.replace(EVERY_NON_ASCII, escape) : json;

export const asciiJson = (value: unknown, replacer?: (key: string, value: unknown) => unknown): string =>
  asciiOnly(JSON.stringify(value, replacer));

export { isAscii } from 'node:buffer';
