/** How the page writes numbers, money, dates and the API's enums. English, like the page. */

const LOCALE = 'en-US';
const integer = new Intl.NumberFormat(LOCALE);

export const formatCredits = (credits) => integer.format(credits);

/** "+2,000" / "−100" for ledger changes. */
export const formatSignedCredits = (credits) =>
  credits > 0 ? `+${integer.format(credits)}` : credits < 0 ? `−${integer.format(-credits)}` : '0';

/** Money comes in the currency's minor unit (cents for USD). */
export function formatMoney({ amount, currency }) {
  const format = new Intl.NumberFormat(LOCALE, { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

/** A ledger entry's money, signed as its credits: "$50.00" paid, "−$10.00" going back. */
export const formatEntryMoney = (money) =>
  money.amount < 0 ? `−${formatMoney({ ...money, amount: -money.amount })}` : formatMoney(money);

/** The price of one credit, with enough digits to be useful ("$0.09"). */
export function formatUnitPrice({ amount, currency }, credits) {
  const format = new Intl.NumberFormat(LOCALE, { style: 'currency', currency, maximumFractionDigits: 4 });
  const digits = new Intl.NumberFormat(LOCALE, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  return format.format(amount / 10 ** (digits ?? 2) / credits);
}

const dateFormat = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });
const dayFormat = new Intl.DateTimeFormat(LOCALE, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const longDayFormat = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeZone: 'UTC' });

const utcDateTimeFormat = new Intl.DateTimeFormat(LOCALE, {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'UTC',
  hourCycle: 'h23',
});

export const formatDate = (iso) => dateFormat.format(new Date(iso));
/** An instant the API sets in UTC (a billing period's end) as "Jan 1, 2027, 00:00 UTC", the same in every time zone. */
export const formatUtcDateTime = (iso) => `${utcDateTimeFormat.format(new Date(iso))} UTC`;
export const formatDateTime = (iso) => dateTimeFormat.format(new Date(iso));
/** A UTC day "YYYY-MM-DD" (the API's usage buckets) as "Nov 12". */
export const formatDay = (day) => dayFormat.format(new Date(`${day}T00:00:00Z`));
export const formatLongDay = (day) => longDayFormat.format(new Date(`${day}T00:00:00Z`));

export const ACTION_LABELS = {
  ORG_CHART_GENERATION: 'Org chart generation',
  ORG_CHART_SYNC: 'Org chart sync',
  BUYING_COMMITTEE_MAPPING: 'Buying committee mapping',
  ACTION_PLAN_GENERATION: 'Action plan generation',
  PERSON_ENRICHMENT: 'Person enrichment',
  OTHER: 'Other',
};
export const actionLabel = (action) => ACTION_LABELS[action] ?? action;

export const ROLE_LABELS = {
  OWNER: 'Owner',
  BILLING_MANAGER: 'Billing manager',
  MEMBER: 'Member',
  SERVICE: 'Service',
};
export const roleLabel = (role) => ROLE_LABELS[role] ?? role;

export const ENTRY_LABELS = {
  CONSUMPTION: 'Spend',
  CONSUMPTION_REFUND: 'Spend refunded',
  EXPIRY: 'Credits expired',
  PLAN_ALLOWANCE: 'Plan allowance',
  PROMOTIONAL_GRANT: 'Promotional credits',
  PURCHASE: 'Credits purchased',
  PURCHASE_REFUND: 'Purchase refunded',
  PURCHASE_REFUND_REVERSAL: 'Refund reversed',
  DISPUTE_OPENED: 'Payment disputed',
  DISPUTE_CLOSED: 'Dispute closed',
  HOLD_RELEASED: 'Hold released',
  HOLD_EXPIRED: 'Hold expired',
};

/** Why credits expired (an EXPIRY entry's reason). */
export const EXPIRY_REASONS = {
  EXPIRED: 'reached their expiry date',
  PERIOD_REPLACED: 'the billing period ended',
  MONEY_RETURNED: 'their money was already returned',
};

/** Where a purchase's refund stands (a PURCHASE_REFUND entry's refundStatus). */
export const REFUND_STATUS_LABELS = {
  REQUESTED: 'refund requested',
  PENDING: 'refund pending',
  REQUIRES_ACTION: 'refund waiting for the buyer',
  SUCCEEDED: 'money returned',
  FAILED: 'refund failed',
  CANCELED: 'refund canceled',
};

export const STATUS_LABELS = {
  PAID: 'Paid',
  PARTIALLY_REFUNDED: 'Partly refunded',
  REFUNDED: 'Refunded',
  DISPUTED: 'Disputed',
  CHARGED_BACK: 'Charged back',
};
