/**
 * Everything that follows the global log on the projection thread: the read models, then the
 * reactions' derivations. `credits replay` rebuilds the same list.
 */
import { PROJECTIONS } from '../../projections';
import type { Projection } from '../../projections/projection';
import { REACTION_PROJECTIONS } from '../../reactions';

export const LOG_FOLLOWERS: readonly Projection[] = [...PROJECTIONS, ...REACTION_PROJECTIONS];
