/**
 * Closed holds as snapshot text. A busy workspace remembers tens of thousands of closed holds for
 * the idempotency window, and a snapshot is taken every second or so: a closed hold never changes
 * again, so each is encoded once, when first snapshotted, and its text reused by every snapshot
 * after (and JSON.stringify runs without a replacer, which would visit every value).
 */
import { asciiJson } from './ascii-json';
import type { HoldRecord } from './holds';

const encoded = new WeakMap<HoldRecord, string>();

/** JSON has no `undefined`: the optional fields travel as null, as in the rest of the snapshot. */
const encode = (hold: HoldRecord): string =>
  asciiJson({
    ...hold,
    reference: hold.reference ?? null,
    closedAt: hold.closedAt ?? null,
    settlement: hold.settlement ?? null,
  });

/** The closed holds as a JSON array of records, oldest closed first. */
export function closedHoldsJson(closedHolds: ReadonlyMap<string, HoldRecord>): string {
  const parts: string[] = [];
  for (const hold of closedHolds.values()) {
    let text = encoded.get(hold);
    if (text === undefined) encoded.set(hold, (text = encode(hold)));
    parts.push(text);
  }
  return `[${parts.join(',')}]`;
}
