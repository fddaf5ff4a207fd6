/**
 * Auto top-up settings as a billing manager proposes them, completed from the catalog: the package
 * (its name, credits, price and expiry) is copied into the settings, so the decision and the
 * consent record exactly the package and price agreed to, whatever the catalog says later.
 */
import type { AutoTopUpSettings } from '../domain/events';
import { notFound } from '../domain/errors';
import type { Catalog } from './catalog';

export interface ProposedAutoTopUp {
  enabled: boolean;
  thresholdCredits: number;
  packageId: string;
  targetCredits: number | null;
  /** Minor units of the package's currency. */
  monthlyLimit: number;
}

export function autoTopUpSettings(catalog: Catalog, proposal: ProposedAutoTopUp): AutoTopUpSettings {
  const creditPackage = catalog.creditPackage(proposal.packageId);
  if (!creditPackage) throw notFound('Credit package', proposal.packageId);
  return {
    enabled: proposal.enabled,
    thresholdCredits: proposal.thresholdCredits,
    packageId: creditPackage.id,
    packageName: creditPackage.name,
    packageCredits: creditPackage.credits,
    packagePrice: { amount: creditPackage.price.amount, currency: creditPackage.price.currency },
    packageExpiresAfterDays: creditPackage.expiresAfterDays ?? null,
    targetCredits: proposal.targetCredits,
    monthlyLimit: { amount: proposal.monthlyLimit, currency: creditPackage.price.currency },
  };
}
