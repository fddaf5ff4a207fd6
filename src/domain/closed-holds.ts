/**
 * The holds a workspace remembers after they closed (settled, released or expired), for the
 * idempotency window: a retry of a reserve or a settle is answered from them, and a settle, release
 * or extension of one is refused with its status. Forgotten, oldest first, once the window has
 * passed (evolve-holds.ts).
 *
 * A closed hold never changes again and is seldom read again (a retry, a refusal), while a busy
 * workspace closes thousands a day. So each is kept as its snapshot text (holds-json.ts), encoded
 * once when it closes and decoded only when read: one string, which the garbage collector does not
 * look into, where the record was a dozen objects it visited on every major collection and copied
 * into the old generation; and a snapshot joins the texts without encoding anything. The hold that
 * closed last is kept as a record too, since the command that closed it answers with it at once.
 *
 * Memory is bounded by the command side, as for remembered spends: past its bound a workspace's
 * oldest closed holds go to a store of its own (evictOldest), and before deciding a command that
 * names a hold or a reserve key not in memory it looks there and brings that hold back (recall).
 * This class does no I/O.
 */
import { decodeHold, encodeHold } from './holds-json';
import type { HoldRecord } from './holds';

/** What a closed hold costs in memory, roughly: its text (about 270 bytes), its id and map entry. */
const BYTES_PER_CLOSED_HOLD = 400;

/** A closed hold taken out of memory, as stored elsewhere and given back to `recall`. */
export interface EvictedHold {
  holdId: string;
  /** The key it was reserved with. */
  idempotencyKey: string;
  /** Epoch ms. */
  closedAt: number;
  /** The hold as encodeHold writes it (ASCII). */
  line: string;
}

export class ClosedHolds {
  private constructor(
    /** Hold id → its text, in the order they closed. */
    private readonly texts: Map<string, string>,
    /** When each one in `texts` closed, and the key it was reserved with, in the same order, from index `first` on. */
    private closedAts: number[],
    private reserveKeys: string[],
    private first: number,
    /** The hold that closed last, as a record. */
    private last: HoldRecord | undefined,
    /**
     * Holds brought back by `recall` for the batch being decided, until the next batch's, with
     * their reserve keys: found by `get` and `idOfRecalledKey`, not part of `size`, `keys()`,
     * `values()` or `toJson()`.
     */
    private readonly recalled = new Map<string, EvictedHold>(),
    private readonly recalledKeys = new Map<string, string>(),
  ) {}

  static empty(): ClosedHolds {
    return new ClosedHolds(new Map(), [], [], 0, undefined);
  }

  /** Closed holds restored from a snapshot, in the order they closed. */
  static of(holds: Iterable<HoldRecord>): ClosedHolds {
    const closed = ClosedHolds.empty();
    for (const hold of holds) closed.add(hold);
    closed.last = undefined;
    return closed;
  }

  get size(): number {
    return this.texts.size;
  }

  /** What the closed holds take in memory, roughly. */
  approximateBytes(): number {
    return (this.texts.size + this.recalled.size) * BYTES_PER_CLOSED_HOLD;
  }

  has(holdId: string): boolean {
    return this.texts.has(holdId);
  }

  get(holdId: string): HoldRecord | undefined {
    if (this.last?.holdId === holdId) return this.last;
    const text = this.texts.get(holdId) ?? this.recalled.get(holdId)?.line;
    return text === undefined ? undefined : decodeHold(text);
  }

  /** The id of a hold brought back by `recall` that was reserved with this key. */
  idOfRecalledKey(idempotencyKey: string): string | undefined {
    return this.recalledKeys.get(idempotencyKey);
  }

