/** RemovePaymentMethod: the saved card is removed; there must be one. */
import { cardRemoved, cardSaved, removeCard as remove } from '../auto-top-up-builders';
import { given } from '../spec';

describe('RemovePaymentMethod', () => {
  it('removes the saved card', () => given(cardSaved()).when(remove).then(cardRemoved()));

  it('refuses when no card is saved', () => given().when(remove).thenThrows('NOT_FOUND'));
});
