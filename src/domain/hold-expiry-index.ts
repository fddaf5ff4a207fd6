/**
 * Which active hold expires first, without looking at every one: every decision asks whether a
 * hold is due (decisions/hold-expiries.ts), and a busy workspace has a thousand holds running. An
 * index is a binary min-heap on `expiresAt` with each hold's place in it, so adding, extending and
 * closing a hold cost O(log n) and the question O(1).
 *
 * It is derived from a state's `activeHolds` and kept beside it, not in it (keyed by that map), so
 * the state's value, its snapshots and its equality are what they were. `evolve` keeps an index it
 * finds up to date; a state that has none (restored, forked) gets one built on first use.
 */
import type { HoldRecord } from './holds';

const earlier = (a: HoldRecord, b: HoldRecord): boolean =>
  a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.holdId < b.holdId);

export class HoldExpiryIndex {
  private readonly heap: HoldRecord[] = [];
  private readonly places = new Map<string, number>();

  /** The hold that expires first, if any. */
  first(): HoldRecord | undefined {
    return this.heap[0];
  }

  add(hold: HoldRecord): void {
    this.heap.push(hold);
    this.places.set(hold.holdId, this.heap.length - 1);
    this.up(this.heap.length - 1);
  }

  remove(holdId: string): void {
    const place = this.places.get(holdId);
    if (place === undefined) return;
    this.places.delete(holdId);
    const last = this.heap.pop() as HoldRecord;
    if (place === this.heap.length) return;
    this.heap[place] = last;
    this.places.set(last.holdId, place);
    this.down(this.up(place));
  }

  /** Its expiry moved: take `hold` (the same hold, possibly a new record) in its new place. */
  update(hold: HoldRecord): void {
    this.remove(hold.holdId);
    this.add(hold);
  }

  private up(place: number): number {
    const heap = this.heap;
    while (place > 0) {
      const parent = (place - 1) >> 1;
      if (!earlier(heap[place] as HoldRecord, heap[parent] as HoldRecord)) break;
      this.swap(place, parent);
      place = parent;
    }
    return place;
  }

  private down(place: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * place + 1;
      let first = place;
      if (left < heap.length && earlier(heap[left] as HoldRecord, heap[first] as HoldRecord)) first = left;
      if (left + 1 < heap.length && earlier(heap[left + 1] as HoldRecord, heap[first] as HoldRecord)) first = left + 1;
      if (first === place) return;
      this.swap(place, first);
      place = first;
    }
  }

  private swap(a: number, b: number): void {
    const heap = this.heap;
    const first = heap[a] as HoldRecord;
    const second = heap[b] as HoldRecord;
    heap[a] = second;
    heap[b] = first;
    this.places.set(second.holdId, a);
    this.places.set(first.holdId, b);
  }
}

const indexes = new WeakMap<ReadonlyMap<string, HoldRecord>, HoldExpiryIndex>();

/** The index of these active holds, built now if they have none yet. */
export function expiryIndexOf(activeHolds: ReadonlyMap<string, HoldRecord>): HoldExpiryIndex {
  let index = indexes.get(activeHolds);
  if (!index) {
    index = new HoldExpiryIndex();
    for (const hold of activeHolds.values()) index.add(hold);
    indexes.set(activeHolds, index);
  }
  return index;
}

/** The index of these active holds if one was built: what evolve keeps up to date. */
export const existingExpiryIndexOf = (activeHolds: ReadonlyMap<string, HoldRecord>): HoldExpiryIndex | undefined =>
  indexes.get(activeHolds);
