/** RecordProviderRefund: the payment provider's word on a refund of a payment (see payment-facts.ts). */
import type { RecordProviderRefund } from '../commands';
import type { WorkspaceCreditsEvent } from '../events';
import type { WorkspaceCreditsState } from '../state';
import { withDueExpiries } from './expiries';
import { decideOrDefer } from './payment-facts';

export const recordProviderRefund = (
  command: RecordProviderRefund,
  state: WorkspaceCreditsState,
): WorkspaceCreditsEvent[] => {
  const { workspaceId, paymentIntentId, refund, recordedBy, now } = command.data;
  return withDueExpiries(
    state,
    workspaceId,
    now.getTime(),
    decideOrDefer(state, workspaceId, paymentIntentId, { kind: 'REFUND', refund }, now.getTime(), recordedBy),
  );
};
