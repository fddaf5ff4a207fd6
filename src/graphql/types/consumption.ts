import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import type { CreditAction } from '../../domain/credits';
import { CreditActionEnum } from './enums';
import { Drawdown } from './values';

@ObjectType({ description: 'One spend of credits, as first recorded (a retry with the same key returns it again).' })
export class CreditConsumption {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field(() => CreditActionEnum)
  action!: CreditAction;

  @Field(() => Int)
  units!: number;

  @Field(() => GraphQLSafeInt)
  credits!: number;

  @Field(() => GraphQLSafeInt, { description: 'Credits available right after this spend.' })
  available!: number;

  @Field(() => [Drawdown], { description: 'The grants that paid for the spend.' })
  drawdown!: Drawdown[];

  @Field(() => String, { nullable: true })
  reference?: string | undefined;

  @Field(() => Date)
  consumedAt!: Date;

  @Field(() => ID, {
    nullable: true,
    description: 'The hold this spend settled, when it is the real cost of a held action.',
  })
  holdId?: string | undefined;
}

@ObjectType({ description: 'What an action would cost now, and whether the balance covers it.' })
export class CreditEstimate {
  @Field(() => ID, { description: '`<workspaceId>/<action>/<units>`: one estimate per question asked.' })
  id!: string;

  @Field(() => CreditActionEnum)
  action!: CreditAction;

  @Field(() => Int)
  units!: number;

  @Field(() => GraphQLSafeInt)
  credits!: number;

  @Field(() => GraphQLSafeInt, { description: 'Credits that can be spent now: held credits are not among them.' })
  available!: number;

  @Field(() => GraphQLSafeInt, { description: 'Credits held by running actions (holds), out of available.' })
  held!: number;

  @Field()
  sufficient!: boolean;
}
