/**
 * The catalog: the rate card (credits per action), the plans and their included credits, and the
 * credit packages for sale. It is configuration, read once at start from a JSON file
 * (`CATALOG_FILE`, default config/catalog.json) and validated, so a typo fails the start, not a spend.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CREDIT_ACTIONS, type CreditAction } from '../domain/credits';

const positiveInt = z.number().int().positive();
const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'ids are lowercase letters, digits and dashes');

const catalogSchema = z
  .object({
    rates: z.array(z.object({ action: z.enum(CREDIT_ACTIONS), creditsPerUnit: positiveInt, unit: z.string().min(1) })),
    plans: z.array(z.object({ id, name: z.string().min(1), includedCredits: z.number().int().nonnegative() })),
    packages: z.array(
      z.object({
        id,
        name: z.string().min(1),
        credits: positiveInt,
        price: z.object({ amount: z.number().int().nonnegative(), currency: z.string().regex(/^[A-Z]{3}$/) }),
        /** Purchased credits never expire unless a package says so. */
        expiresAfterDays: positiveInt.optional(),
        /** A Stripe Price for this package; without one, Checkout is sent the price inline. */
        stripePriceId: z.string().startsWith('price_').optional(),
      }),
    ),
    lowBalance: z.object({
      minimumCredits: z.number().int().nonnegative(),
      percentOfAllowance: z.number().min(0).max(100),
    }),
  })
  .strict()
  .superRefine((catalog, ctx) => {
    const missing = CREDIT_ACTIONS.filter((action) => !catalog.rates.some((rate) => rate.action === action));
    if (missing.length > 0) ctx.addIssue({ code: 'custom', message: `rates missing for ${missing.join(', ')}` });
    for (const [name, list] of [
      ['plans', catalog.plans],
      ['packages', catalog.packages],
    ] as const) {
      const ids = list.map((item) => item.id);
      if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', message: `duplicate ${name} ids` });
    }
  });

export type CatalogData = z.infer<typeof catalogSchema>;
export type CreditRate = CatalogData['rates'][number];
export type Plan = CatalogData['plans'][number];
export type CreditPackage = CatalogData['packages'][number];

export class Catalog {
  private constructor(readonly data: CatalogData) {}

  static parse(json: unknown, origin = 'catalog'): Catalog {
    const result = catalogSchema.safeParse(json);
    if (!result.success) throw new Error(`Invalid ${origin}: ${z.prettifyError(result.error)}`);
    return new Catalog(result.data);
  }

  static load(file: string): Catalog {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new Error(
        `CATALOG_FILE ${file} could not be read as JSON (${why}): fix the file, or point CATALOG_FILE at config/catalog.json.`,
      );
    }
    return Catalog.parse(json, file);
  }

  get rates(): readonly CreditRate[] {
    return this.data.rates;
  }
  get plans(): readonly Plan[] {
    return this.data.plans;
  }
  get packages(): readonly CreditPackage[] {
    return this.data.packages;
  }
  get lowBalance(): CatalogData['lowBalance'] {
    return this.data.lowBalance;
  }

  rate(action: CreditAction): CreditRate {
    const rate = this.data.rates.find((candidate) => candidate.action === action);
    if (!rate) throw new Error(`No rate for ${action}`); // excluded by validation
    return rate;
  }
  plan(planId: string): Plan | undefined {
    return this.data.plans.find((plan) => plan.id === planId);
  }
  creditPackage(packageId: string): CreditPackage | undefined {
    return this.data.packages.find((pkg) => pkg.id === packageId);
  }
}
