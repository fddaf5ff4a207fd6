import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
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
 * time. The file appears whole or not at all (written beside it, then linked into place, which
 * fails when another process linked its own first: theirs is used), so a process reading it never
 * sees it half written. A file left empty (by a crash of a version that wrote it in place) held
 * no secret anyone used, and is replaced.
 */
export function secretFileOf(dataDir: string, name: string, generate: () => string): string {
  const file = join(dataDir, name);
  const existing = existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  if (existing) return existing;
  makeDirectory(dataDir);
  const written = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  const descriptor = openSync(written, 'wx', 0o600);
  try {
    writeSync(descriptor, generate());
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  try {
    if (existing === undefined) linkSync(written, file);
    else renameSync(written, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(written, { force: true });
  }
  return readFileSync(file, 'utf8').trim();
}
