import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import type { GrantSource } from '../../domain/credits';
import { enumOf } from './enums';
import { GrantSourceEnum } from './enums';

export const CREDIT_ALERT_TYPES = [
  'LOW',
  'DEPLETED',
  'RECOVERED',
  'EXPIRING_SOON',
  'WEBHOOK_ENDPOINT_DISABLED',
] as const;
export type CreditAlertType = (typeof CREDIT_ALERT_TYPES)[number];
export const CreditAlertTypeEnum = enumOf<CreditAlertType>(CREDIT_ALERT_TYPES);
registerEnumType(CreditAlertTypeEnum, {
  name: 'CreditAlertType',
  description:
    "LOW: available credits fell below the low-balance threshold. DEPLETED: none are left. RECOVERED: back at the threshold plus its band (recoveryThreshold). EXPIRING_SOON: a grant with credits left expires within the notice period. WEBHOOK_ENDPOINT_DISABLED: one of the workspace's webhook endpoints was disabled because every attempt to it failed for too long.",
});

@ObjectType({
  description:
    "A workspace's alert rules. Crossings are recorded whatever the rules say; the notify flags say which ones are announced (webhooks, the Billing page).",
})
export class CreditAlertRules {
  @Field(() => ID, { description: 'The workspace id.' })
  id!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field(() => GraphQLSafeInt, {
    nullable: true,
    description: 'The threshold in credits, when the workspace set one.',
  })
  lowBalanceCredits!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: "The threshold in percent of the plan's included credits, when the workspace set one.",
  })
  lowBalancePercent!: number | null;

  @Field(() => GraphQLSafeInt, {
    description: "The threshold in force now: the workspace's own, or the catalog's rule when it set none.",
  })
  lowBalanceThreshold!: number;

  @Field(() => GraphQLSafeInt, {
    description:
      'Available credits a workspace that went low must reach to recover: the threshold plus a tenth of it (one credit at least), so a balance wavering about the line is one alert.',
  })
  recoveryThreshold!: number;

  @Field()
  notifyLow!: boolean;

  @Field()
  notifyDepleted!: boolean;

  @Field()
  notifyRecovered!: boolean;

  @Field(() => Int, {
    nullable: true,
    description: 'Days before a grant with credits left expires that it is announced; null: never.',
  })
  expiringSoonDays!: number | null;

  @Field(() => String, { nullable: true, description: 'Who set these rules last; null while they are the defaults.' })
  configuredBy!: string | null;

  @Field(() => Date, { nullable: true })
  configuredAt!: Date | null;
}

@ObjectType({
  description: "An alert the workspace's balance raised: once per crossing, recorded in its event stream.",
})
export class CreditAlert {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  workspaceId!: string;

  @Field(() => CreditAlertTypeEnum)
  type!: CreditAlertType;

  @Field({ description: "Whether the workspace's rules asked for it to be announced when it happened." })
  notified!: boolean;

  @Field(() => GraphQLSafeInt, {
    nullable: true,
    description: 'Credits available after the crossing (LOW, RECOVERED; 0 for DEPLETED).',
  })
  available!: number | null;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'The low-balance threshold at the time.' })
  threshold!: number | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'RECOVERED only: true when the balance left depletion (the band over zero is back) but is still below the threshold and its band; false when it is past them.',
  })
  stillLow!: boolean | null;

  @Field(() => ID, { nullable: true, description: 'The grant about to expire (EXPIRING_SOON).' })
  grantId!: string | null;

  @Field(() => GrantSourceEnum, { nullable: true })
  source!: GrantSource | null;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Credits left in that grant when it was noticed.' })
  credits!: number | null;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => ID, {
    nullable: true,
    description:
      "The webhook endpoint disabled (WEBHOOK_ENDPOINT_DISABLED); null for callers who may not manage the workspace's billing.",
  })
  endpointId!: string | null;

  @Field(() => Date, {
    nullable: true,
    description:
      "Since when every attempt to that endpoint had failed (WEBHOOK_ENDPOINT_DISABLED); null for callers who may not manage the workspace's billing.",
  })
  failingSince!: Date | null;

  @Field(() => Date)
  occurredAt!: Date;
}
