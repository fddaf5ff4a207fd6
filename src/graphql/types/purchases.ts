import { Authorized, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { PURCHASE_MONEY } from '../guards';
import {
  DISPUTE_STATUSES,
  PURCHASE_STATUSES,
  REFUND_STATUSES,
  type DisputeStatus,
  type PurchaseStatus,
  type RefundStatus,
} from '../../queries/vocabulary';
import { enumOf } from './enums';
import { PageInfo } from './ledger';
import { Money } from './values';

export const MONEY_ACCESS =
  'Readable by OWNER, BILLING_MANAGER and admins; anyone else gets null and a FORBIDDEN error.';

export const PurchaseStatusEnum = enumOf<PurchaseStatus>(PURCHASE_STATUSES);
registerEnumType(PurchaseStatusEnum, {
  name: 'PurchaseStatus',
  description:
    'PAID; PARTIALLY_REFUNDED or REFUNDED (money returned, refunds not failed); DISPUTED (a chargeback is open: its credits are frozen); CHARGED_BACK (a dispute was lost).',
});

export const RefundStatusEnum = enumOf<RefundStatus>(REFUND_STATUSES);
registerEnumType(RefundStatusEnum, {
  name: 'RefundStatus',
  description:
    'REQUESTED: credits taken back, the provider not asked yet or not answered. PENDING / REQUIRES_ACTION: the provider accepted it, not final. SUCCEEDED: money returned. FAILED / CANCELED: no money returned; the credits came back where they can still be spent.',
});

export const DisputeStatusEnum = enumOf<DisputeStatus>(DISPUTE_STATUSES);
registerEnumType(DisputeStatusEnum, {
  name: 'DisputeStatus',
  description: 'OPEN until the bank decides; WON (the frozen credits came back) or LOST (the money went back).',
});

@ObjectType({ description: 'A hosted payment page to send the buyer to.' })
export class CheckoutSession {
  @Field(() => ID)
  id!: string;

  @Field()
  url!: string;

  @Field(() => Date)
  expiresAt!: Date;
}

@ObjectType({
  description:
    'A refund of part or all of a purchase: credits taken back at once, money returned by the payment provider.',
})
export class CreditRefund {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field(() => ID)
  purchaseId!: string;

  @Field(() => RefundStatusEnum)
  status!: RefundStatus;

  @Field({ description: 'ADMIN (asked through this API) or PROVIDER (made in the payment provider’s dashboard).' })
  origin!: string;

  @Field(() => GraphQLSafeInt, { description: 'Unspent credits taken back.' })
  credits!: number;

  @Field(() => GraphQLSafeInt, { description: 'Credits already spent whose money this refund returns.' })
  creditsOwed!: number;

  @Field(() => Money, { nullable: true, description: MONEY_ACCESS })
  @Authorized(PURCHASE_MONEY)
  amount?: Money;

  @Field()
  reason!: string;

  @Field(() => String, { nullable: true, description: 'Why the provider failed or canceled it.' })
  failure?: string | undefined;

  @Field(() => ID, { nullable: true, description: 'The payment provider’s refund.' })
  providerRefundId?: string | undefined;

  @Field(() => Date)
  requestedAt!: Date;
}

@ObjectType({ description: 'A dispute (chargeback) of a purchase’s payment.' })
export class PurchaseDispute {
  @Field(() => ID)
  id!: string;

  @Field(() => DisputeStatusEnum)
  status!: DisputeStatus;

  @Field(() => Money, { nullable: true, description: MONEY_ACCESS })
  @Authorized(PURCHASE_MONEY)
  amount?: Money;

  @Field()
  reason!: string;

  @Field(() => GraphQLSafeInt, { description: 'Unspent credits frozen when the dispute opened.' })
  creditsHeld!: number;

  @Field(() => GraphQLSafeInt, { description: 'Credits of the purchase already spent when it opened.' })
  creditsSpent!: number;

  @Field(() => GraphQLSafeInt, { description: 'Credits taken back when the dispute was lost.' })
  creditsTakenBack!: number;

  @Field(() => GraphQLSafeInt, { description: 'Spent credits whose money the lost dispute took back.' })
  creditsOwed!: number;

  @Field(() => Date)
  openedAt!: Date;

  @Field(() => Date, { nullable: true })
  closedAt?: Date | undefined;
}

/** Money fields a MEMBER or SERVICE may not read (see PURCHASE_MONEY in ../guards). */

@ObjectType({ description: 'A credit package a workspace bought, and what became of it.' })
export class CreditPurchase {
  @Field(() => ID, {
    description:
      '<workspaceId>/<purchaseId>: unique among purchases, so that a client cache keyed by type and id never takes one workspace’s purchase for another’s with the same payment reference. refundCreditPurchase takes it as purchaseId too.',
  })
  id!: string;

  @Field(() => ID, {
    description:
      'The Stripe Checkout session (or payment intent of an auto top-up), or the payment reference of a purchase recorded by an admin: unique within the workspace only.',
  })
  purchaseId!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field(() => ID)
  packageId!: string;

  @Field()
  packageName!: string;

  @Field(() => GraphQLSafeInt)
  credits!: number;

  @Field(() => GraphQLSafeInt, { description: 'Credits of this purchase not yet spent, expired or refunded.' })
  creditsLeft!: number;

  @Field(() => Money, { nullable: true, description: MONEY_ACCESS })
  @Authorized(PURCHASE_MONEY)
  amountPaid!: Money;

  @Field(() => GraphQLSafeInt)
  refundedCredits!: number;

  @Field(() => Money, {
    nullable: true,
    description: `Money returned by refunds that have not failed, and by lost disputes, at most the price (the ledger's money entries show every movement, a dispute lost after a refund included). ${MONEY_ACCESS}`,
  })
  @Authorized(PURCHASE_MONEY)
  refundedAmount!: Money;

  @Field(() => GraphQLSafeInt, { description: 'Credits already spent whose money went back to the buyer.' })
  creditsOwed!: number;

  @Field(() => PurchaseStatusEnum)
  status!: PurchaseStatus;

  @Field({ description: 'STRIPE or MANUAL (invoice, bank transfer).' })
  provider!: string;

  @Field(() => Date)
  purchasedAt!: Date;

  @Field(() => ID, { description: 'Who started the purchase.' })
  purchasedBy!: string;

  @Field(() => [CreditRefund])
  refunds!: CreditRefund[];

  @Field(() => [PurchaseDispute])
  disputes!: PurchaseDispute[];
}

@ObjectType({ description: 'A purchase and its cursor.' })
export class CreditPurchaseEdge {
  @Field()
  cursor!: string;

  @Field(() => CreditPurchase)
  node!: CreditPurchase;
}

@ObjectType({
  description: 'Purchases, newest first (then by id). Cursors stay valid while new purchases arrive.',
})
export class CreditPurchaseConnection {
  @Field(() => [CreditPurchaseEdge])
  edges!: CreditPurchaseEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType({ description: 'A payment the provider collected that could not be credited: an admin must act on it.' })
export class UncreditedPayment {
  @Field(() => ID, { description: 'The workspace and the checkout session, as `<workspaceId>:<sessionId>`.' })
  id!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field(() => ID)
  sessionId!: string;

  @Field(() => ID, { nullable: true })
  paymentIntentId?: string | undefined;

  @Field(() => Money)
  amount!: Money;

  @Field(() => Money, {
    description:
      'What went back to the buyer: refunds Stripe reported (pending or made; not failed or canceled) and disputes lost. Equal to amount: nothing is left to decide.',
  })
  amountReturned!: Money;

  @Field()
  reason!: string;

  @Field(() => Date)
  receivedAt!: Date;
}

@ObjectType({ description: 'Work a reaction could not finish after its retries: an operator must look at it.' })
export class ParkedReactionWork {
  @Field(() => ID, { description: 'The reaction and the key, as `<reaction>:<key>`.' })
  id!: string;

  @Field()
  reaction!: string;

  @Field()
  key!: string;

  @Field(() => Int)
  attempts!: number;

  @Field(() => String, { nullable: true })
  lastError?: string | undefined;

  @Field(() => Date)
  requestedAt!: Date;
}

@ObjectType({ description: 'A payment-provider webhook refused as invalid, recorded with its event id.' })
export class RefusedProviderEvent {
  @Field(() => ID, { description: 'The provider’s event id.' })
  id!: string;

  @Field()
  type!: string;

  @Field()
  reason!: string;

  @Field(() => Date)
  refusedAt!: Date;
}
