/** RemovePaymentMethod: the saved card is removed; there must be one. */
import { cardSaved } from '../auto-top-up-builders';
import { at, WORKSPACE } from '../builders';
import { given } from '../spec';

const remove = {
  type: 'RemovePaymentMethod',
  data: { workspaceId: WORKSPACE, removedBy: 'manager-1', now: at(0) },
} as const;

describe('RemovePaymentMethod', () => {
  it('removes the saved card', () =>
    given(cardSaved())
      .when(remove)
      .then({
        type: 'PaymentMethodRemoved',
        data: {
          workspaceId: WORKSPACE,
          paymentMethodId: 'pm_1',
          removedBy: 'manager-1',
          removedAt: at(0).toISOString(),
        },
      }));

  it('refuses when no card is saved', () => given().when(remove).thenThrows('NOT_FOUND'));
});
