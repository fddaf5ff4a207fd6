/** The payments reaction's work, as its derivation records it and its performer reads it. */
import type { CheckoutOffer } from '../../src/domain/events';

export const PAYMENTS_REACTION = 'payments';

export type PaymentWork =
  | { kind: 'open-checkout'; workspaceId: string; checkoutId: string; offer: CheckoutOffer; startedBy: string }
  | {
      kind: 'make-refund';
      workspaceId: string;
      refundId: string;
      purchaseId: string;
      paymentIntentId: string;
      amount: number;
      currency: string;
      credits: number;
    }
  | { kind: 'check-refund'; workspaceId: string; refundId: string; paymentIntentId: string; providerRefundId: string }
  | { kind: 'setup-payment-method'; workspaceId: string; setupId: string; customerId: string | null }
  | {
      kind: 'charge-top-up';
      workspaceId: string;
      topUpId: string;
      /** 1 for the first attempt; each failure recorded with a retry time schedules the next. */
      attempt: number;
      customerId: string;
      paymentMethodId: string;
      amount: number;
      currency: string;
      /**
       * The charge this attempt made, once the provider answered that it is still processing it:
       * a later look reads it rather than charging again (the key of a create is kept 24 hours).
       */
      paymentIntentId?: string;
    }
  | { kind: 'detach-payment-method'; workspaceId: string; paymentMethodId: string };

export const checkoutKey = (workspaceId: string, checkoutId: string): string => `checkout:${workspaceId}:${checkoutId}`;
export const refundKey = (workspaceId: string, refundId: string): string => `refund:${workspaceId}:${refundId}`;

export const setupKey = (workspaceId: string, setupId: string): string => `setup:${workspaceId}:${setupId}`;
export const topUpKey = (workspaceId: string, topUpId: string): string => `topup:${workspaceId}:${topUpId}`;
export const detachKey = (workspaceId: string, paymentMethodId: string): string =>
  `detach:${workspaceId}:${paymentMethodId}`;

/** How long a refund the provider reports pending waits before it is looked at again. */
export const PENDING_REFUND_RECHECK_MS = 60 * 60 * 1000;
