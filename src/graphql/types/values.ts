/**
 * The value types several object types hold: an amount of money, and one grant's part of a change
 * of the balance. Each is declared once, so that a client meets one type for one meaning.
 */
import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import type { GrantSource } from '../../domain/credits';
import { GrantSourceEnum } from './enums';

@ObjectType({ description: 'An amount of money in the integer minor unit of its currency (cents for USD).' })
export class Money {
  @Field(() => GraphQLSafeInt)
  amount!: number;

  @Field({ description: 'ISO 4217 code, e.g. USD.' })
  currency!: string;
}

@ObjectType({
  description:
    "How many credits of one grant a change moved: what a spend drew from it, or what a grant, expiry, refund or dispute added to it or took from it (the change's sign says which way).",
})
export class Drawdown {
  @Field(() => ID)
  grantId!: string;

  @Field(() => GrantSourceEnum)
  source!: GrantSource;

  @Field(() => GraphQLSafeInt)
  credits!: number;
}
