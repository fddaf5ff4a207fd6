import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import type { CreditAction } from '../../domain/credits';
import { CreditActionEnum } from './enums';
import { Money } from './values';

@ObjectType({ description: 'A subscription plan and the credits each billing period includes.' })
export class Plan {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => GraphQLSafeInt)
  includedCredits!: number;
}

@ObjectType({ description: 'A package of credits that can be bought on top of the plan.' })
export class CreditPackage {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => GraphQLSafeInt)
  credits!: number;

  @Field(() => Money)
  price!: Money;
}

@ObjectType({ description: 'What an action costs: creditsPerUnit × units.' })
export class CreditRate {
  @Field(() => ID, { description: 'The action: there is one rate per action.' })
  id!: string;

  @Field(() => CreditActionEnum)
  action!: CreditAction;

  @Field(() => GraphQLSafeInt)
  creditsPerUnit!: number;

  @Field({ description: 'What one unit is, e.g. "org chart" or "person".' })
  unit!: string;
}
