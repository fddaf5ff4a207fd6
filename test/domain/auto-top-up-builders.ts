/**
 * Builders for auto top-up's commands and events. The default settings: below 100 credits, buy the
 * 500-credit package for $50.00, at most $200.00 a month; the default card is a Visa ending 4242.
 */
import { autoTopUpTerms } from '../../src/domain/auto-top-up';
import type {
  AutoTopUpChargeOutcome,
  ConfigureAutoTopUp,
  RecordAutoTopUpCharge,
  RecordPaymentMethodSetup,
} from '../../src/domain/commands';
import type {
  AutoTopUpConfigured,
  AutoTopUpFailed,
  AutoTopUpRequested,
  AutoTopUpSettings,
  CreditsPurchased,
  PaymentMethodRemoved,
  PaymentMethodSaved,
  WorkspaceCreditsEvent,
} from '../../src/domain/events';
import { at, WORKSPACE } from './builders';

const iso = (date: Date): string => date.toISOString();
const USD = (amount: number) => ({ amount, currency: 'USD' });

export const SETTINGS: AutoTopUpSettings = {
  enabled: true,
  thresholdCredits: 100,
  packageId: 'credits-500',
  packageName: '500 credits',
  packageCredits: 500,
  packagePrice: USD(5000),
  packageExpiresAfterDays: null,
  targetCredits: null,
  monthlyLimit: USD(20000),
};

/** Settings sent with the terms they make (as shown), unless `acceptedTerms` says otherwise (null: none sent). */
export const configureTopUp = (
  settings: Partial<AutoTopUpSettings> = {},
  f: { now?: Date; acceptedTerms?: string | null } = {},
): ConfigureAutoTopUp => {
  const all = { ...SETTINGS, ...settings };
  const acceptedTerms = f.acceptedTerms === undefined ? autoTopUpTerms(all) : f.acceptedTerms;
  return {
    type: 'ConfigureAutoTopUp',
    data: {
      workspaceId: WORKSPACE,
      settings: all,
      acceptedBy: 'manager-1',
      ...(acceptedTerms !== null && { acceptedTerms }),
      now: f.now ?? at(0),
    },
  };
};

export const topUpConfigured = (settings: Partial<AutoTopUpSettings> = {}, when = at(0)): AutoTopUpConfigured => {
  const all = { ...SETTINGS, ...settings };
  return {
    type: 'AutoTopUpConfigured',
    data: {
      workspaceId: WORKSPACE,
      settings: all,
      consent: { acceptedBy: 'manager-1', acceptedAt: iso(when), terms: autoTopUpTerms(all) },
    },
  };
};

export const CARD = { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 };

export const cardSaved = (
  f: { paymentMethodId?: string; setupId?: string | null; when?: Date } = {},
): PaymentMethodSaved => ({
  type: 'PaymentMethodSaved',
  data: {
    workspaceId: WORKSPACE,
    setupId: f.setupId === undefined ? 'setup-1' : f.setupId,
    customerId: 'cus_1',
    paymentMethodId: f.paymentMethodId ?? 'pm_1',
    card: CARD,
    savedAt: iso(f.when ?? at(0)),
  },
});

/** A billing manager removes the saved card. */
export const removeCard = {
  type: 'RemovePaymentMethod',
  data: { workspaceId: WORKSPACE, removedBy: 'manager-1', now: at(0) },
} as const;

/** The saved card removed, by a billing manager or (cardReplaced) by a newly saved one. */
export const cardRemoved = (paymentMethodId = 'pm_1', removedBy = 'manager-1', when = at(0)): PaymentMethodRemoved => ({
  type: 'PaymentMethodRemoved',
  data: { workspaceId: WORKSPACE, paymentMethodId, removedBy, removedAt: iso(when) },
});

/** The card a newly saved one replaced, removed in the same append. */
export const cardReplaced = (paymentMethodId = 'pm_1', when = at(0)): PaymentMethodRemoved =>
  cardRemoved(paymentMethodId, 'replaced-by-new-card', when);

