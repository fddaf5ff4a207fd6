/** Every reaction's derivation, run by the projection runner beside the read models. */
import type { Projection } from '../projections/projection';
import { holdExpiryDerivation } from './hold-expiry/derivation';
import { paymentsDerivation } from './payments/derivation';
import { reactionProjection } from './reaction-projection';

export const REACTION_DERIVATIONS = [paymentsDerivation, holdExpiryDerivation] as const;

export const REACTION_PROJECTIONS: readonly Projection[] = REACTION_DERIVATIONS.map(reactionProjection);
