import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import type { GrantSource } from '../../domain/credits';
import { Plan } from './catalog';
import { GrantSourceEnum } from './enums';

@ObjectType({
  description:
    'Credits of one source. granted = consumed + expired + refunded + held + disputed + remaining; credits past their expiry count as expired from that instant.',
})
export class CreditBucket {
  @Field(() => GraphQLSafeInt)
  granted!: number;

  @Field(() => GraphQLSafeInt, { description: 'Spent, net of spends that were refunded.' })
  consumed!: number;

  @Field(() => GraphQLSafeInt)
  expired!: number;

  @Field(() => GraphQLSafeInt, {
    description:
      'Taken back by refunds (requested, pending or done) and lost disputes of the purchases that granted them.',
  })
  refunded!: number;

  @Field(() => GraphQLSafeInt, { description: 'Reserved by holds of running actions.' })
  held!: number;

  @Field(() => GraphQLSafeInt, {
    description: 'Left of purchases under an open dispute: out of the balance until the bank decides.',
  })
  disputed!: number;

  @Field(() => GraphQLSafeInt, { description: 'What can be spent: the buckets’ remaining add up to available.' })
  remaining!: number;
}

@ObjectType({ description: 'A block of credits with one source and an optional expiry.' })
export class CreditGrant {
  @Field(() => ID, {
    description:
      'The grant for its credits now; `<grantId>@<instant>` in creditBalanceAt, so that a client cache never takes the credits it had then for the credits it has now.',
  })
  id!: string;

  @Field(() => ID, { description: 'The grant itself, the same now and at any instant (ledger entries name it).' })
  grantId!: string;

  @Field(() => GrantSourceEnum)
  source!: GrantSource;

  @Field(() => GraphQLSafeInt)
  granted!: number;

  @Field(() => GraphQLSafeInt)
  remaining!: number;

  @Field(() => Date, { nullable: true, description: 'The credits are unavailable from this instant on.' })
  expiresAt?: Date | undefined;

  @Field(() => Date)
  grantedAt!: Date;
}

@ObjectType({ description: "A workspace's shared balance and where it comes from." })
export class WorkspaceCredits {
  @Field(() => ID, {
    description:
      'The workspace id for its balance now, so that clients cache one balance per workspace and live updates replace it; `<workspaceId>@<instant>` for creditBalanceAt, which must not replace it.',
  })
  id!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field(() => Plan, { nullable: true, description: 'The plan of the current billing period, if any.' })
  plan?: Plan | undefined;

  @Field(() => Date, { nullable: true })
  periodStart?: Date | undefined;

  @Field(() => Date, { nullable: true })
  periodEnd?: Date | undefined;

  @Field(() => GraphQLSafeInt, { description: 'What can be spent right now.' })
  available!: number;

  @Field(() => GraphQLSafeInt, {
    description:
      'Credits reserved by running actions (active holds): not available, and not in any bucket’s remaining, until settled, released or expired. Credits held from an earlier billing period’s allowance count here and in no bucket’s held, since the included bucket is the current period’s.',
  })
  held!: number;

  @Field(() => CreditBucket, { description: "The current billing period's allowance." })
  included!: CreditBucket;

  @Field(() => CreditBucket)
  purchased!: CreditBucket;

  @Field(() => CreditBucket)
  promotional!: CreditBucket;

  @Field({ description: 'True when the available credits are below the low-balance threshold.' })
  lowBalance!: boolean;

  @Field(() => GraphQLSafeInt, { description: 'The threshold below which lowBalance is true.' })
  lowBalanceThreshold!: number;

  @Field(() => [CreditGrant], { description: 'Grants with credits left, in the order spends draw them down.' })
  grants!: CreditGrant[];
}
