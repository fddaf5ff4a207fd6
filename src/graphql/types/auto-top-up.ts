/** What GraphQL shows of auto top-up: its settings, consent, card, this month's use and its top-ups. */
import { Authorized, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { PURCHASE_MONEY } from '../guards';
import { enumOf } from './enums';
import { MONEY_ACCESS } from './purchases';
import { Money } from './values';

export const TOP_UP_STATUSES = ['REQUESTED', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const;
export type TopUpStatus = (typeof TOP_UP_STATUSES)[number];
export const TopUpStatusEnum = enumOf<TopUpStatus>(TOP_UP_STATUSES);
registerEnumType(TopUpStatusEnum, {
  name: 'AutoTopUpStatus',
  description:
    'REQUESTED: the saved card is being charged (maybe again after a failure). SUCCEEDED: paid and credited as a purchase. FAILED: every attempt failed; auto top-up paused. CANCELED: auto top-up was turned off or its settings changed, or its card removed or replaced, before it was paid: the card is not charged for it any more (with a new card, a new top-up is requested on it).',
});

export const TOP_UP_FAILURE_REASONS = ['DECLINED', 'REQUIRES_ACTION', 'ERROR'] as const;
export type TopUpFailureReason = (typeof TOP_UP_FAILURE_REASONS)[number];
export const TopUpFailureReasonEnum = enumOf<TopUpFailureReason>(TOP_UP_FAILURE_REASONS);
registerEnumType(TopUpFailureReasonEnum, {
  name: 'AutoTopUpFailureReason',
  description:
    'DECLINED: the card was declined. REQUIRES_ACTION: the bank wants the cardholder to authenticate (3-D Secure), which an automatic charge cannot do; auto top-up pauses at once. ERROR: Stripe refused the charge for another reason.',
});

export const CARD_SETUP_STATUSES = ['STARTED', 'OPEN', 'FAILED', 'SAVED'] as const;
export type CardSetupStatus = (typeof CARD_SETUP_STATUSES)[number];
export const CardSetupStatusEnum = enumOf<CardSetupStatus>(CARD_SETUP_STATUSES);
registerEnumType(CardSetupStatusEnum, {
  name: 'CardSetupStatus',
  description:
    'STARTED: waiting for Stripe to open the page. OPEN: send the billing manager to `url`. FAILED: Stripe could not open it (`error`). SAVED: the card was saved.',
});

@ObjectType({ description: 'The card auto top-up charges: enough to recognise it, never enough to charge it.' })
export class SavedCard {
  @Field(() => ID, { description: 'The Stripe payment method id.' })
  id!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field({ description: 'e.g. visa, mastercard.' })
  brand!: string;

  @Field()
  last4!: string;

  @Field(() => Int)
  expMonth!: number;

  @Field(() => Int)
  expYear!: number;

  @Field()
  savedAt!: Date;
}

@ObjectType({ description: 'The consent to automatic charges on record: who, when, and the terms as shown.' })
export class AutoTopUpConsent {
  @Field(() => ID, { description: '<workspaceId>:<acceptedAt>' })
  id!: string;

  @Field()
  acceptedBy!: string;

  @Field()
  acceptedAt!: Date;

  @Field()
  terms!: string;
}

@ObjectType({ description: 'One failed attempt to charge a top-up.' })
export class AutoTopUpFailure {
  @Field(() => ID, { description: '<workspaceId>:<topUpId>:<attempt>' })
  id!: string;

  @Field(() => Int)
  attempt!: number;

  @Field(() => TopUpFailureReasonEnum)
  reason!: TopUpFailureReason;

  @Field(() => String, { nullable: true, description: "Stripe's decline or error code, e.g. card_declined." })
  code!: string | null;

  @Field()
  message!: string;

  @Field(() => Date, { nullable: true, description: 'When the next attempt is made; null: this was the last.' })
  retryAt!: Date | null;

  @Field()
  failedAt!: Date;
}

export const TOP_UP_SKIP_REASONS = ['MONTHLY_LIMIT', 'NO_PAYMENT_METHOD'] as const;
export type TopUpSkipReason = (typeof TOP_UP_SKIP_REASONS)[number];
export const TopUpSkipReasonEnum = enumOf<TopUpSkipReason>(TOP_UP_SKIP_REASONS);
registerEnumType(TopUpSkipReasonEnum, {
  name: 'AutoTopUpSkipReason',
  description: 'MONTHLY_LIMIT: the charge would have passed the monthly limit. NO_PAYMENT_METHOD: no card was saved.',
});

@ObjectType({ description: 'A crossing of the threshold that was not topped up.' })
export class AutoTopUpSkip {
  @Field(() => ID, { description: '<workspaceId>:<skippedAt>' })
  id!: string;

  @Field(() => TopUpSkipReasonEnum)
  reason!: TopUpSkipReason;

  @Field(() => GraphQLSafeInt, { description: 'Available credits at the crossing.' })
  available!: number;

  @Field()
  skippedAt!: Date;
}

@ObjectType({ description: 'One automatic top-up: requested when available credits fell below the threshold.' })
export class AutoTopUpCharge {
  @Field(() => ID, { description: '<workspaceId>:<topUpId>' })
  id!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field(() => ID)
  topUpId!: string;

  @Field(() => TopUpStatusEnum)
  status!: TopUpStatus;

  @Field(() => GraphQLSafeInt)
  credits!: number;

  @Field(() => Money, { nullable: true, description: MONEY_ACCESS })
  @Authorized(PURCHASE_MONEY)
  amount!: Money;

  @Field(() => Int)
  failedAttempts!: number;

  @Field(() => AutoTopUpFailure, { nullable: true })
  lastFailure!: AutoTopUpFailure | null;

  @Field(() => ID, { nullable: true, description: 'The purchase id (Stripe payment intent) once paid.' })
  purchaseId!: string | null;

  @Field()
  requestedAt!: Date;
}

@ObjectType({
  description:
    'Auto top-up of a workspace: below `thresholdCredits` available, the saved card is charged once per crossing for one package, or for the credits that bring the balance back to `targetCredits`; never more than `monthlyLimit` in a calendar month (UTC).',
})
export class AutoTopUp {
  @Field(() => ID, { description: 'The workspace id.' })
  id!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field({ description: 'Turned on by a billing manager (it may still be paused).' })
  enabled!: boolean;

  @Field({ description: 'Stopped itself after failed charges, until a billing manager saves settings or a card.' })
  paused!: boolean;

  @Field(() => String, { nullable: true })
  pauseReason!: string | null;

  @Field(() => GraphQLSafeInt, { nullable: true })
  thresholdCredits!: number | null;

  @Field(() => ID, { nullable: true })
  packageId!: string | null;

  @Field(() => String, { nullable: true })
  packageName!: string | null;

  @Field(() => GraphQLSafeInt, { nullable: true })
  targetCredits!: number | null;

  @Field(() => Money, { nullable: true, description: MONEY_ACCESS })
  @Authorized(PURCHASE_MONEY)
  monthlyLimit!: Money | null;

  @Field(() => Money, {
    nullable: true,
    description: `Charged, or being charged, by top-ups this calendar month (UTC), in the monthly limit’s currency: what the limit counts. ${MONEY_ACCESS}`,
  })
  @Authorized(PURCHASE_MONEY)
  chargedThisMonth!: Money | null;

  @Field(() => SavedCard, { nullable: true, description: `The card charged. ${MONEY_ACCESS}` })
  @Authorized(PURCHASE_MONEY)
  card!: SavedCard | null;

  @Field(() => AutoTopUpConsent, {
    nullable: true,
    description: `The consent on record: its terms name the amounts charged, and who accepted them. ${MONEY_ACCESS}`,
  })
  @Authorized(PURCHASE_MONEY)
  consent!: AutoTopUpConsent | null;

  @Field(() => AutoTopUpSkip, { nullable: true, description: 'The latest crossing that was not topped up, if any.' })
  lastSkip!: AutoTopUpSkip | null;

  @Field(() => AutoTopUpFailure, {
    nullable: true,
    description: 'The latest top-up’s failed attempt, while it is retried or once it was given up.',
  })
  lastFailure!: AutoTopUpFailure | null;

  @Field(() => [AutoTopUpCharge], { description: 'The latest top-ups, newest first (at most 10).' })
  recentTopUps!: AutoTopUpCharge[];
}

@ObjectType({ description: 'The Stripe page where a billing manager saves the card auto top-up charges.' })
export class CardSetup {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field(() => CardSetupStatusEnum)
  status!: CardSetupStatus;

  @Field(() => String, { nullable: true, description: 'Send the billing manager here (Stripe Checkout, setup mode).' })
  url!: string | null;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;
}

@ObjectType({ description: 'The terms a billing manager consents to by turning auto top-up on with these settings.' })
export class AutoTopUpTerms {
  @Field(() => ID, { description: 'A key of the settings the terms were made from.' })
  id!: string;

  @Field()
  terms!: string;
}
