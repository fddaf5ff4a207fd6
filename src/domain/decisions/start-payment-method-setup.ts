/**
 * StartPaymentMethodSetup: a billing manager starts saving (or replacing) the card auto top-up
 * charges. The request is recorded before the provider is asked for a setup page (the payments
 * reaction's job), with the workspace's customer at the provider when it has one already.
 */
import type { StartPaymentMethodSetup } from '../commands';
import type { PaymentMethodSetupStarted } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';

export function startPaymentMethodSetup(
  command: StartPaymentMethodSetup,
  state: WorkspaceCreditsState,
): PaymentMethodSetupStarted[] {
  const { workspaceId, setupId, startedBy, now } = command.data;
  if (state.autoTopUp.setups.has(setupId)) return [];
  return [
    {
      type: 'PaymentMethodSetupStarted',
      data: {
        workspaceId,
        setupId,
        customerId: state.autoTopUp.customerId ?? null,
        startedBy,
        startedAt: iso(now.getTime()),
      },
    },
  ];
}
