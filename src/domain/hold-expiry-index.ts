/**
 * Which active hold expires first, without looking at every one: every decision asks whether a
 * hold is due (decisions/hold-expiries.ts), and a busy workspace has a thousand holds running. An
 * index is a binary min-heap of (expiresAt, hold) entries over a state's `activeHolds`, so the
 * question costs O(1) amortized and a new hold or a new expiry O(log n), usually O(1): holds are
 * made in time order with similar durations.
 *
 * Closing a hold or moving its expiry leaves its old entry in place: an entry whose hold is no
 * longer active, or whose expiry has moved, is dropped when it reaches the top. So settling and
 * releasing, the busy path, cost the index nothing. Old entries are kept to at most about twice
 * the active holds by rebuilding the heap from `activeHolds` when they pile up.
 *
 * It is derived from a state's `activeHolds` and kept beside it, not in it (keyed by that map), so
 * the state's value, its snapshots and its equality are what they were. `evolve` keeps an index it
 * finds up to date; a state that has none (restored, forked) gets one built on first use.
 *
 * A workspace with a few holds running, most of them, has no index: looking at each hold costs
 * less than the index's upkeep, and across many workspaces an index is one more thing per
 * workspace to reach for on every reserve and settle (anyHoldDueBy).
 */
import type { HoldRecord } from './holds';

interface Entry {
  expiresAt: number;
  hold: HoldRecord;
}

const earlier = (a: Entry, b: Entry): boolean =>
  a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.hold.holdId < b.hold.holdId);

/** Entries allowed beyond the active holds before the heap is rebuilt from them. */
const SLACK = 64;

export class HoldExpiryIndex {
  private heap: Entry[] = [];

  constructor(private readonly activeHolds: ReadonlyMap<string, HoldRecord>) {
    this.rebuild();
  }

  /** Entries in the heap, old ones included. */
  get size(): number {
    return this.heap.length;
  }

  /** The active hold that expires first, if any. */
  first(): HoldRecord | undefined {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || this.isCurrent(top)) return top?.hold;
      this.pop();
    }
  }

  /**
   * The active hold that expires first, if it is due at `now`. Every active hold has an entry at its
   * current expiry, so when no entry is due no hold is: the usual answer, given without looking up
   * whether the first entry's hold is still active.
   */
  firstDueBy(now: number): HoldRecord | undefined {
    const top = this.heap[0];
    if (top === undefined || top.expiresAt > now) return undefined;
    const first = this.first();
    return first !== undefined && first.expiresAt <= now ? first : undefined;
  }

  /** `hold` was made active, or its expiry moved: it takes its place (an older entry of it lapses). */
  add(hold: HoldRecord): void {
    if (this.heap.length >= 2 * this.activeHolds.size + SLACK) {
      this.rebuild();
      if (this.activeHolds.get(hold.holdId) === hold) return;
    }
    this.heap.push({ expiresAt: hold.expiresAt, hold });
    this.up(this.heap.length - 1);
  }

  private isCurrent(entry: Entry): boolean {
    return this.activeHolds.get(entry.hold.holdId) === entry.hold && entry.hold.expiresAt === entry.expiresAt;
  }

  /** One entry per active hold, in heap order. */
  private rebuild(): void {
    this.heap = [...this.activeHolds.values()].map((hold) => ({ expiresAt: hold.expiresAt, hold }));
    for (let place = (this.heap.length >> 1) - 1; place >= 0; place--) this.down(place);
  }

  private pop(): void {
    const last = this.heap.pop() as Entry;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    this.down(0);
  }

  private up(place: number): void {
    const heap = this.heap;
    const entry = heap[place] as Entry;
    while (place > 0) {
      const parent = (place - 1) >> 1;
      if (!earlier(entry, heap[parent] as Entry)) break;
      heap[place] = heap[parent] as Entry;
      place = parent;
    }
    heap[place] = entry;
  }

  private down(place: number): void {
    const heap = this.heap;
    const entry = heap[place] as Entry;
    for (;;) {
      const left = 2 * place + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && earlier(heap[right] as Entry, heap[left] as Entry) ? right : left;
      if (!earlier(heap[child] as Entry, entry)) break;
      heap[place] = heap[child] as Entry;
      place = child;
    }
    heap[place] = entry;
  }
}

/** Up to this many active holds, anyHoldDueBy looks at each rather than at an index. */
export const SCANNED_HOLDS = 16;

/** Whether a hold of these is due at `now` (its expiry is at or before it). */
export function anyHoldDueBy(activeHolds: ReadonlyMap<string, HoldRecord>, now: number): boolean {
  if (activeHolds.size > SCANNED_HOLDS) return expiryIndexOf(activeHolds).firstDueBy(now) !== undefined;
  for (const hold of activeHolds.values()) if (hold.expiresAt <= now) return true;
  return false;
}

const indexes = new WeakMap<ReadonlyMap<string, HoldRecord>, HoldExpiryIndex>();

/** The index of these active holds, built now if they have none yet. */
export function expiryIndexOf(activeHolds: ReadonlyMap<string, HoldRecord>): HoldExpiryIndex {
  let index = indexes.get(activeHolds);
  if (!index) {
    index = new HoldExpiryIndex(activeHolds);
    indexes.set(activeHolds, index);
  }
  return index;
}

/** The index of these active holds if one was built: what evolve keeps up to date. */
export const existingExpiryIndexOf = (activeHolds: ReadonlyMap<string, HoldRecord>): HoldExpiryIndex | undefined =>
  indexes.get(activeHolds);
