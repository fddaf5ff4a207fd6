/**
 * The hold-expiry index answers "which active hold expires first?" exactly as a scan would, through
 * any mix of holds added, extended and closed, keeps its old entries bounded, and a state with no
 * index (restored from a snapshot or forked) gets one built from its holds.
 */
import fc from 'fast-check';
import {
  anyHoldDueBy,
  existingExpiryIndexOf,
  expiryIndexOf,
  HoldExpiryIndex,
  SCANNED_HOLDS,
} from '../../src/domain/hold-expiry-index';
import type { HoldRecord } from '../../src/domain/holds';

const hold = (holdId: string, expiresAt: number) => ({ holdId, expiresAt }) as HoldRecord;

const firstByScan = (holds: ReadonlyMap<string, HoldRecord>): string | undefined =>
  [...holds.values()].sort((a, b) => a.expiresAt - b.expiresAt || (a.holdId < b.holdId ? -1 : 1))[0]?.holdId;

const firstDueByScan = (holds: ReadonlyMap<string, HoldRecord>, now: number): string | undefined =>
  firstByScan(new Map([...holds].filter(([, held]) => held.expiresAt <= now)));

it('names the first hold to expire, and the first one due, after any sequence of adds, extensions and closes', () => {
  const step = fc.record({
    kind: fc.constantFrom('add', 'extend', 'close'),
    id: fc.nat(2 * SCANNED_HOLDS + 8),
    at: fc.nat(50),
  });
  fc.assert(
    fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
      const holds = new Map<string, HoldRecord>();
      const index = new HoldExpiryIndex(holds);
      for (const { kind, id, at } of steps) {
        const holdId = `hold-${id}`;
        const known = holds.get(holdId);
        if (kind === 'add' && !known) {
          const added = hold(holdId, at);
          holds.set(holdId, added);
          index.add(added);
          existingExpiryIndexOf(holds)?.add(added); // as evolve does
        } else if (kind === 'extend' && known) {
          known.expiresAt += at;
          index.add(known);
          existingExpiryIndexOf(holds)?.add(known);
        } else if (kind === 'close' && known) {
          holds.delete(holdId);
        }
        expect(index.first()?.holdId).toBe(firstByScan(holds));
        for (const now of [at - 1, at, at + 25]) {
          expect(index.firstDueBy(now)?.holdId).toBe(firstDueByScan(holds, now));
          expect(anyHoldDueBy(holds, now)).toBe(firstDueByScan(holds, now) !== undefined);
        }
        expect(index.size).toBeLessThanOrEqual(2 * holds.size + 65);
      }
    }),
    { seed: 15, numRuns: 300 },
  );
});

it('keeps closed holds’ entries bounded while a long hold stays first', () => {
  const holds = new Map<string, HoldRecord>([['long', hold('long', 0)]]);
  const index = new HoldExpiryIndex(holds);
  for (let i = 0; i < 10_000; i++) {
    const short = hold(`short-${i}`, 1 + i);
    holds.set(short.holdId, short);
    index.add(short);
    holds.delete(short.holdId);
    expect(index.first()?.holdId).toBe('long');
  }
  expect(index.size).toBeLessThanOrEqual(2 * holds.size + 65);
});

it('builds the index of holds that have none, once', () => {
  const holds = new Map([
    ['b', hold('b', 20)],
    ['a', hold('a', 10)],
  ]);
  expect(expiryIndexOf(holds).first()?.holdId).toBe('a');
  expect(expiryIndexOf(holds)).toBe(expiryIndexOf(holds));
});
