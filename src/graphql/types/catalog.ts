import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { CreditAction } from '../../domain/credits';
import { CreditActionEnum } from './enums';

@ObjectType({ description: 'An amount of money in the integer minor unit of its currency (cents for USD).' })
export class Money {
  @Field(() => Int)
  amount!: number;

  @Field({ description: 'ISO 4217 code, e.g. USD.' })
  currency!: string;
}

@ObjectType({ description: 'A subscription plan and the credits each billing period includes.' })
export class Plan {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => Int)
  includedCredits!: number;
}

@ObjectType({ description: 'A package of credits that can be bought on top of the plan.' })
export class CreditPackage {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => Int)
  credits!: number;

  @Field(() => Money)
  price!: Money;
}

@ObjectType({ description: 'What an action costs: creditsPerUnit × units.' })
export class CreditRate {
  @Field(() => CreditActionEnum)
  action!: CreditAction;

  @Field(() => Int)
  creditsPerUnit!: number;

  @Field({ description: 'What one unit is, e.g. "org chart" or "person".' })
  unit!: string;
}
