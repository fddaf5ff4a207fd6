/**
 * Holds as snapshot text. A busy workspace has a thousand holds running and remembers tens of
 * thousands of closed ones for the idempotency window, and a snapshot is taken every second or so.
 * Each hold is a JSON tuple rather than an object, which halves the text a snapshot carries and the
 * time to make it (JSON.stringify runs without a replacer, which would visit every value). A closed
 * hold never changes again, so each is encoded once, when first snapshotted, and its text reused by
 * every snapshot after. The hold of each idempotency key is not written at all: it is rebuilt from
 * the holds (holdKeysOf).
 */
import { asciiOnly } from './ascii-json';
import { GRANT_SOURCES, type CreditAction, type Drawdown } from './credits';
import type { HoldRecord, HoldSettlement, HoldStatus } from './holds';

type DrawdownTuple = [grantId: string, source: number, credits: number];

type SettlementTuple = [
  idempotencyKey: string,
  consumptionId: string,
  units: number,
  credits: number,
  drawdown: DrawdownTuple[],
  availableAfter: number,
  settledAt: number,
];

/** A hold's fields, in HoldRecord's order; JSON has no `undefined`, so absent ones are null. */
export type HoldTuple = [
  holdId: string,
  idempotencyKey: string,
  action: CreditAction,
  units: number,
  creditsPerUnit: number,
  credits: number,
  drawdown: DrawdownTuple[],
  initialExpiresAt: number,
  expiresAt: number,
  reference: string | null,
  actorId: string,
  availableAfter: number,
  createdAt: number,
  status: HoldStatus,
  closedAt: number | null,
  settlement: SettlementTuple | null,
];

const drawdownOf = (tuples: readonly DrawdownTuple[]): Drawdown[] =>
  tuples.map(([grantId, source, credits]) => ({
    grantId,
    source: GRANT_SOURCES[source] as Drawdown['source'],
    credits,
  }));

/**
 * The tuples are written out as text rather than built as arrays for JSON.stringify: every hold is
 * encoded as it closes. Numbers (integers, always finite) print as JSON prints them, and the text
 * is made ASCII once, as a whole.
 */
const json = JSON.stringify;

const drawdownJson = (parts: readonly Drawdown[]): string => {
  let text = '';
  for (const part of parts) {
    text += `${text === '' ? '' : ','}[${json(part.grantId)},${GRANT_SOURCES.indexOf(part.source)},${part.credits}]`;
  }
  return `[${text}]`;
};

const settlementJson = (settlement: HoldSettlement | undefined): string =>
  settlement === undefined
    ? 'null'
    : `[${json(settlement.idempotencyKey)},${json(settlement.consumptionId)},${settlement.units},` +
      `${settlement.credits},${drawdownJson(settlement.drawdown)},${settlement.availableAfter},${settlement.settledAt}]`;

/** A hold as its JSON tuple (HoldTuple), ASCII only. */
export const encodeHold = (hold: HoldRecord): string =>
  asciiOnly(
    `[${json(hold.holdId)},${json(hold.idempotencyKey)},"${hold.action}",${hold.units},` +
      `${hold.creditsPerUnit},${hold.credits},${drawdownJson(hold.drawdown)},${hold.initialExpiresAt},${hold.expiresAt},` +
      `${hold.reference === undefined ? 'null' : json(hold.reference)},${json(hold.actorId)},` +
      `${hold.availableAfter},${hold.createdAt},"${hold.status}",${hold.closedAt ?? 'null'},${settlementJson(hold.settlement)}]`,
  );

/** The active holds as a JSON array of tuples, encoded afresh: an active hold may still change. */
export const activeHoldsJson = (activeHolds: ReadonlyMap<string, HoldRecord>): string =>
  `[${Array.from(activeHolds.values(), encodeHold).join(',')}]`;

/**
 * The hold each idempotency key names, as evolve left it: a key names the last hold made with it.
 * A key is used again only once its hold has closed and is no longer remembered for it, so that
 * hold closed before the new one: the closed holds in the order they closed, then the active ones.
 */
export function holdKeysOf(
  closedHolds: Iterable<HoldRecord>,
  activeHolds: ReadonlyMap<string, HoldRecord>,
): Map<string, string> {
  const keys = new Map<string, string>();
  for (const hold of closedHolds) keys.set(hold.idempotencyKey, hold.holdId);
  for (const hold of activeHolds.values()) keys.set(hold.idempotencyKey, hold.holdId);
  return keys;
}

/** The hold one of encodeHold's texts is. */
export const decodeHold = (text: string): HoldRecord => holdOf(JSON.parse(text) as HoldTuple);

/** The inverse of one of encodeHold's tuples, as parsed back. */
export function holdOf(tuple: HoldTuple): HoldRecord {
  const [
    holdId,
    idempotencyKey,
    action,
    units,
    creditsPerUnit,
    credits,
    drawdown,
    initialExpiresAt,
    expiresAt,
    reference,
    actorId,
    availableAfter,
    createdAt,
    status,
    closedAt,
    settlement,
  ] = tuple;
  return {
    holdId,
    idempotencyKey,
    action,
    units,
    creditsPerUnit,
    credits,
    drawdown: drawdownOf(drawdown),
    initialExpiresAt,
    expiresAt,
    reference: reference ?? undefined,
    actorId,
    availableAfter,
    createdAt,
    status,
    closedAt: closedAt ?? undefined,
    // Null may come back as undefined (the snapshot's decoding turns nulls into undefined).
    settlement: !settlement
      ? undefined
      : {
          idempotencyKey: settlement[0],
          consumptionId: settlement[1],
          units: settlement[2],
          credits: settlement[3],
          drawdown: drawdownOf(settlement[4]),
          availableAfter: settlement[5],
          settledAt: settlement[6],
        },
  };
}
