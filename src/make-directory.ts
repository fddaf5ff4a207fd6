import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Makes a directory and its missing parents, one level at a time from the deepest part of the
 * path that exists, and answers at once with the refusal of the first level that cannot be made.
 * Node's own recursive mkdirSync never returns where a file system refuses new entries with
 * ENOENT, as /proc does: it makes the parent again, finds it there, and tries the child again.
 */
export function makeDirectory(path: string): void {
  const missing: string[] = [];
  let at = resolve(path);
  for (; !existsSync(at); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  // The deepest part that exists must be a directory: a file there is refused (EEXIST) as mkdir -p does.
  if (existsSync(at) && !statSync(at).isDirectory()) mkdirSync(at);
  for (const directory of missing.reverse()) {
    try {
      mkdirSync(directory);
    } catch (error) {
      // Made meanwhile by another process: fine, as long as it is a directory.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(directory).isDirectory()) throw error;
    }
  }
}
