/**
 * A workspace's decision state as text, so that a long stream need not be folded from its first
 * event: the command side stores it now and then and, on a cold start, folds only the events after
 * it.
 *
 * The first line holds everything but the remembered spends, as JSON, with the hashes of the
 * spends' keys; each further line is one remembered spend (see RecentConsumptions). Restoring parses
 * the first line only. The text is ASCII (non-ASCII characters are JSON escapes), kept as bytes:
 * it is stored and read back as it is, never encoded to or decoded from UTF-8 as a whole.
 */
import type { Grant } from './credits';
import { asciiJson } from './ascii-json';
import { ClosedHolds } from './closed-holds';
import { activeHoldsJson, holdKeysOf, holdOf, type HoldTuple } from './holds-json';
import { RecentConsumptions } from './recent-consumptions';
import type { AlertRules, ProviderPaymentFact } from './events';
import type { HoldRecord } from './holds';
import type {
  AlertState,
  AutoTopUpState,
  TopUpRecord,
  CheckoutRecord,
  CurrentPeriod,
  DisputeRecord,
  PurchaseRecord,
  PurchaseRefundRecord,
  WorkspaceCreditsState,
} from './state';

/**
 * The version of the state's shape and of what `evolve` makes of the events. Change it whenever
 * either changes, or the encoding does (remembered spends store a grant's source as its index in
 * GRANT_SOURCES): a snapshot of another version is ignored and the stream is folded afresh.
 */
export const STATE_SNAPSHOT_VERSION = 17;

type AutoTopUpSetupStatus = AutoTopUpState['setups'] extends Map<string, infer S> ? S : never;

const NEWLINE = Buffer.from('\n');

interface Head {
  grants: [string, Grant][];
  period: CurrentPeriod | undefined;
  periods: [number, { planId: string; periodEnd: number }][];
  replacedAllowances: string[];
  grantKeys: [string, { grantId: string; credits: number; reason: string; expiresAt: number | undefined }][];
  purchases: [string, PurchaseRecord][];
  purchaseOfGrant: [string, string][];
  purchaseOfPayment: [string, string][];
  purchaseRefunds: [string, PurchaseRefundRecord][];
  providerRefunds: [string, string][];
  refundKeys: [string, string][];
  disputes: [string, DisputeRecord][];
  deferredFacts: [string, { fact: ProviderPaymentFact; recordedBy: string }[]][];
  checkouts: [string, CheckoutRecord][];
  uncreditedSessions: string[];
  refundedConsumptions: [string, string][];
  /** Written apart (holds-json.ts) and read back with the rest; the holds' keys are rebuilt from them. */
  activeHolds?: HoldTuple[];
  closedHolds?: HoldTuple[];
  alerts: Omit<AlertState, 'expiringNoticed'> & { expiringNoticed: string[] };
  autoTopUp: Omit<AutoTopUpState, 'setups' | 'topUps'> & {
    setups: [string, AutoTopUpSetupStatus][];
    topUps: [string, TopUpRecord][];
  };
  /** The remembered spends' key hashes, in their order: little-endian int32s, base64. */
  keyHashes: string;
}

export function encodeState(state: WorkspaceCreditsState): Buffer {
  const consumptions = state.consumptions.encode();
  const hashes = consumptions.keyHashes;
  const head: Head = {
    grants: [...state.grants],
    period: state.period,
    periods: [...state.periods],
    replacedAllowances: [...state.replacedAllowances],
    grantKeys: [...state.grantKeys],
    purchases: [...state.purchases],
    purchaseOfGrant: [...state.purchaseOfGrant],
    purchaseOfPayment: [...state.purchaseOfPayment],
    purchaseRefunds: [...state.purchaseRefunds],
    providerRefunds: [...state.providerRefunds],
    refundKeys: [...state.refundKeys],
    disputes: [...state.disputes],
    deferredFacts: [...state.deferredFacts],
    checkouts: [...state.checkouts],
    uncreditedSessions: [...state.uncreditedSessions],
    refundedConsumptions: [...state.refundedConsumptions],
    alerts: { ...state.alerts, expiringNoticed: [...state.alerts.expiringNoticed] },
    autoTopUp: { ...state.autoTopUp, setups: [...state.autoTopUp.setups], topUps: [...state.autoTopUp.topUps] },
    keyHashes: Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength).toString('base64'),
  };
  // JSON has no `undefined`: optional fields travel as null (the state itself never holds null).
  const json = asciiJson(head, (_key, value: unknown) => (value === undefined ? null : value));
  const holds = `"activeHolds":${activeHoldsJson(state.activeHolds)},"closedHolds":${state.closedHolds.toJson()}`;
  const first = Buffer.from(`${json.slice(0, -1)},${holds}}`, 'latin1');
  return consumptions.lines.length === 0 ? first : Buffer.concat([first, NEWLINE, consumptions.lines]);
}

