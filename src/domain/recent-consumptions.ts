/**
 * The spends a workspace still answers retries for: idempotency key → the spend as first recorded,
 * oldest first, forgotten once past the retention window.
 *
 * A busy workspace remembers tens of thousands of spends, and a command needs at most one of them,
 * usually none (a new key). So the spends restored from a snapshot stay as the snapshot's bytes
 * (ASCII text), with a hash of each key beside it: restoring costs nothing per spend, not even
 * decoding the text, a new key is told apart by its hash alone, and only a retry (or a rare hash
 * collision) searches the bytes. Spends remembered since the snapshot live in a map, as objects
 * until the next snapshot encodes them.
 *
 * Memory is bounded by the command side, not here: it takes the oldest spends out (evictOldest) into
 * a store of its own once a workspace remembers more than it keeps in memory, and before deciding
 * a command whose key is not in memory it looks there and brings that spend back (recall), so that
 * every spend inside the retention window is still answered. This class does no I/O.
 */
import { asciiJson } from './ascii-json';
import { GRANT_SOURCES, type CreditAction, type Drawdown, type GrantSource } from './credits';

/** A spend as first recorded: what a retry with the same key gets back. */
export interface ConsumptionRecord {
  consumptionId: string;
  idempotencyKey: string;
  action: CreditAction;
  units: number;
  credits: number;
  reference: string | undefined;
  drawdown: Drawdown[];
  availableAfter: number;
  consumedAt: number;
}

/** One spend as ASCII text: `consumedAt \t JSON(key) \t JSON(the other fields as a tuple)`. */
type EncodedRecord = string;

/** A spend taken out of memory, as stored elsewhere and given back to `recall`. */
export interface EvictedConsumption {
  idempotencyKey: string;
  consumedAt: number;
  /** The spend in the encoded form (ASCII). */
  line: string;
}

type RecordTuple = [
  consumptionId: string,
  action: CreditAction,
  units: number,
  credits: number,
  reference: string | null,
  availableAfter: number,
  drawdown: [grantId: string, source: number, credits: number][],
];

/**
 * The encoded form: one line per spend, oldest first, separated by newlines, as ASCII bytes; and the
 * hash of each line's key, in order.
 */
export interface EncodedConsumptions {
  lines: Buffer;
  keyHashes: Int32Array;
}

/** What a spend kept as an object or an encoded string costs in memory, roughly (measured: 350-450). */
const BYTES_PER_RECENT = 400;

const NO_HASHES = new Int32Array(0);
const NO_LINES = Buffer.alloc(0);
const NEWLINE = 0x0a;
const TAB = 0x09;

export class RecentConsumptions {
  /** Spends restored from a snapshot, oldest first; those before `restoredFrom` are forgotten. */
  private restored: Buffer = NO_LINES;
  private restoredFrom = 0;
  private restoredHashes: Int32Array = NO_HASHES;
  private forgottenLines = 0;
  /** The same hashes, sorted for lookups; made on the first lookup. */
  private sortedHashes: Int32Array | undefined;
  /** Spends remembered since the snapshot, in order: objects, or lines once encoded. */
  private readonly recent = new Map<string, ConsumptionRecord | EncodedRecord>();
  /**
   * Spends brought back by `recall` for the batch being decided (every one of them, however many:
   * one left out would be charged again), until the next batch's: not part of `size`, `keys()` or
   * `encode()`.
   */
  private readonly recalled = new Map<string, EncodedRecord>();

  get size(): number {
    return this.restoredHashes.length - this.forgottenLines + this.recent.size;
  }

  *keys(): IterableIterator<string> {
    for (const line of this.restoredLines()) yield keyOf(line);
    yield* this.recent.keys();
  }

  get(idempotencyKey: string): ConsumptionRecord | undefined {
    const stored = this.recent.get(idempotencyKey);
    if (stored !== undefined) return typeof stored === 'string' ? decodeRecord(idempotencyKey, stored) : stored;
    if (!this.mayBeRestored(idempotencyKey)) return this.fromRecalled(idempotencyKey);
    const bytes = this.restored;
    // The last line for the key: a key used again after the retention window has a newer record,
    // and an older line can outlive the window when spends were recorded out of clock order.
    const at = bytes.lastIndexOf(`\t${asciiJson(idempotencyKey)}\t`, bytes.length, 'latin1');
    if (at < this.restoredFrom) return this.fromRecalled(idempotencyKey);
    const end = bytes.indexOf(NEWLINE, at);
    const line = bytes.toString('latin1', bytes.lastIndexOf(NEWLINE, at) + 1, end < 0 ? bytes.length : end);
    return decodeRecord(idempotencyKey, line);
  }

