/**
 * ExpireCredits: the expiry sweeper's and the hold-expiry reaction's command, which writes down every
 * expiry that is due: holds' (written first by decide.ts, as for every command), then grants'.
 */
import type { ExpireCredits } from '../commands';
import type { CreditsExpired } from '../events';
import type { WorkspaceCreditsState } from '../state';
import { expireDueGrants } from './expiries';

export const expireCredits = (command: ExpireCredits, state: WorkspaceCreditsState): CreditsExpired[] =>
  expireDueGrants(state, command.data.workspaceId, command.data.now.getTime());
