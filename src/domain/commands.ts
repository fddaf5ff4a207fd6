/**
 * What callers ask of a workspace's credits. Commands carry everything the decision needs, already
 * resolved from the catalog (credits, prices), and the instant they are decided at (`now`), so the
 * decider reads no clock and no configuration. Commands have the shape events have: `{ type, data }`.
 */
import type { CreditAction, Drawdown, Money } from './credits';
import type { PurchasePayment } from './events';

type Command<Type extends string, Data> = { type: Type; data: Data & { workspaceId: string; now: Date } };

export type ApplyPlanAllowance = Command<
  'ApplyPlanAllowance',
  {
    grantId: string;
    planId: string;
    planName: string;
    credits: number;
    periodStart: Date;
    periodEnd: Date;
  }
>;

export type PurchaseCredits = Command<
  'PurchaseCredits',
  {
    grantId: string;
    purchaseId: string;
    packageId: string;
    packageName: string;
    credits: number;
    price: Money;
    payment: PurchasePayment;
    expiresAt?: Date;
    purchasedBy: string;
  }
>;

export type GrantCredits = Command<
  'GrantCredits',
  {
    grantId: string;
    idempotencyKey: string;
    credits: number;
    reason: string;
    expiresAt?: Date;
    grantedBy: string;
  }
>;

export type ConsumeCredits = Command<
  'ConsumeCredits',
  {
    consumptionId: string;
    idempotencyKey: string;
    action: CreditAction;
    units: number;
    creditsPerUnit: number;
    actorId: string;
    reference?: string;
  }
>;

/**
 * Records a refund of a purchase that the payment provider has accepted (or, for purchases paid
 * outside Stripe, that an admin made). Takes back at most the credits still unspent.
 */
export type RefundCreditPurchase = Command<
  'RefundCreditPurchase',
  {
    purchaseId: string;
    refundId: string;
    providerRefundId?: string;
    credits: number;
    amount: Money;
    reason: string;
    origin: 'ADMIN' | 'PROVIDER';
    refundedBy: string;
  }
>;

/** Gives one spend's credits back to the grants that paid for it, once. */
export type RefundCreditConsumption = Command<
  'RefundCreditConsumption',
  {
    consumptionId: string;
    /** The spend as recorded (from the ledger): its credits and the grants that paid. */
    consumption: { credits: number; drawdown: Drawdown[] };
    reason: string;
    refundedBy: string;
  }
>;

/** Records the expiry of every grant that is past its `expiresAt` (a sweeper's command). */
export type ExpireCredits = Command<'ExpireCredits', object>;

export type WorkspaceCreditsCommand =
  | ApplyPlanAllowance
  | PurchaseCredits
  | GrantCredits
  | ConsumeCredits
  | ExpireCredits
  | RefundCreditPurchase
  | RefundCreditConsumption;
