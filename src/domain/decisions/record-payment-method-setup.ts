/**
 * RecordPaymentMethodSetup: what became of saving a card, from the payments reaction (the customer
 * created, the setup page opened or refused) and the provider's webhook (the card saved). Each fact
 * is recorded once however often it arrives; the workspace keeps the first customer it was given,
 * and the card of the setup started last among those saved, in whatever order their webhooks come.
 */
import type { RecordPaymentMethodSetup } from '../commands';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';

/** Who removed a card that a newly saved card replaced. */
export const REPLACED_BY = 'replaced-by-new-card';

export function recordPaymentMethodSetup(
  command: RecordPaymentMethodSetup,
  state: WorkspaceCreditsState,
): WorkspaceCreditsEvent[] {
  const data = command.data;
  const { workspaceId } = data;
  const at = iso(data.now.getTime());
  switch (data.outcome) {
    case 'CUSTOMER':
      if (state.autoTopUp.customerId !== undefined) return [];
      return [{ type: 'PaymentCustomerCreated', data: { workspaceId, customerId: data.customerId, createdAt: at } }];
    case 'OPENED':
      if (state.autoTopUp.setups.get(data.setupId) !== 'STARTED') return [];
      return [
        {
          type: 'PaymentMethodSetupOpened',
          data: {
            workspaceId,
            setupId: data.setupId,
            sessionId: data.sessionId,
            url: data.url,
            expiresAt: iso(data.expiresAt.getTime()),
            openedAt: at,
          },
        },
      ];
    case 'FAILED':
      if (state.autoTopUp.setups.get(data.setupId) !== 'STARTED') return [];
      return [
        {
          type: 'PaymentMethodSetupFailed',
          data: { workspaceId, setupId: data.setupId, error: data.error, failedAt: at },
        },
      ];
    case 'SAVED': {
      if (data.setupId !== null && state.autoTopUp.setups.get(data.setupId) === 'SAVED') return [];
      // A setup started after this one saved its card: that card is the later choice, whatever
      // order their webhooks came in, and removing it now would charge (and keep) the card the
      // billing manager replaced or removed since.
      if (data.setupId !== null && savedAfter(state.autoTopUp.setups, data.setupId)) return [];
      const previous = state.autoTopUp.card;
      if (previous?.paymentMethodId === data.paymentMethodId) return [];
      // The card it replaces is removed, so that the provider forgets it too.
      const replaced: WorkspaceCreditsEvent[] = previous
        ? [
            {
              type: 'PaymentMethodRemoved',
              data: { workspaceId, paymentMethodId: previous.paymentMethodId, removedBy: REPLACED_BY, removedAt: at },
            },
          ]
        : [];
      return [
        ...replaced,
        {
          type: 'PaymentMethodSaved',
          data: {
            workspaceId,
            setupId: data.setupId,
            customerId: data.customerId,
            paymentMethodId: data.paymentMethodId,
            card: data.card,
            savedAt: at,
          },
        },
      ];
    }
  }
}

/**
 * Whether a setup started after `setupId` saved its card. Setups are kept in the order they were
 * started (a Map keeps insertion order, and the state's snapshot keeps its entries in order).
 */
function savedAfter(setups: WorkspaceCreditsState['autoTopUp']['setups'], setupId: string): boolean {
  let later = false;
  for (const [id, status] of setups) {
    if (later && status === 'SAVED') return true;
    if (id === setupId) later = true;
  }
  return false;
}
