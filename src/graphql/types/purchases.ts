import { Authorized, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { PURCHASE_MONEY } from '../guards';
import { PURCHASE_STATUSES, type PurchaseStatus } from '../../../projections/credit-purchases';
import { Money } from './catalog';
import { enumOf } from './enums';

export const PurchaseStatusEnum = enumOf<PurchaseStatus>(PURCHASE_STATUSES);
registerEnumType(PurchaseStatusEnum, { name: 'PurchaseStatus', description: 'What became of a purchase.' });

@ObjectType({ description: 'A hosted payment page to send the buyer to.' })
export class CheckoutSession {
  @Field(() => ID)
  id!: string;

  @Field()
  url!: string;

  @Field(() => Date)
  expiresAt!: Date;
}

@ObjectType({ description: 'A refund of part or all of a purchase: credits taken back, money returned.' })
export class CreditRefund {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  purchaseId!: string;

  @Field(() => GraphQLSafeInt, { description: 'Unspent credits taken back.' })
  credits!: number;

  @Field(() => Money)
  amount!: Money;
}

/** Money fields a MEMBER or SERVICE may not read (see PURCHASE_MONEY in ../guards). */
const MONEY_ACCESS = 'Readable by OWNER, BILLING_MANAGER and admins; anyone else gets null and a FORBIDDEN error.';

@ObjectType({ description: 'A credit package a workspace bought, and what became of it.' })
export class CreditPurchase {
  @Field(() => ID, {
    description: 'The Stripe Checkout session, or the payment reference of a purchase recorded by an admin.',
  })
  id!: string;

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

  @Field(() => Money, { nullable: true, description: MONEY_ACCESS })
  @Authorized(PURCHASE_MONEY)
  refundedAmount!: Money;

  @Field(() => PurchaseStatusEnum)
  status!: PurchaseStatus;

  @Field({ description: 'STRIPE or MANUAL (invoice, bank transfer).' })
  provider!: string;

  @Field(() => Date)
  purchasedAt!: Date;

  @Field(() => ID, { description: 'Who started the purchase.' })
  purchasedBy!: string;
}
