/**
 * Event schema versions. Every stored event carries the version of its data's shape; when a shape
 * changes, its version goes up and an upcaster turns the previous shape into the next, so history
 * written by any earlier release reads as the current shape everywhere (decider, projections,
 * replay, analysts). docs/events.md describes every version.
 */
import type { WorkspaceCreditsEventType } from '../domain/events';
import type { RecordedEvent } from '../eventstore/port';

type Data = Record<string, unknown>;
/** Turns data of version N into data of version N + 1. */
type Upcaster = (data: Data, recorded: RecordedEvent) => Data;

interface EventSchema {
  current: number;
  /** upcasters[N] lifts version N to N + 1. */
  upcasters: Record<number, Upcaster>;
}

export const EVENT_SCHEMAS: Record<WorkspaceCreditsEventType, EventSchema> = {
  PlanAllowanceApplied: { current: 1, upcasters: {} },
  CreditsGranted: { current: 1, upcasters: {} },
  CreditsConsumed: { current: 1, upcasters: {} },
  CreditsExpired: { current: 1, upcasters: {} },
  CreditPurchaseRefunded: { current: 1, upcasters: {} },
  CreditConsumptionRefunded: { current: 1, upcasters: {} },
  CheckoutStarted: { current: 1, upcasters: {} },
  CheckoutSessionOpened: { current: 1, upcasters: {} },
  CheckoutSessionFailed: { current: 1, upcasters: {} },
  CheckoutPaymentUpdated: { current: 1, upcasters: {} },
  PaidCheckoutNotCredited: { current: 1, upcasters: {} },
  PurchaseRefundRequested: { current: 1, upcasters: {} },
  PurchaseRefundPending: { current: 1, upcasters: {} },
  PurchaseRefundSucceeded: { current: 1, upcasters: {} },
  PurchaseRefundFailed: { current: 1, upcasters: {} },
  PurchaseDisputeOpened: { current: 1, upcasters: {} },
  PurchaseDisputeClosed: { current: 1, upcasters: {} },
  ProviderEventDeferred: { current: 1, upcasters: {} },
  AlertRulesConfigured: { current: 1, upcasters: {} },
  CreditsLow: { current: 1, upcasters: {} },
  CreditsDepleted: { current: 1, upcasters: {} },
  CreditsRecovered: { current: 1, upcasters: {} },
  CreditsExpiringSoon: { current: 1, upcasters: {} },
  PaymentMethodSetupStarted: { current: 1, upcasters: {} },
  PaymentCustomerCreated: { current: 1, upcasters: {} },
  PaymentMethodSetupOpened: { current: 1, upcasters: {} },
  PaymentMethodSetupFailed: { current: 1, upcasters: {} },
  PaymentMethodSaved: { current: 1, upcasters: {} },
  PaymentMethodRemoved: { current: 1, upcasters: {} },
  AutoTopUpConfigured: { current: 1, upcasters: {} },
  AutoTopUpRequested: { current: 1, upcasters: {} },
  AutoTopUpSkipped: { current: 1, upcasters: {} },
  AutoTopUpFailed: { current: 1, upcasters: {} },
  AutoTopUpRearmed: { current: 1, upcasters: {} },
  AutoTopUpPaused: { current: 1, upcasters: {} },
  AutoTopUpCanceled: { current: 1, upcasters: {} },
  CreditsReserved: { current: 1, upcasters: {} },
  CreditHoldSettled: {
    current: 2,
    upcasters: {
      // Version 1 always wrote fromHold and fromBalance; version 2 leaves both out when nothing came
      // from the balance (the held credits that paid are then drawdown).
      1: (data) => {
        if ((data.fromBalance as unknown[] | undefined)?.length) return data;
        const lifted = { ...data };
        delete lifted.fromHold;
        delete lifted.fromBalance;
        return lifted;
      },
    },
  },
  CreditHoldReleased: { current: 1, upcasters: {} },
  CreditHoldExpired: { current: 1, upcasters: {} },
  CreditHoldExtended: { current: 1, upcasters: {} },
  CreditsPurchased: {
    current: 2,
    upcasters: {
      // Release 0.1 recorded only purchases paid outside Stripe (invoice, bank transfer), whose
      // purchase id was the payment reference; version 2 says how each purchase was paid.
      1: (data) => ({ ...data, payment: { provider: 'MANUAL', reference: data.purchaseId } }),
    },
  },
};

export const currentSchemaVersion = (type: string): number =>
  (EVENT_SCHEMAS as Partial<Record<string, EventSchema>>)[type]?.current ?? 1;

/** The event in its current shape; events already current (or not ours) come back unchanged. */
export function upcast(recorded: RecordedEvent): RecordedEvent {
  const schema = (EVENT_SCHEMAS as Partial<Record<string, EventSchema>>)[recorded.type];
  if (!schema || recorded.schemaVersion >= schema.current) return recorded;
  let data = recorded.data;
  for (let version = recorded.schemaVersion; version < schema.current; version++) {
    const lift = schema.upcasters[version];
    if (!lift) throw new Error(`No upcaster for ${recorded.type} version ${version} (event ${recorded.id})`);
    data = lift(data, recorded);
  }
  return { ...recorded, data, schemaVersion: schema.current };
}