  /** Remembers a spend; spends arrive in the order they were consumed. */
  set(record: ConsumptionRecord): void {
    this.recent.set(record.idempotencyKey, record);
  }

  /** Forgets the spends consumed before `cutoff` (epoch ms). */
  forgetBefore(cutoff: number): void {
    const bytes = this.restored;
    while (this.restoredFrom < bytes.length) {
      const tab = bytes.indexOf(TAB, this.restoredFrom);
      if (Number(bytes.toString('latin1', this.restoredFrom, tab)) >= cutoff) return;
      const end = bytes.indexOf(NEWLINE, this.restoredFrom);
      this.restoredFrom = end < 0 ? bytes.length : end + 1;
      this.forgottenLines += 1;
    }
    for (const [key, stored] of this.recent) {
      if (consumedAtOf(stored) >= cutoff) return;
      this.recent.delete(key);
    }
  }

  /**
   * Takes the oldest spends out of memory until `keep` are left, handing them, oldest first, to
   * `store` (which keeps them where `recall` can find them again) before letting them go: when
   * `store` throws, nothing is taken out. Returns how many went.
   */
  evictOldest(keep: number, store: (spends: EvictedConsumption[]) => void): number {
    const evicted: EvictedConsumption[] = [];
    let excess = this.size - keep;
    const bytes = this.restored;
    let restoredFrom = this.restoredFrom;
    while (excess > 0 && restoredFrom < bytes.length) {
      let end = bytes.indexOf(NEWLINE, restoredFrom);
      if (end < 0) end = bytes.length;
      const line = bytes.toString('latin1', restoredFrom, end);
      evicted.push({ idempotencyKey: keyOf(line), consumedAt: consumedAtOf(line), line });
      restoredFrom = end + 1;
      excess -= 1;
    }
    const fromRestored = evicted.length;
    for (const [key, stored] of this.recent) {
      if (excess <= 0) break;
      const line = typeof stored === 'string' ? stored : encodeRecord(stored);
      evicted.push({ idempotencyKey: key, consumedAt: consumedAtOf(stored), line });
      excess -= 1;
    }
    if (evicted.length === 0) return 0;
    store(evicted);
    if (restoredFrom >= bytes.length) {
      // Every restored spend is out: let the snapshot's bytes go.
      this.restored = NO_LINES;
      this.restoredFrom = 0;
      this.restoredHashes = NO_HASHES;
      this.forgottenLines = 0;
      this.sortedHashes = undefined;
    } else {
      this.restoredFrom = restoredFrom;
      this.forgottenLines += fromRestored;
    }
    for (const spend of evicted.slice(fromRestored)) this.recent.delete(spend.idempotencyKey);
    return evicted.length;
  }

  /**
   * Brings back a spend that `evictOldest` took out, so that `get` finds it for the decision at
   * hand; a spend still in memory wins over it.
   */
  recall(spend: EvictedConsumption): void {
    this.recalled.set(spend.idempotencyKey, spend.line);
  }

  /** Lets the spends brought back for an earlier batch go. */
  forgetRecalled(): void {
    this.recalled.clear();
  }

  /** Whether the key's spend is in memory (brought back by `recall` or never taken out). */
  has(idempotencyKey: string): boolean {
    return this.get(idempotencyKey) !== undefined;
  }

  /** What the spends in memory take, roughly, in bytes: cheap enough to ask after every command. */
  approximateBytes(): number {
    return (
      this.restored.length +
      this.restoredHashes.byteLength * 2 +
      (this.recent.size + this.recalled.size) * BYTES_PER_RECENT
    );
  }

