import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

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

/**
 * The content of a development secret kept in DATA_DIR/`name`, made with `generate()` the first
 * time, by whichever process creates the file first (the others use it). One that finds the file
 * empty waits a moment for its maker to write it; a file still empty was left by a process stopped
 * between creating and writing it, which nothing can have used: it is named, to be deleted.
 */
export function secretFileOf(dataDir: string, name: string, generate: () => string): string {
  const file = join(dataDir, name);
  if (!existsSync(file)) {
    makeDirectory(dataDir);
    try {
      const descriptor = openSync(file, 'wx', 0o600);
      try {
        writeSync(descriptor, generate());
        fsyncSync(descriptor);
      } finally {
        closeSync(descriptor);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const deadline = Date.now() + 2_000;
  for (;;) {
    const content = readFileSync(file, 'utf8').trim();
    if (content) return content;
    if (Date.now() > deadline) {
      throw new Error(
        `${file} is empty: a process was stopped while making it, so nothing was signed or sealed with it. Delete it; the next start makes it again.`,
      );
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}
