import { registerEnumType } from 'type-graphql';
import { CREDIT_ACTIONS, GRANT_SOURCES, type CreditAction, type GrantSource } from '../../domain/credits';

export const enumOf = <T extends string>(values: readonly T[]): Record<T, T> =>
  Object.fromEntries(values.map((value) => [value, value])) as Record<T, T>;

export const CreditActionEnum = enumOf<CreditAction>(CREDIT_ACTIONS);
export const GrantSourceEnum = enumOf<GrantSource>(GRANT_SOURCES);

registerEnumType(CreditActionEnum, {
  name: 'CreditAction',
  description: 'Something a team member does that costs credits.',
});
registerEnumType(GrantSourceEnum, {
  name: 'GrantSource',
  description:
    'Where credits came from. Among grants that expire at the same time, spends draw INCLUDED first, then PROMOTIONAL, then PURCHASED.',
});
