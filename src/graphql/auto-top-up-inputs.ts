/** The inputs of the auto top-up operations (auto-top-up-resolver.ts). */
import { IsOptional, Length, Max, MaxLength, Min } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { IsWorkspaceId, NoControlCharacters, NotBlank } from './validators';

/** Thresholds, targets and limits beyond this are typos, not settings. */
const MOST = 1_000_000_000;

@InputType({ description: 'Auto top-up settings, as a billing manager proposes them.' })
export class AutoTopUpSettingsInput {
  @Field(() => ID)
  @IsWorkspaceId()
  workspaceId!: string;

  @Field({ description: 'Turn auto top-up on (a saved card is needed) or off.' })
  enabled!: boolean;

  @Field(() => GraphQLSafeInt, { description: 'Top up when available credits fall below this.' })
  @Min(1)
  @Max(MOST)
  thresholdCredits!: number;

  @Field(() => ID, { description: 'The credit package whose price per credit the top-up is charged at.' })
  @NotBlank(200)
  packageId!: string;

  @Field(() => GraphQLSafeInt, {
    nullable: true,
    description:
      'Charge what brings available credits back to this many, in one payment (rounded up to the minor unit); null: one package per top-up.',
  })
  @IsOptional()
  @Min(2)
  @Max(MOST)
  targetCredits?: number | null;

  @Field(() => GraphQLSafeInt, {
    description: "Most money charged by top-ups in a calendar month (UTC), in minor units of the package's currency.",
  })
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  monthlyLimit!: number;
}

@InputType({ description: 'Auto top-up settings and the consent to them (OWNER, BILLING_MANAGER or admin).' })
export class ConfigureAutoTopUpInput extends AutoTopUpSettingsInput {
  @Field(() => String, {
    nullable: true,
    description:
      'The terms shown to the billing manager (from autoTopUpTerms), sent back as consent. Needed to turn auto top-up on (BAD_USER_INPUT without them); when no longer the terms (the price changed), the change is refused with CONFLICT. Not needed to turn it off.',
  })
  @IsOptional()
  @MaxLength(2000)
  acceptedTerms?: string;
}

@InputType({ description: 'Open the Stripe page where the card auto top-up charges is saved (or replaced).' })
export class SavePaymentMethodInput {
  @Field(() => ID)
  @IsWorkspaceId()
  workspaceId!: string;

  @Field(() => String, { nullable: true, description: 'A retry with the same key returns the same page.' })
  @IsOptional()
  @Length(1, 200)
  @NoControlCharacters()
  idempotencyKey?: string;
}

@InputType({ description: 'Remove the saved card; auto top-up cannot charge until another is saved.' })
export class RemovePaymentMethodInput {
  @Field(() => ID)
  @IsWorkspaceId()
  workspaceId!: string;
}
