/** Every reaction's derivation, run by the projection runner beside the read models. */
import type { Projection } from '../projections/projection';
import { holdExpiryDerivation } from './hold-expiry/derivation';
import { paymentsDerivation } from './payments/derivation';
import { reactionProjection } from './reaction-projection';
import { webhooksDerivation } from './webhooks/derivation';

export const REACTION_DERIVATIONS = [paymentsDerivation, holdExpiryDerivation, webhooksDerivation] as const;

export const REACTION_PROJECTIONS: readonly Projection[] = REACTION_DERIVATIONS.map(reactionProjection);
