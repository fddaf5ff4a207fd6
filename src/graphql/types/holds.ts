/** The GraphQL shape of holds: a hold, its status, and pages of them (Relay connection). */
import { GraphQLSafeInt } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { CreditAction } from '../../domain/credits';
import { HOLD_STATUSES, type HoldStatus } from '../../domain/holds';
import { Drawdown } from './values';
import { CreditActionEnum, enumOf } from './enums';
import { PageInfo } from './ledger';

export const CreditHoldStatusEnum = enumOf<HoldStatus>(HOLD_STATUSES);
registerEnumType(CreditHoldStatusEnum, {
  name: 'CreditHoldStatus',
  description:
    'ACTIVE: reserving until expiresAt. SETTLED: its real cost was spent, the rest given back. RELEASED: given back unused. EXPIRED: reached expiresAt unsettled, given back from that instant.',
});

@ObjectType({
  description:
    'Credits reserved for a long-running action: nothing else can spend them until it is settled, released or expires.',
})
export class CreditHold {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field(() => CreditActionEnum)
  action!: CreditAction;

  @Field(() => Int, { description: 'Units reserved for.' })
  units!: number;

  @Field(() => GraphQLSafeInt, { description: 'The rate fixed when the hold was made; its settle pays this rate.' })
  creditsPerUnit!: number;

  @Field(() => GraphQLSafeInt, { description: 'Credits held: units × creditsPerUnit.' })
  credits!: number;

  @Field(() => CreditHoldStatusEnum, { description: 'As it stands at the instant of the answer.' })
  status!: HoldStatus;

  @Field(() => Date, { description: 'The hold stops reserving at this instant unless extended.' })
  expiresAt!: Date;

  @Field(() => String, { nullable: true, description: "The caller's own reference, e.g. the org chart run id." })
  reference?: string | undefined;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it was settled, released or expired.' })
  closedAt?: Date | undefined;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'What the action really cost; set once SETTLED.' })
  settledCredits?: number | undefined;

  @Field(() => ID, { nullable: true, description: 'The spend its settle recorded (refundable like any spend).' })
  consumptionId?: string | undefined;

  @Field(() => [Drawdown], { description: 'The grants its credits are held in, in drawdown order.' })
  drawdown!: Drawdown[];
}

@ObjectType({ description: 'A hold and its cursor.' })
export class CreditHoldEdge {
  @Field()
  cursor!: string;

  @Field(() => CreditHold)
  node!: CreditHold;
}

@ObjectType({ description: 'Holds, newest first. Cursors stay valid while new holds arrive.' })
export class CreditHoldConnection {
  @Field(() => [CreditHoldEdge])
  edges!: CreditHoldEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
