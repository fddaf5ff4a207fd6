import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { CreditAction, GrantSource } from '../../domain/credits';
import { CreditActionEnum, GrantSourceEnum } from './enums';

@ObjectType({ description: 'How many credits of one grant paid for a spend.' })
export class Drawdown {
  @Field(() => ID)
  grantId!: string;

  @Field(() => GrantSourceEnum)
  source!: GrantSource;

  @Field(() => Int)
  credits!: number;
}

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

  @Field(() => Int)
  credits!: number;

  @Field(() => Int, { description: 'Credits available right after this spend.' })
  available!: number;

  @Field(() => [Drawdown])
  drawdown!: Drawdown[];

  @Field(() => String, { nullable: true })
  reference?: string | undefined;

  @Field(() => Date)
  consumedAt!: Date;
}

@ObjectType({ description: 'What an action would cost now, and whether the balance covers it.' })
export class CreditEstimate {
  @Field(() => CreditActionEnum)
  action!: CreditAction;

  @Field(() => Int)
  units!: number;

  @Field(() => Int)
  credits!: number;

  @Field(() => Int)
  available!: number;

  @Field()
  sufficient!: boolean;
}
