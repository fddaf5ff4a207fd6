/**
 * JSON with every character outside ASCII written as a \u escape: the same value to JSON.parse, and
 * text whose bytes are its characters, so that a state snapshot is written and read back as bytes
 * (latin1) instead of being encoded to and decoded from UTF-8, which costs more than reading it.
 */
export const asciiJson = (value: unknown, replacer?: (key: string, value: unknown) => unknown): string =>
  JSON.stringify(value, replacer).replace(
    /[^ -~]/g, // JSON.stringify leaves no control characters: this is everything past '~'
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

export { isAscii } from 'node:buffer';
