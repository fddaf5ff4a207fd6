/**
 * What the hold-expiry reaction must do, derived from the workspaces' streams: for every hold
 * reserved, write its expiry at its `expiresAt` (moved by each extension) unless it is settled,
 * released or expired first. The balance never waits for this (a hold stops reserving at its
 * instant); it makes the ledger and the holds list show a stuck hold's expiry promptly, and the
 * workspace hear of it, instead of at its next command. A `hold.expired` webhook would be derived
 * from the same CreditHoldExpired events.
 */
import { toWorkspaceCreditsEvent } from '../../src/events/workspace-stream';
import type { ReactionDerivation } from '../reaction';
import { HOLD_EXPIRY_REACTION, holdKey, type HoldExpiryWork } from './work';

export const holdExpiryDerivation: ReactionDerivation = {
  name: HOLD_EXPIRY_REACTION,
  version: 1,
  prepare: (_db, work) => (recorded) => {
    const event = toWorkspaceCreditsEvent(recorded);
    switch (event?.type) {
      case 'CreditsReserved':
      case 'CreditHoldExtended': {
        const { workspaceId, holdId, expiresAt } = event.data;
        const payload: HoldExpiryWork = { workspaceId, holdId };
        work.schedule(holdKey(workspaceId, holdId), payload, Date.parse(expiresAt));
        return;
      }
      case 'CreditHoldSettled':
      case 'CreditHoldReleased':
      case 'CreditHoldExpired':
        work.complete(holdKey(event.data.workspaceId, event.data.holdId));
        return;
      default:
        return;
    }
  },
};