export const recordSetup = (
  data: RecordPaymentMethodSetup['data'] extends infer D
    ? D extends unknown
      ? Omit<D, 'workspaceId' | 'now'>
      : never
    : never,
  now = at(0),
): RecordPaymentMethodSetup => ({ type: 'RecordPaymentMethodSetup', data: { workspaceId: WORKSPACE, ...data, now } });

export const topUpRequested = (f: Partial<AutoTopUpRequested['data']> & { when?: Date } = {}): AutoTopUpRequested => {
  const { when, ...fields } = f;
  return {
    type: 'AutoTopUpRequested',
    data: {
      workspaceId: WORKSPACE,
      topUpId: 'topup-1',
      credits: 500,
      amount: USD(5000),
      packageId: 'credits-500',
      packageName: '500 credits',
      expiresAfterDays: null,
      customerId: 'cus_1',
      paymentMethodId: 'pm_1',
      available: 50,
      month: iso(when ?? at(0)).slice(0, 7),
      requestedAt: iso(when ?? at(0)),
      ...fields,
    },
  };
};

export const rearmed = (available: number, when = at(0)): WorkspaceCreditsEvent => ({
  type: 'AutoTopUpRearmed',
  data: { workspaceId: WORKSPACE, available, rearmedAt: iso(when) },
});

export const skipped = (
  reason: 'MONTHLY_LIMIT' | 'NO_PAYMENT_METHOD',
  available: number,
  amount = 5000,
  when = at(0),
): WorkspaceCreditsEvent => ({
  type: 'AutoTopUpSkipped',
  data: { workspaceId: WORKSPACE, reason, available, amount: USD(amount), skippedAt: iso(when) },
});

export const RETRY = { maxAttempts: 3, firstDelayMs: 60_000 };

export const charge = (
  outcome: AutoTopUpChargeOutcome,
  f: { topUpId?: string; attempt?: number; now?: Date; grantId?: string } = {},
): RecordAutoTopUpCharge => ({
  type: 'RecordAutoTopUpCharge',
  data: {
    workspaceId: WORKSPACE,
    topUpId: f.topUpId ?? 'topup-1',
    attempt: f.attempt ?? 1,
    outcome,
    grantId: f.grantId ?? 'topup-grant-1',
    retry: RETRY,
    now: f.now ?? at(0),
  },
});

export const succeeded = (paymentIntentId = 'pi_top_1', amount = 5000): AutoTopUpChargeOutcome => ({
  status: 'SUCCEEDED',
  paymentIntentId,
  amountReceived: USD(amount),
});

export const declined = (paymentIntentId: string | null = 'pi_top_1'): AutoTopUpChargeOutcome => ({
  status: 'FAILED',
  paymentIntentId,
  reason: 'DECLINED',
  code: 'card_declined',
  message: 'Your card was declined.',
});

export const topUpFailed = (f: Partial<AutoTopUpFailed['data']> & { when?: Date } = {}): AutoTopUpFailed => {
  const { when, ...fields } = f;
  return {
    type: 'AutoTopUpFailed',
    data: {
      workspaceId: WORKSPACE,
      topUpId: 'topup-1',
      attempt: 1,
      paymentIntentId: 'pi_top_1',
      reason: 'DECLINED',
      code: 'card_declined',
      message: 'Your card was declined.',
      retryAt: null,
      failedAt: iso(when ?? at(0)),
      ...fields,
    },
  };
};

/** The purchase a paid top-up is credited as. */
export const topUpPurchased = (
  f: {
    topUpId?: string;
    paymentIntentId?: string;
    grantId?: string;
    credits?: number;
    amount?: number;
    when?: Date;
  } = {},
): CreditsPurchased => ({
  type: 'CreditsPurchased',
  data: {
    workspaceId: WORKSPACE,
    grantId: f.grantId ?? 'topup-grant-1',
    purchaseId: f.paymentIntentId ?? 'pi_top_1',
    packageId: 'credits-500',
    packageName: '500 credits',
    credits: f.credits ?? 500,
    price: USD(f.amount ?? 5000),
    payment: {
      provider: 'STRIPE',
      autoTopUpId: f.topUpId ?? 'topup-1',
      paymentIntentId: f.paymentIntentId ?? 'pi_top_1',
    },
    purchasedBy: 'auto-top-up',
    purchasedAt: iso(f.when ?? at(0)),
  },
});