  /**
   * Every remembered spend, oldest first. The spends encoded now stay encoded, so the next snapshot
   * only encodes what is new since this one.
   */
  encode(): EncodedConsumptions {
    const lines: string[] = [];
    const keyHashes = new Int32Array(this.size);
    keyHashes.set(this.restoredHashes.subarray(this.forgottenLines));
    let next = this.restoredHashes.length - this.forgottenLines;
    for (const [key, stored] of this.recent) {
      const line = typeof stored === 'string' ? stored : encodeRecord(stored);
      if (line !== stored) this.recent.set(key, line);
      lines.push(line);
      keyHashes[next++] = keyHash(key);
    }
    const restored = this.restored.subarray(this.restoredFrom);
    if (lines.length === 0) return { lines: restored, keyHashes };
    // Written straight into one buffer: joining them first would make a string of every line, a
    // large object that goes straight to the old generation, on every snapshot of a busy workspace.
    let length = restored.length + (restored.length > 0 ? 1 : 0) - 1;
    for (const line of lines) length += line.length + 1;
    const bytes = Buffer.allocUnsafe(length);
    let at = restored.copy(bytes, 0);
    for (const line of lines) {
      if (at > 0) bytes[at++] = NEWLINE;
      at += bytes.write(line, at, 'latin1');
    }
    return { lines: bytes, keyHashes };
  }

  /** The inverse of `encode`, without decoding a single spend. */
  static decode(encoded: EncodedConsumptions): RecentConsumptions {
    const restored = new RecentConsumptions();
    restored.restored = encoded.lines;
    restored.restoredHashes = encoded.keyHashes;
    return restored;
  }

  private fromRecalled(idempotencyKey: string): ConsumptionRecord | undefined {
    const line = this.recalled.get(idempotencyKey);
    return line === undefined ? undefined : decodeRecord(idempotencyKey, line);
  }

  private mayBeRestored(idempotencyKey: string): boolean {
    if (this.restoredFrom >= this.restored.length) return false;
    this.sortedHashes ??= Int32Array.from(this.restoredHashes).sort();
    const sorted = this.sortedHashes;
    const hash = keyHash(idempotencyKey);
    let low = 0;
    let high = sorted.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const candidate = sorted[middle] as number;
      if (candidate === hash) return true;
      if (candidate < hash) low = middle + 1;
      else high = middle - 1;
    }
    return false;
  }

  private *restoredLines(): IterableIterator<EncodedRecord> {
    const bytes = this.restored;
    let at = this.restoredFrom;
    while (at < bytes.length) {
      let end = bytes.indexOf(NEWLINE, at);
      if (end < 0) end = bytes.length;
      yield bytes.toString('latin1', at, end);
      at = end + 1;
    }
  }
}

/** FNV-1a over the key's UTF-16 code units. */
export function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash | 0;
}

// JSON escapes every control character inside a string, so the tabs that separate the fields, and
// the newlines that separate the spends, never occur inside one.
function encodeRecord(record: ConsumptionRecord): EncodedRecord {
  const tuple: RecordTuple = [
    record.consumptionId,
    record.action,
    record.units,
    record.credits,
    record.reference ?? null,
    record.availableAfter,
    record.drawdown.map((part) => [part.grantId, GRANT_SOURCES.indexOf(part.source), part.credits]),
  ];
  return `${record.consumedAt}\t${asciiJson(record.idempotencyKey)}\t${asciiJson(tuple)}`;
}

function decodeRecord(idempotencyKey: string, line: EncodedRecord): ConsumptionRecord {
  const [consumptionId, action, units, credits, reference, availableAfter, drawdown] = JSON.parse(
    line.slice(line.indexOf('\t', line.indexOf('\t') + 1) + 1),
  ) as RecordTuple;
  return {
    consumptionId,
    idempotencyKey,
    action,
    units,
    credits,
    reference: reference ?? undefined,
    drawdown: drawdown.map(([grantId, source, partCredits]): Drawdown => ({
      grantId,
      source: GRANT_SOURCES[source] as GrantSource,
      credits: partCredits,
    })),
    availableAfter,
    consumedAt: consumedAtOf(line),
  };
}

function keyOf(line: EncodedRecord): string {
  const from = line.indexOf('\t') + 1;
  return JSON.parse(line.slice(from, line.indexOf('\t', from))) as string;
}

const consumedAtOf = (stored: ConsumptionRecord | EncodedRecord): number =>
  typeof stored === 'string' ? Number(stored.slice(0, stored.indexOf('\t'))) : stored.consumedAt;
