import { Authorized, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import {
  LEDGER_ENTRY_TYPES,
  USAGE_GROUPINGS,
  type LedgerEntryType,
  type UsageGrouping,
} from '../../queries/vocabulary';
import type { CreditAction, GrantSource } from '../../domain/credits';
import type { RefundStatus } from '../../domain/events';
import { ENTRY_MONEY } from '../guards';
import { CreditActionEnum, enumOf, GrantSourceEnum } from './enums';
import { MONEY_ACCESS, RefundStatusEnum } from './purchases';
import { Drawdown, Money } from './values';

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
    description:
      "Spends: the caller's reference. Purchases and their refunds and disputes: the purchase id. Plan allowances: the plan id. Grants: the reason. Expiries: why. Spend refunds: the spend's id. Kept as it was: consumptionId, purchaseId, planId and reason say the same by name.",
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

  @Field(() => ID, {
    nullable: true,
    description:
      'CONSUMPTION: this spend, the id `refundCreditConsumption` takes (refundedCredits says what was already given back). HOLD_SETTLED: the spend the hold’s real cost was recorded as. CONSUMPTION_REFUND: the spend given back.',
  })
  consumptionId?: string | undefined;

  @Field(() => ID, {
    nullable: true,
    description:
      'The purchase the entry is about, its CreditPurchase.purchaseId (with the workspace, what refundCreditPurchase takes): on PURCHASE, PURCHASE_REFUND, PURCHASE_REFUND_REVERSAL, DISPUTE_OPENED and DISPUTE_CLOSED entries.',
  })
  purchaseId?: string | undefined;

  @Field(() => ID, { nullable: true, description: 'The credit package bought, on the same entries as purchaseId.' })
  packageId?: string | undefined;

  @Field(() => String, {
    nullable: true,
    description: 'The package’s name as the catalog named it when it was bought, e.g. "2,000 credits".',
  })
  packageName?: string | undefined;

  @Field(() => ID, {
    nullable: true,
    description: 'PURCHASE_REFUND and PURCHASE_REFUND_REVERSAL: the refund (CreditRefund.id).',
  })
  refundId?: string | undefined;

  @Field(() => RefundStatusEnum, {
    nullable: true,
    description:
      'PURCHASE_REFUND: where the refund stands now (it follows the provider’s answers). PURCHASE_REFUND_REVERSAL: FAILED or CANCELED.',
  })
  refundStatus?: RefundStatus | undefined;

  @Field(() => ID, {
    nullable: true,
    description: 'DISPUTE_OPENED and DISPUTE_CLOSED: the dispute (PurchaseDispute.id).',
  })
  disputeId?: string | undefined;

  @Field(() => ID, { nullable: true, description: 'PLAN_ALLOWANCE: the plan (Plan.id).' })
  planId?: string | undefined;

  @Field(() => String, {
    nullable: true,
    description: 'PLAN_ALLOWANCE: the plan’s name as the catalog named it when the allowance was applied.',
  })
  planName?: string | undefined;

  @Field(() => String, {
    nullable: true,
    description:
      'Why: the reason given for a PROMOTIONAL_GRANT, a PURCHASE_REFUND, a CONSUMPTION_REFUND or a HOLD_RELEASED; why a refund failed (PURCHASE_REFUND_REVERSAL); the bank’s reason for a dispute (DISPUTE_OPENED); EXPIRED, PERIOD_REPLACED or MONEY_RETURNED for an EXPIRY.',
  })
  reason?: string | undefined;

  @Field(() => Money, {
    name: 'amount',
    nullable: true,
    description: `The money that moved with the entry, signed as its credits: paid (PURCHASE), to be returned (PURCHASE_REFUND), kept after all (PURCHASE_REFUND_REVERSAL), lost to a chargeback (DISPUTE_CLOSED); null on other entries, for anyone. On those entries: ${MONEY_ACCESS}`,
  })
  @Authorized(ENTRY_MONEY)
  money?: Money | undefined;
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
  @Field({
    description:
      'Whether older entries follow this page: more within the range with `first`; with `last`, whether any lie at or past `before` (false without `before`).',
  })
  hasNextPage!: boolean;

  @Field({
    description:
      'Whether newer entries come before this page: more within the range with `last`; with `first`, whether any lie at or before `after` (false without `after`).',
  })
  hasPreviousPage!: boolean;

  @Field(() => String, {
    nullable: true,
    description:
      'The cursor of the first edge; pass it as `before` (with `last`) for the newer page. Null when the page is empty.',
  })
  startCursor?: string | undefined;

  @Field(() => String, {
    nullable: true,
    description:
      'The cursor of the last edge; pass it as `after` (with `first`) for the older page. Null when the page is empty.',
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
