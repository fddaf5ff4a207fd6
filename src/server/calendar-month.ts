/**
 * The UTC calendar month an instant falls in, as a billing period. Development helpers (the demo
 * session, `credits seed`) grant "this month's" allowance, so they work on any date without the
 * caller working out a period that has not ended yet.
 */
export interface BillingPeriod {
  periodStart: Date;
  periodEnd: Date;
}

const startOfUtcMonth = (instant: Date, monthsLater = 0): Date =>
  new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth() + monthsLater, 1));

export const calendarMonthOf = (instant: Date): BillingPeriod => ({
  periodStart: startOfUtcMonth(instant),
  periodEnd: startOfUtcMonth(instant, 1),
});
