/** RecordPaymentMethodSetup: the customer once, the setup page once, the card once per card. */
import { CARD, cardRemoved, cardReplaced, cardSaved, recordSetup } from '../auto-top-up-builders';
import { at, DAY, WORKSPACE } from '../builders';
import { given } from '../spec';

const started = {
  type: 'PaymentMethodSetupStarted',
  data: {
    workspaceId: WORKSPACE,
    setupId: 'setup-1',
    customerId: null,
    startedBy: 'manager-1',
    startedAt: at(0).toISOString(),
  },
} as const;
const customer = (customerId: string) =>
  ({
    type: 'PaymentCustomerCreated',
    data: { workspaceId: WORKSPACE, customerId, createdAt: at(0).toISOString() },
  }) as const;
const opened = {
  type: 'PaymentMethodSetupOpened',
  data: {
    workspaceId: WORKSPACE,
    setupId: 'setup-1',
    sessionId: 'cs_setup_1',
    url: 'https://pay/cs_setup_1',
    expiresAt: at(DAY).toISOString(),
    openedAt: at(0).toISOString(),
  },
} as const;
const open = recordSetup({
  outcome: 'OPENED',
  setupId: 'setup-1',
  sessionId: 'cs_setup_1',
  url: 'https://pay/cs_setup_1',
  expiresAt: at(DAY),
});
const save = (paymentMethodId = 'pm_1') =>
  recordSetup({ outcome: 'SAVED', setupId: 'setup-1', customerId: 'cus_1', paymentMethodId, card: CARD });

describe('RecordPaymentMethodSetup', () => {
  it('keeps the first customer it is given', () => {
    given(started)
      .when(recordSetup({ outcome: 'CUSTOMER', customerId: 'cus_1' }))
      .then(customer('cus_1'));
    given(started, customer('cus_1'))
      .when(recordSetup({ outcome: 'CUSTOMER', customerId: 'cus_2' }))
      .thenNothing();
  });

  it('records the setup page once, and not for a setup never started', () => {
    given(started).when(open).then(opened);
    given(started, opened).when(open).thenNothing();
    given().when(open).thenNothing();
  });

  it('records a refusal to open it', () =>
    given(started)
      .when(recordSetup({ outcome: 'FAILED', setupId: 'setup-1', error: 'No such customer' }))
      .then({
        type: 'PaymentMethodSetupFailed',
        data: { workspaceId: WORKSPACE, setupId: 'setup-1', error: 'No such customer', failedAt: at(0).toISOString() },
      }));

  it('records the card saved once, however often the provider says so', () => {
    given(started, opened).when(save()).then(cardSaved());
    given(started, opened, cardSaved()).when(save()).thenNothing();
  });

  it('replaces the card with the next one saved', () =>
    given(cardSaved())
      .when(recordSetup({ outcome: 'SAVED', setupId: null, customerId: 'cus_1', paymentMethodId: 'pm_2', card: CARD }))
      .then(cardReplaced('pm_1'), cardSaved({ setupId: null, paymentMethodId: 'pm_2' })));

  describe('a late webhook of an older setup', () => {
    const startedAs = (setupId: string) => ({ ...started, data: { ...started.data, setupId } });
    const saveOf = (setupId: string, paymentMethodId: string) =>
      recordSetup({ outcome: 'SAVED', setupId, customerId: 'cus_1', paymentMethodId, card: CARD });
    const setup2Saved = cardSaved({ setupId: 'setup-2', paymentMethodId: 'pm_2' });

    it('does not replace the card of a setup started after it, whatever order their webhooks came in', () =>
      given(startedAs('setup-1'), startedAs('setup-2'), setup2Saved).when(saveOf('setup-1', 'pm_1')).thenNothing());

    it('does not bring back a card removed after the newer setup saved it', () =>
      given(startedAs('setup-1'), startedAs('setup-2'), setup2Saved, cardRemoved('pm_2'))
        .when(saveOf('setup-1', 'pm_1'))
        .thenNothing());

    it('still saves the card of a setup started after the saved one, and of one whose webhook is the only one', () => {
      given(startedAs('setup-1'), cardSaved({ setupId: 'setup-1' }), startedAs('setup-2'))
        .when(saveOf('setup-2', 'pm_2'))
        .then(cardReplaced('pm_1'), setup2Saved);
      // Setup 2 started but never completed: setup 1's card, completed late, is saved.
      given(startedAs('setup-1'), startedAs('setup-2')).when(saveOf('setup-1', 'pm_1')).then(cardSaved());
    });
  });
});
