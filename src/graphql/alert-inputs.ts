/** The inputs of the alert operations (alerts-resolver.ts). */
import { IsOptional, Max, MaxLength, Min } from 'class-validator';
import { ArgsType, Field, ID, InputType, Int } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { MAX_EXPIRING_SOON_DAYS } from '../domain/alert-rules';
import { IsWorkspaceId } from './validators';
import { WorkspaceArgs } from './inputs';

export const MAX_ALERTS_PAGE = 100;

@InputType({
  description:
    "A workspace's alert rules, replaced whole: a field left out takes its default. Set the threshold in credits or in percent, or neither for the catalog's rule.",
})
export class ConfigureCreditAlertsInput {
  @Field(() => ID)
  @IsWorkspaceId()
  workspaceId!: string;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Low below this many available credits.' })
  @IsOptional()
  @Min(0)
  @Max(1_000_000_000)
  lowBalanceCredits?: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "Low below this percentage of the plan's included credits; while the workspace has no allowance, the catalog's minimum stands in (except for 0).",
  })
  @IsOptional()
  @Min(0)
  @Max(100)
  lowBalancePercent?: number | null;

  @Field({ defaultValue: true, description: 'Announce falling below the threshold.' })
  notifyLow!: boolean;

  @Field({ defaultValue: true, description: 'Announce running out.' })
  notifyDepleted!: boolean;

  @Field({ defaultValue: true, description: 'Announce climbing back to the threshold.' })
  notifyRecovered!: boolean;

  @Field(() => Int, {
    nullable: true,
    defaultValue: 7,
    description: `Announce a grant with credits left this many days (1 to ${MAX_EXPIRING_SOON_DAYS}) before it expires; null: never.`,
  })
  @IsOptional()
  @Min(1)
  @Max(MAX_EXPIRING_SOON_DAYS)
  expiringSoonDays?: number | null;
}

@ArgsType()
export class CreditAlertsArgs extends WorkspaceArgs {
  @Field(() => Int, { defaultValue: 20, description: `At most ${MAX_ALERTS_PAGE}.` })
  @Min(1)
  @Max(MAX_ALERTS_PAGE)
  first!: number;

  @Field(() => ID, {
    nullable: true,
    description: 'The id of the last alert of the previous page: only older alerts, to page through the history.',
  })
  @IsOptional()
  @MaxLength(200)
  after?: string | null;
}