/** Alert rules say "not set" with null, which the head's decoding turned into undefined. */
const withNulls = (rules: AlertRules): AlertRules => ({
  lowBalanceCredits: rules.lowBalanceCredits ?? null,
  lowBalancePercent: rules.lowBalancePercent ?? null,
  notify: rules.notify,
  expiringSoonDays: rules.expiringSoonDays ?? null,
});

export function decodeState(bytes: Buffer): WorkspaceCreditsState {
  const newline = bytes.indexOf(NEWLINE);
  const head = nullsToUndefined(JSON.parse(bytes.toString('latin1', 0, newline < 0 ? bytes.length : newline))) as Head;
  const activeHolds = new Map<string, HoldRecord>((head.activeHolds ?? []).map((tuple) => [tuple[0], holdOf(tuple)]));
  const closed = (head.closedHolds ?? []).map(holdOf);
  return {
    grants: new Map(head.grants),
    period: head.period,
    periods: new Map(head.periods),
    replacedAllowances: new Set(head.replacedAllowances),
    consumptions: RecentConsumptions.decode({
      lines: newline < 0 ? Buffer.alloc(0) : bytes.subarray(newline + 1),
      keyHashes: int32s(Buffer.from(head.keyHashes, 'base64')),
    }),
    grantKeys: new Map(head.grantKeys),
    purchases: new Map(head.purchases),
    purchaseOfGrant: new Map(head.purchaseOfGrant),
    purchaseOfPayment: new Map(head.purchaseOfPayment),
    purchaseRefunds: new Map(head.purchaseRefunds),
    providerRefunds: new Map(head.providerRefunds),
    refundKeys: new Map(head.refundKeys),
    disputes: new Map(head.disputes),
    deferredFacts: new Map(head.deferredFacts),
    checkouts: new Map(head.checkouts),
    uncreditedSessions: new Set(head.uncreditedSessions),
    refundedConsumptions: new Map(head.refundedConsumptions),
    activeHolds,
    closedHolds: ClosedHolds.of(closed),
    holdKeys: holdKeysOf(closed, activeHolds),
    alerts: {
      ...head.alerts,
      rules: withNulls(head.alerts.rules),
      expiringNoticed: new Set(head.alerts.expiringNoticed),
    },
    autoTopUp: {
      ...head.autoTopUp,
      // Settings say "no target" with null, which the head's decoding turned into undefined.
      settings: head.autoTopUp.settings && {
        ...head.autoTopUp.settings,
        targetCredits: head.autoTopUp.settings.targetCredits ?? null,
        packageExpiresAfterDays: head.autoTopUp.settings.packageExpiresAfterDays ?? null,
      },
      setups: new Map(head.autoTopUp.setups),
      topUps: new Map(
        head.autoTopUp.topUps.map(([id, topUp]) => [
          id,
          { ...topUp, expiresAfterDays: topUp.expiresAfterDays ?? null, paymentIntentId: topUp.paymentIntentId },
        ]),
      ),
    },
  };
}

/** The bytes as int32s, copied when they are not aligned for an Int32Array view. */
function int32s(bytes: Buffer): Int32Array {
  if (bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Int32Array(new Uint8Array(bytes).buffer);
}

function nullsToUndefined(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map(nullsToUndefined);
  if (typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) object[key] = nullsToUndefined(object[key]);
  return object;
}
