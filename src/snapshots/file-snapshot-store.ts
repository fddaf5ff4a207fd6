/**
 * The file adapter of the snapshot port (port.ts): where the command side keeps workspace state
 * snapshots, a cache beside the event store, never a source of truth. A snapshot names the stream
 * revision it was taken at and the id of the event at that revision; the command handler uses it
 * only if the stream still has that event there, and folds the stream from its start otherwise.
 * Losing a snapshot costs a slower first command for its workspace, nothing else.
 *
 * A snapshot also names the identity of the log it was read from: one of another log (a new
 * events.sqlite, another EventStoreDB) is not used even where its revision and event id match.
 *
 * One file per stream in a directory of this process (DATA_DIR/snapshots), whichever event store is
 * in use: a snapshot is read whole on a cold start, and a file reads faster than a large database
 * row. A file is written beside its final name, flushed to disk, then renamed over it, so a crash
 * leaves the previous snapshot or the new one, never a torn one. States are ASCII text (see
 * encodeState), stored byte for byte.
 *
 * The header carries a SHA-256 of everything the snapshot says (the header's fields and the state):
 * a file whose numbers were changed, by a disk or by hand, while its header was left alone is
 * refused with the reason, never believed. It is a checksum, not a signature: someone who can write
 * the directory can also write a matching digest; the stream check (revision and last event id)
 * still applies, and the log stays the truth. SHA-256 because node has it built in at about
 * 550 MB/s here: 0.3 ms for a 150 KB snapshot (a workspace remembering 1,000 spends), 5 ms for
 * 3 MB; a SIMD CRC32 (@node-rs/crc32) is ten times faster but a native dependency for a cost
 * that stays under a millisecond on snapshots of bounded size.
 */
import { createHash } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { asciiJson, isAscii } from '../domain/ascii-json';
import { SnapshotRejected, type SnapshotStore, type StateSnapshot } from './port';
import { makeDirectory } from '../make-directory';

interface Header {
  stream: string;
  revision: string;
  eventId: string;
  log: string;
  version: number;
  /** StateSnapshot.retryRecordsThrough; null when the state keeps every remembered spend. */
  retryRecordsThrough?: string | null;
  /** Length of the state text that follows the header line: a shorter file is not a snapshot. */
  length: number;
  /** SHA-256 (hex) of the other fields and the state: see digestOf. */
  sha256: string;
}

/** A temporary file this old was left by a write that never finished (a crash). */
const ABANDONED_AFTER_MS = 10 * 60 * 1000;

export function openFileSnapshotStore(directory: string): SnapshotStore {
  makeDirectory(directory);
  for (const name of readdirSync(directory)) {
    if (!name.endsWith('.tmp')) continue;
    const file = join(directory, name);
    const { mtimeMs } = statSync(file, { throwIfNoEntry: false }) ?? { mtimeMs: Date.now() };
    if (Date.now() - mtimeMs > ABANDONED_AFTER_MS) rmSync(file, { force: true });
  }
  const fileOf = (stream: string): string =>
    join(directory, `${createHash('sha256').update(stream).digest('hex').slice(0, 40)}.snapshot`);
  let writes = 0;
  return {
    async load(stream) {
      let bytes: Buffer;
      try {
        bytes = await readWhole(fileOf(stream));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      const newline = bytes.indexOf(NEWLINE);
      if (newline < 0) throw new SnapshotRejected(stream, 'it has no header line');
      let header: Header;
      try {
        header = JSON.parse(bytes.toString('latin1', 0, newline)) as Header;
      } catch {
        throw new SnapshotRejected(stream, 'its header is not JSON');
      }
      // Another stream's file under the same name (a 160-bit hash collision): not this stream's snapshot.
      if (header.stream !== stream) return undefined;
      const state = bytes.subarray(newline + 1);
      if (state.length !== header.length) {
        throw new SnapshotRejected(stream, `its state has ${state.length} bytes, not the ${header.length} written`);
      }
      let snapshot: StateSnapshot;
      try {
        const { eventId, log, version, retryRecordsThrough } = header;
        snapshot = { stream, revision: BigInt(header.revision), eventId, log, version, state };
        if (typeof retryRecordsThrough === 'string') snapshot.retryRecordsThrough = BigInt(retryRecordsThrough);
      } catch {
        throw new SnapshotRejected(stream, 'its header is not a snapshot header');
      }
      if (typeof header.sha256 !== 'string')
        throw new SnapshotRejected(stream, 'it has no checksum (an earlier release)');
      if (digestOf(snapshot) !== header.sha256)
        throw new SnapshotRejected(stream, 'its content does not match its checksum');
      return snapshot;
    },

    async save(snapshot) {
      if (!isAscii(snapshot.state)) throw new Error('A state snapshot must be ASCII text.');
      const header: Header = {
        stream: snapshot.stream,
        revision: snapshot.revision.toString(),
        eventId: snapshot.eventId,
        log: snapshot.log,
        version: snapshot.version,
        retryRecordsThrough: snapshot.retryRecordsThrough?.toString() ?? null,
        length: snapshot.state.length,
        sha256: digestOf(snapshot),
      };
      const file = fileOf(snapshot.stream);
      const temporary = `${file}.${process.pid}.${writes++}.tmp`;
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(Buffer.concat([Buffer.from(`${asciiJson(header)}\n`, 'latin1'), snapshot.state]));
        await handle.sync();
      } catch (error) {
        await handle.close();
        await unlink(temporary).catch(() => undefined);
        throw error;
      }
      await handle.close();
      await rename(temporary, file);
    },
  };
}

/** Every field a snapshot states, as one JSON line (unambiguous whatever they hold), then the state. */
function digestOf(snapshot: StateSnapshot): string {
  const fields = [
    snapshot.stream,
    snapshot.revision.toString(),
    snapshot.eventId,
    snapshot.log,
    snapshot.version,
    snapshot.retryRecordsThrough?.toString() ?? null,
  ];
  return createHash('sha256')
    .update(`${JSON.stringify(fields)}\n`)
    .update(snapshot.state)
    .digest('hex');
}

/** The whole file in one read: a cold start waits for it. */
async function readWhole(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

const NEWLINE = 0x0a;
