/**
 * The hold operations' arguments and inputs, with the validation class-validator applies before a
 * resolver runs (BAD_USER_INPUT, naming the field). What depends on the instant (an expiresAt in
 * the future, at most 24 hours ahead) is checked by the decider, and refused with BAD_USER_INPUT too.
 */
import { IsBoolean, IsDate, IsOptional, Length, Max, Min } from 'class-validator';
import { ArgsType, Field, ID, InputType, Int } from 'type-graphql';
import type { HoldStatus } from '../domain/holds';
import { ConsumeCreditsInput, MAX_UNITS, WorkspacePageArgs } from './inputs';
import { CreditHoldStatusEnum } from './types/holds';
import { NotBlank } from './validators';

/** What a spend names, plus how long to hold: a hold is a spend whose cost is known only at the end. */
@InputType({ description: 'Credits to reserve for a long-running action before it starts.' })
export class ReserveCreditsInput extends ConsumeCreditsInput {
  @Field(() => Date, {
    nullable: true,
    description: 'When the hold stops reserving if not settled: default one hour from now, at most 24 hours ahead.',
  })
  @IsOptional()
  @IsDate()
  expiresAt?: Date;
}

@InputType({ description: 'What a held action really cost.' })
export class SettleCreditHoldInput {
  @Field(() => ID)
  @Length(1, 100)
  holdId!: string;

  @Field(() => Int, { description: 'Units the action really used, at the hold’s rate.' })
  @Min(1)
  @Max(MAX_UNITS)
  units!: number;

  @Field({ description: 'A retry of this settle with the same key returns its first result.' })
  @NotBlank(200)
  idempotencyKey!: string;

  @Field({
    defaultValue: false,
    description:
      'When the cost is more than was held: take the difference from the available balance (all or nothing) instead of refusing with HOLD_EXCEEDED.',
  })
  @IsBoolean()
  takeExcessFromBalance!: boolean;
}

@InputType({ description: 'A hold whose action will not run: all its credits go back.' })
export class ReleaseCreditHoldInput {
  @Field(() => ID)
  @Length(1, 100)
  holdId!: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @NotBlank(500)
  reason?: string;
}

@InputType({ description: 'A heartbeat of a running action: keep its hold until expiresAt.' })
export class ExtendCreditHoldInput {
  @Field(() => ID)
  @Length(1, 100)
  holdId!: string;

  @Field(() => Date, {
    description: 'At most 24 hours ahead of now; no later than the current expiry changes nothing.',
  })
  @IsDate()
  expiresAt!: Date;
}

@ArgsType()
export class CreditHoldsArgs extends WorkspacePageArgs {
  @Field(() => CreditHoldStatusEnum, { nullable: true, description: 'Only holds in this status now.' })
  @IsOptional()
  status?: HoldStatus;
}
