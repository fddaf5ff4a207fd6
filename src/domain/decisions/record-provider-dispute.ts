/** RecordProviderDispute: the payment provider's word on a dispute of a payment (see payment-facts.ts). */
import type { RecordProviderDispute } from '../commands';
import type { WorkspaceCreditsEvent } from '../events';
import type { WorkspaceCreditsState } from '../state';
import { withDueExpiries } from './expiries';
import { decideOrDefer } from './payment-facts';

export const recordProviderDispute = (
  command: RecordProviderDispute,
  state: WorkspaceCreditsState,
): WorkspaceCreditsEvent[] => {
  const { workspaceId, paymentIntentId, dispute, recordedBy, now } = command.data;
  return withDueExpiries(
    state,
    workspaceId,
    now.getTime(),
    decideOrDefer(state, workspaceId, paymentIntentId, { kind: 'DISPUTE', dispute }, now.getTime(), recordedBy),
  );
};
