/**
 * Arguments and inputs, with the validation class-validator applies before a resolver runs. A value
 * that fails it is answered with BAD_USER_INPUT and never reaches the command side.
 */
import { IsDate, IsOptional, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { GraphQLError } from 'graphql';
import { ArgsType, Field, ID, InputType, Int } from 'type-graphql';
import type { LedgerEntryType, UsageGrouping } from '../queries/vocabulary';
import type { CreditAction } from '../domain/credits';
import { CreditActionEnum } from './types/enums';
import { LedgerEntryTypeEnum, UsageGroupByEnum } from './types/ledger';
import { DEFAULT_LEDGER_PAGE, MAX_LEDGER_PAGE } from './cursors';
import { IsWorkspaceId, NoControlCharacters, NotBlank } from './validators';

/** Largest number of units one spend may carry; a guard against typos, not a business limit. */
export const MAX_UNITS = 100_000;
export const MAX_GRANT_CREDITS = 10_000_000;

@ArgsType()
export class WorkspaceArgs {
  @Field(() => ID)
  @IsWorkspaceId()
  workspaceId!: string;
}

@ArgsType()
export class EstimateCreditsArgs extends WorkspaceArgs {
  @Field(() => CreditActionEnum)
  action!: CreditAction;

  @Field(() => Int, { defaultValue: 1 })
  @Min(1)
  @Max(MAX_UNITS)
  units!: number;
}

@InputType({ description: 'A spend of credits on one action.' })
export class ConsumeCreditsInput {
  @Field(() => ID)
  @IsWorkspaceId()
  workspaceId!: string;

  @Field(() => CreditActionEnum)
  action!: CreditAction;

  @Field(() => Int, { defaultValue: 1, description: 'How many units of the action, e.g. people enriched.' })
  @Min(1)
  @Max(MAX_UNITS)
  units!: number;

  @Field({ description: 'Unique per spend; a retry with the same key returns the first result and charges nothing.' })
  @NotBlank(200)
  idempotencyKey!: string;

  @Field(() => String, { nullable: true, description: "The caller's own reference, e.g. the org chart run id." })
  @IsOptional()
  @MaxLength(500)
  @NoControlCharacters()
  reference?: string;
}

@InputType({ description: "A billing period's included credits for a workspace's plan." })
export class ApplyPlanAllowanceInput {
  @Field(() => ID)
  @IsWorkspaceId()
  workspaceId!: string;

  @Field(() => ID)
  @Length(1, 64)
  planId!: string;

  @Field(() => Date)
  @IsDate()
  periodStart!: Date;

  @Field(() => Date)
  @IsDate()
  periodEnd!: Date;
}

@InputType({ description: 'A credit package paid outside Stripe (invoice, bank transfer).' })
export class PurchaseCreditsInput {
  @Field(() => ID)
  @IsWorkspaceId()
  workspaceId!: string;

  @Field(() => ID)
  @Length(1, 64)
  packageId!: string;

  @Field({ description: 'The payment (invoice, bank transfer) this purchase records; also its idempotency key.' })
  @NotBlank(200)
  paymentReference!: string;
}

@InputType({ description: 'Promotional or goodwill credits.' })
export class GrantCreditsInput {
  @Field(() => ID)
  @IsWorkspaceId()
  workspaceId!: string;

  @Field(() => Int)
  @Min(1)
  @Max(MAX_GRANT_CREDITS)
  credits!: number;

  @Field()
  @NotBlank(500)
  reason!: string;

  @Field(() => Date, { nullable: true })
  @IsOptional()
  @IsDate()
  expiresAt?: Date;

  @Field()
  @NotBlank(200)
  idempotencyKey!: string;
}

/**
 * A page of one of a workspace's lists (Relay cursors, newest first): the ledger, its holds. `first`
 * has no schema default, so that a list that also pages backwards does not read `last` alone as
 * `first: 50` too; the resolver gives DEFAULT_LEDGER_PAGE when it is not set.
 */
@ArgsType()
export class WorkspacePageArgs extends WorkspaceArgs {
  @Field(() => Int, {
    nullable: true,
    description: `The newest items, at most ${MAX_LEDGER_PAGE}; ${DEFAULT_LEDGER_PAGE} when no page size is given.`,
  })
  @IsOptional()
  @Min(1)
  @Max(MAX_LEDGER_PAGE)
  first?: number;

  @Field(() => String, {
    nullable: true,
    description: 'Only items older than this cursor: the endCursor of the page before, to page forwards.',
  })
  @IsOptional()
  // A purchase's cursor carries its id: a Stripe session id, or a payment reference of up to 200
  // characters (800 bytes of UTF-8), in base64.
  @MaxLength(1200)
  after?: string;
}

@ArgsType()
export class CreditLedgerArgs extends WorkspacePageArgs {
  @Field(() => Int, {
    nullable: true,
    description: `The oldest entries of the range, at most ${MAX_LEDGER_PAGE}, still newest first. Not with first.`,
  })
  @IsOptional()
  @Min(1)
  @Max(MAX_LEDGER_PAGE)
  last?: number;

  @Field(() => String, {
    nullable: true,
    description: 'Only entries newer than this cursor: the startCursor of a page, with last, to page backwards.',
  })
  @IsOptional()
  @MaxLength(100)
  before?: string;

  @Field(() => [LedgerEntryTypeEnum], { nullable: true })
  @IsOptional()
  types?: LedgerEntryType[];

  @Field(() => Date, { nullable: true, description: 'Entries that occurred at or after this instant.' })
  @IsOptional()
  @IsDate()
  from?: Date;

  @Field(() => Date, { nullable: true, description: 'Entries that occurred before this instant.' })
  @IsOptional()
  @IsDate()
  to?: Date;
}

@ArgsType()
export class CreditUsageArgs extends WorkspaceArgs {
  @Field(() => Date)
  @IsDate()
  from!: Date;

  @Field(() => Date)
  @IsDate()
  to!: Date;

  @Field(() => UsageGroupByEnum)
  groupBy!: UsageGrouping;
}

@ArgsType()
export class CreditBalanceAtArgs extends WorkspaceArgs {
  @Field(() => Date)
  @IsDate()
  at!: Date;
}

@InputType({ description: 'The credit package a workspace wants to buy through Stripe Checkout.' })
export class StartCreditPurchaseInput {
  @Field(() => ID)
  @IsWorkspaceId()
  workspaceId!: string;

  @Field(() => ID)
  @Length(1, 64)
  packageId!: string;
}

/**
 * `input`, as every other mutation takes; the loose arguments it first took still work but are
 * deprecated (a deprecated argument must be optional, so both forms are, and one is required here).
 */
@ArgsType()
export class StartCreditPurchaseArgs {
  @Field(() => StartCreditPurchaseInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  input?: StartCreditPurchaseInput;

  @Field(() => ID, { nullable: true, deprecationReason: 'Use input: { workspaceId, packageId }.' })
  @IsOptional()
  @IsWorkspaceId()
  workspaceId?: string;

  @Field(() => ID, { nullable: true, deprecationReason: 'Use input: { workspaceId, packageId }.' })
  @IsOptional()
  @Length(1, 64)
  packageId?: string;
}

/** The purchase asked for, from `input` or from the deprecated arguments, never a mix of both. */
export function startCreditPurchaseInput(args: StartCreditPurchaseArgs): StartCreditPurchaseInput {
  const { input, workspaceId, packageId } = args;
  const given = <T>(value: T | null | undefined): value is T => value !== undefined && value !== null;
  if (input && !given(workspaceId) && !given(packageId)) return input;
  if (!input && given(workspaceId) && given(packageId)) return { workspaceId, packageId };
  throw new GraphQLError('Give input: { workspaceId, packageId } (and not the deprecated arguments).', {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

@InputType({ description: 'Unspent credits of a purchase to take back, and the money to return.' })
export class RefundCreditPurchaseInput {
  @Field(() => ID, {
    description: 'The purchase id, or the purchase’s id in this API (CreditPurchase.id, <workspaceId>/<purchaseId>).',
  })
  @Length(1, 330)
  purchaseId!: string;

  @Field(() => ID, {
    nullable: true,
    description: 'The purchase’s workspace; needed only when the same purchase id exists in several workspaces.',
  })
  @IsOptional()
  @IsWorkspaceId()
  workspaceId?: string;

  @Field(() => Int, { nullable: true, description: 'Unspent credits to take back; default: all of them.' })
  @IsOptional()
  @Min(1)
  @Max(MAX_GRANT_CREDITS)
  credits?: number;

  @Field()
  @NotBlank(500)
  reason!: string;

  @Field({
    nullable: true,
    description:
      'Makes a repeated request return the first refund. Without it, a request with the same purchase, credits and reason returns the refund already made (with a key or without) while Stripe is still making it, or within a day of a refund made; after a failure, a cancel, or a day past a refund made, it makes a new one.',
  })
  @IsOptional()
  @Length(1, 200)
  @NoControlCharacters()
  idempotencyKey?: string;
}

@InputType({ description: 'A spend whose credits go back to the workspace.' })
export class RefundCreditConsumptionInput {
  @Field(() => ID)
  @Length(1, 200)
  consumptionId!: string;

  @Field()
  @NotBlank(500)
  reason!: string;
}

@InputType({ description: 'Which parked work of a reaction to try again.' })
export class RetryReactionWorkInput {
  @Field({ description: 'The reaction, e.g. payments.' })
  @Length(1, 100)
  reaction!: string;

  @Field({ description: 'The parked work item, as parkedReactionWork lists it.' })
  @Length(1, 500)
  key!: string;
}
