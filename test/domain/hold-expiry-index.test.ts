/**
 * The hold-expiry index answers "which active hold expires first?" exactly as a scan would, through
 * any mix of holds added, extended and closed, and a state with no index (restored from a snapshot
 * or forked) gets one built from its holds.
 */
import fc from 'fast-check';
import { expiryIndexOf, HoldExpiryIndex } from '../../src/domain/hold-expiry-index';
import type { HoldRecord } from '../../src/domain/holds';

const hold = (holdId: string, expiresAt: number) => ({ holdId, expiresAt }) as HoldRecord;

const firstByScan = (holds: ReadonlyMap<string, HoldRecord>): string | undefined =>
  [...holds.values()].sort((a, b) => a.expiresAt - b.expiresAt || (a.holdId < b.holdId ? -1 : 1))[0]?.holdId;

it('names the first hold to expire after any sequence of adds, extensions and closes', () => {
  const step = fc.record({ kind: fc.constantFrom('add', 'extend', 'close'), id: fc.nat(30), at: fc.nat(50) });
  fc.assert(
    fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
      const index = new HoldExpiryIndex();
      const holds = new Map<string, HoldRecord>();
      for (const { kind, id, at } of steps) {
        const holdId = `hold-${id}`;
        const known = holds.get(holdId);
        if (kind === 'add' && !known) {
          const added = hold(holdId, at);
          holds.set(holdId, added);
          index.add(added);
        } else if (kind === 'extend' && known) {
          known.expiresAt += at;
          index.update(known);
        } else if (kind === 'close' && known) {
          holds.delete(holdId);
          index.remove(holdId);
        }
        expect(index.first()?.holdId).toBe(firstByScan(holds));
      }
    }),
    { seed: 15, numRuns: 200 },
  );
});

it('builds the index of holds that have none, once', () => {
  const holds = new Map([
    ['b', hold('b', 20)],
    ['a', hold('a', 10)],
  ]);
  expect(expiryIndexOf(holds).first()?.holdId).toBe('a');
  expect(expiryIndexOf(holds)).toBe(expiryIndexOf(holds));
});
