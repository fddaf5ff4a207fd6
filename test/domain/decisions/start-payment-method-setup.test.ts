/** StartPaymentMethodSetup: recorded once per setup, with the customer the workspace already has. */
import { at, WORKSPACE } from '../builders';
import { given } from '../spec';

const start = (setupId = 'setup-1') =>
  ({
    type: 'StartPaymentMethodSetup',
    data: { workspaceId: WORKSPACE, setupId, startedBy: 'manager-1', now: at(0) },
  }) as const;
const started = (customerId: string | null, setupId = 'setup-1') =>
  ({
    type: 'PaymentMethodSetupStarted',
    data: { workspaceId: WORKSPACE, setupId, customerId, startedBy: 'manager-1', startedAt: at(0).toISOString() },
  }) as const;

describe('StartPaymentMethodSetup', () => {
  it('records the setup, with no customer yet for a workspace that never saved a card', () =>
    given().when(start()).then(started(null)));

  it('names the customer the workspace has', () =>
    given({
      type: 'PaymentCustomerCreated',
      data: { workspaceId: WORKSPACE, customerId: 'cus_1', createdAt: at(0).toISOString() },
    })
      .when(start('setup-2'))
      .then(started('cus_1', 'setup-2')));

  it('records a setup once', () => given(started(null)).when(start()).thenNothing());
});