  /**
   * Takes out all but the `keep` holds that closed last, handing them to `store` (which keeps them
   * where `recall` can find them again) before letting them go: when `store` throws, nothing is
   * taken out. Returns the holds taken out.
   */
  evictOldest(keep: number, store: (holds: EvictedHold[]) => void): EvictedHold[] {
    const evicted: EvictedHold[] = [];
    let excess = this.texts.size - keep;
    let at = this.first;
    for (const [holdId, line] of this.texts) {
      if (excess <= 0) break;
      evicted.push({
        holdId,
        idempotencyKey: this.reserveKeys[at] as string,
        closedAt: this.closedAts[at] as number,
        line,
      });
      at += 1;
      excess -= 1;
    }
    if (evicted.length === 0) return evicted;
    store(evicted);
    for (const { holdId } of evicted) {
      this.texts.delete(holdId);
      if (this.last?.holdId === holdId) this.last = undefined;
    }
    this.first += evicted.length;
    this.compact();
    return evicted;
  }

  /**
   * Brings back a hold that `evictOldest` took out, so that `get` (and `idOfRecalledKey`) find it
   * for the decision at hand; a hold still in memory wins over it.
   */
  recall(hold: EvictedHold): void {
    this.recalled.set(hold.holdId, hold);
    // A key used again after the retention window names the hold that closed last.
    const other = this.recalled.get(this.recalledKeys.get(hold.idempotencyKey) ?? '');
    if (!other || other.closedAt <= hold.closedAt) this.recalledKeys.set(hold.idempotencyKey, hold.holdId);
  }

  /** Lets the holds brought back for an earlier batch go. */
  forgetRecalled(): void {
    this.recalled.clear();
    this.recalledKeys.clear();
  }

  keys(): IterableIterator<string> {
    return this.texts.keys();
  }

  /** Every closed hold, decoded, in the order they closed: for a restore's keys, and for tests. */
  *values(): IterableIterator<HoldRecord> {
    for (const holdId of this.texts.keys()) yield this.get(holdId) as HoldRecord;
  }

  /** Remembers a hold that has just closed (its `closedAt` set). */
  add(hold: HoldRecord): void {
    if (this.texts.has(hold.holdId)) {
      // A hold id closing twice (no command makes one: ids are new UUIDs) moves to the end, and the
      // times are read again from the texts so that they stay in step with them.
      this.texts.delete(hold.holdId);
      const holds = Array.from(this.texts.values(), decodeHold);
      this.closedAts = holds.map((closed) => closed.closedAt ?? 0);
      this.reserveKeys = holds.map((closed) => closed.idempotencyKey);
      this.first = 0;
    }
    this.texts.set(hold.holdId, encodeHold(hold));
    this.closedAts.push(hold.closedAt ?? 0);
    this.reserveKeys.push(hold.idempotencyKey);
    this.last = hold;
  }

  /**
   * Forgets the holds that closed before `cutoff`, from the oldest on until one closed later (holds
   * close in time order, give or take an expiry written late), and tells `forgotten` of each.
   */
  forgetClosedBefore(cutoff: number, forgotten: (hold: HoldRecord) => void): void {
    let first = this.first;
    for (const holdId of this.texts.keys()) {
      if ((this.closedAts[first] as number) >= cutoff) break;
      const hold = this.get(holdId) as HoldRecord;
      this.texts.delete(holdId);
      if (this.last === hold) this.last = undefined;
      first++;
      forgotten(hold);
    }
    if (first === this.first) return;
    this.first = first;
    this.compact();
  }

  /** Drops the times and keys of holds let go once they are half the lists, so that they stay as long as the map. */
  private compact(): void {
    if (this.first * 2 < this.closedAts.length) return;
    this.closedAts = this.closedAts.slice(this.first);
    this.reserveKeys = this.reserveKeys.slice(this.first);
    this.first = 0;
  }

  /** A copy that can be added to and forgotten from alone; the texts themselves are shared. */
  fork(): ClosedHolds {
    return new ClosedHolds(
      new Map(this.texts),
      this.closedAts.slice(this.first),
      this.reserveKeys.slice(this.first),
      0,
      this.last,
      // Shared, not copied: only the cached state's batch brings holds back or lets them go, never
      // a fork, and a fork (made for each command that appends) lives within that batch.
      this.recalled,
      this.recalledKeys,
    );
  }

  /** The closed holds as a JSON array of their texts, oldest closed first. */
  toJson(): string {
    return `[${[...this.texts.values()].join(',')}]`;
  }
}
