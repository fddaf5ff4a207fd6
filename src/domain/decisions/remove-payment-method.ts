/** RemovePaymentMethod: the saved card is no longer charged; auto top-up skips until another is saved. */
import type { RemovePaymentMethod } from '../commands';
import { notFound } from '../errors';
import type { PaymentMethodRemoved } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';

export function removePaymentMethod(
  command: RemovePaymentMethod,
  state: WorkspaceCreditsState,
): PaymentMethodRemoved[] {
  const { workspaceId, removedBy, now } = command.data;
  const saved = state.autoTopUp.card;
  if (!saved) throw notFound('Saved card of workspace', workspaceId);
  return [
    {
      type: 'PaymentMethodRemoved',
      data: { workspaceId, paymentMethodId: saved.paymentMethodId, removedBy, removedAt: iso(now.getTime()) },
    },
  ];
}
