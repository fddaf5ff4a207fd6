import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import {
  LEDGER_ENTRY_TYPES,
  USAGE_GROUPINGS,
  type LedgerEntryType,
  type UsageGrouping,
} from '../../queries/vocabulary';
import type { CreditAction, GrantSource } from '../../domain/credits';
import { CreditActionEnum, enumOf, GrantSourceEnum } from './enums';
import { Drawdown } from './values';

export const LedgerEntryTypeEnum = enumOf<LedgerEntryType>(LEDGER_ENTRY_TYPES);
registerEnumType(LedgerEntryTypeEnum, { name: 'LedgerEntryType', description: 'What changed the balance.' });

export const UsageGroupByEnum = enumOf<UsageGrouping>(USAGE_GROUPINGS);
registerEnumType(UsageGroupByEnum, {
  name: 'UsageGroupBy',
  description: 'ACTION: per credit action; MEMBER: per team member or service that spent; DAY: per UTC day.',
});

@ObjectType({
  description: 'One change of the balance. The ledger is append-only: corrections are entries of their own.',
})
export class LedgerEntry {
  @Field(() => ID)
  id!: string;

  @Field(() => LedgerEntryTypeEnum)
  type!: LedgerEntryType;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => GraphQLSafeInt, {
    description: 'Positive when credits were added, negative when they left the balance.',
  })
  credits!: number;

  @Field(() => GraphQLSafeInt, {
    description:
      'The balance after this entry: the sum of this and every earlier entry, i.e. the credits left to spend as the ledger has recorded them. Held credits are out of it from their HOLD entry until their hold is settled, released or expires.',
  })
  balanceAfter!: number;

  @Field(() => GrantSourceEnum, {
    nullable: true,
    description: 'The source of the credits, when the entry touched one source.',
  })
  source?: GrantSource | undefined;

  @Field(() => CreditActionEnum, { nullable: true })
  action?: CreditAction | undefined;

  @Field(() => Int, { nullable: true })
  units?: number | undefined;

  @Field(() => ID, { nullable: true, description: 'Who caused the entry (user, service or admin).' })
  actorId?: string | undefined;

  @Field(() => String, {
    nullable: true,
    description: "Spends: the caller's reference. Purchases: the payment reference. Grants: the reason. Expiries: why.",
  })
  reference?: string | undefined;

  @Field(() => [Drawdown], { description: 'The grants the entry changed, and by how many credits each.' })
  grants!: Drawdown[];

  @Field(() => GraphQLSafeInt, { description: 'For spends: credits given back by refunds of this spend.' })
  refundedCredits!: number;

  @Field(() => ID, {
    nullable: true,
    description: 'The hold a HOLD, HOLD_SETTLED, HOLD_RELEASED or HOLD_EXPIRED entry is about.',
  })
  holdId?: string | undefined;

  @Field(() => GraphQLSafeInt, {
    description:
      "Credits the entry spent: a spend's credits, a settled hold's real cost (its `credits` are only what came back); 0 otherwise.",
  })
  spentCredits!: number;
}

@ObjectType({ description: 'A ledger entry and its cursor.' })
export class LedgerEntryEdge {
  @Field()
  cursor!: string;

  @Field(() => LedgerEntry)
  node!: LedgerEntry;
}

@ObjectType({ description: 'Relay cursor connection page information.' })
export class PageInfo {
  @Field({ description: 'Whether older entries follow this page.' })
  hasNextPage!: boolean;

  @Field({
    description:
      'Whether newer entries come before this page: true when the page starts after a cursor (`after`), false for the first page.',
  })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'The cursor of the first edge; null when the page is empty.' })
  startCursor?: string | undefined;

  @Field(() => String, {
    nullable: true,
    description: 'The cursor of the last edge; pass it as `after` for the next page.',
  })
  endCursor?: string | undefined;
}

@ObjectType({ description: 'Ledger entries, newest first. Cursors stay valid while new entries arrive.' })
export class CreditLedgerConnection {
  @Field(() => [LedgerEntryEdge])
  edges!: LedgerEntryEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType({ description: 'Credits spent and number of spends in one bucket, net of refunded spends.' })
export class UsageBucket {
  @Field(() => ID, {
    description:
      '`<workspaceId>/<groupBy>/<from>/<to>/<key>`: a bucket is a total over one range, so the range is part of it.',
  })
  id!: string;

  @Field({ description: 'The action, the member id, or the UTC day (YYYY-MM-DD).' })
  key!: string;

  @Field(() => CreditActionEnum, { nullable: true })
  action?: CreditAction | undefined;

  @Field(() => ID, { nullable: true })
  memberId?: string | undefined;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD (UTC).' })
  day?: string | undefined;

  @Field(() => GraphQLSafeInt)
  credits!: number;

  @Field(() => Int)
  count!: number;
}
