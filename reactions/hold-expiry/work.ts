/** The hold-expiry reaction's work, as its derivation records it and its performer reads it. */
export const HOLD_EXPIRY_REACTION = 'hold-expiry';

/** Who writes a stuck hold's expiry, as the ledger shows it. */
export const HOLD_EXPIRY_ACTOR = 'hold-expiry';

export interface HoldExpiryWork {
  workspaceId: string;
  holdId: string;
}

export const holdKey = (workspaceId: string, holdId: string): string => `hold:${workspaceId}:${holdId}`;
