/** RecordCheckoutSession: the provider opened a checkout's payment page, or refused to. Once. */
import type { RecordCheckoutSession } from '../commands';
import { notFound } from '../errors';
import type { WorkspaceCreditsEvent } from '../events';
import { iso } from '../instants';
import type { WorkspaceCreditsState } from '../state';

export function recordCheckoutSession(
  command: RecordCheckoutSession,
  state: WorkspaceCreditsState,
): WorkspaceCreditsEvent[] {
  const data = command.data;
  const checkout = state.checkouts.get(data.checkoutId);
  if (!checkout) throw notFound('Checkout', data.checkoutId);
  if (checkout.status !== 'STARTED') return [];
  const at = iso(data.now.getTime());
  const ids = { workspaceId: data.workspaceId, checkoutId: data.checkoutId };
  return data.outcome === 'OPENED'
    ? [
        {
          type: 'CheckoutSessionOpened',
          data: {
            ...ids,
            sessionId: data.sessionId,
            url: data.url,
            expiresAt: iso(data.expiresAt.getTime()),
            openedAt: at,
          },
        },
      ]
    : [{ type: 'CheckoutSessionFailed', data: { ...ids, error: data.error, failedAt: at } }];
}
