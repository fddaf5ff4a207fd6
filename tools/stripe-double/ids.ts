/**
 * What every object the Stripe double makes shares with Stripe's: ids with the type's prefix
 * (`cus_`, `pm_`, `seti_`, `pi_`...) and creation times in seconds since the epoch.
 */
import { randomBytes } from 'node:crypto';

export const now = (): number => Math.floor(Date.now() / 1000);

export const newId = (prefix: string): string => `${prefix}_test_${randomBytes(12).toString('hex')}`;
