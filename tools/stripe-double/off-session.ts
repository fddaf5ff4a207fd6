/**
 * `POST /v1/payment_intents` with `confirm=true`: charging a saved card, typically with nobody
 * present (`off_session=true`, a merchant-initiated payment such as an auto top-up). The card's
 * behaviour decides the outcome, as Stripe's test cards do:
 * - it succeeds: 200, the intent `succeeded` with a charge, then `payment_intent.succeeded`;
 * - the bank declines, or wants 3-D Secure while the holder is away: a failed charge, the intent
 *   back in `requires_payment_method` with `last_payment_error`, HTTP 402 with a `card_error` that
 *   embeds the intent, then `payment_intent.payment_failed`;
 * - it wants 3-D Secure and the holder is present (no `off_session`): 200, `requires_action`.
 * A 402 is an answer to a request that was executed, so an idempotency key replays it.
 */
import type { DoublePaymentError } from './card-types';
import {
  invalid,
  metadataParam,
  optionalInteger,
  optionalString,
  refuseUnknown,
  requiredString,
  type Params,
} from './form';
import { newId, now } from './ids';
import type { SavedCards } from './saved-cards';
import { docUrl, FAILURES } from './test-cards';
import type { DoubleCharge, DoublePaymentIntent } from './types';

export interface PaymentIntentDeps {
  cards: SavedCards;
  /** Keeps the intent where `GET /v1/payment_intents/:id` finds it. */
  store(intent: DoublePaymentIntent): void;
  /** Makes the intent's charge: succeeded (and the intent with it), or failed with `failure`. */
  charge(intent: DoublePaymentIntent, failure?: { code: string; message: string }): DoubleCharge;
}

/** The answer, and the event Stripe sends about it. */
export interface Confirmation {
  status: number;
  body: unknown;
  intent: DoublePaymentIntent;
  event: 'payment_intent.succeeded' | 'payment_intent.payment_failed' | 'payment_intent.requires_action';
}

const ALLOWED = [
  'amount',
  'currency',
  'customer',
  'payment_method',
  'payment_method_types',
  'confirm',
  'off_session',
  'description',
  'metadata',
  'expand',
];

export function createPaymentIntent(params: Params, deps: PaymentIntentDeps): Confirmation {
  refuseUnknown(params, ALLOWED);
  const amount = optionalInteger(params, 'amount');
  if (amount === undefined) {
    throw invalid('Missing required param: amount.', { code: 'parameter_missing', param: 'amount' });
  }
  const currency = requiredString(params, 'currency').toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}.`, { param: 'currency' });
  if (amount < 1) {
    throw invalid('This value must be greater than or equal to 1.', {
      code: 'parameter_invalid_integer',
      param: 'amount',
    });
  }
  if (currency === 'usd' && amount < 50) {
    throw invalid('Amount must be at least $0.50 usd', { code: 'amount_too_small', param: 'amount' });
  }
  const types = params.payment_method_types;
  if (types !== undefined && !(Array.isArray(types) && types.length === 1 && types[0] === 'card')) {
    throw invalid('The Stripe double only charges cards: payment_method_types must be ["card"].', {
      param: 'payment_method_types',
    });
  }
  const offSession = offSessionParam(params);
  if (optionalString(params, 'confirm') !== 'true') {
    throw invalid(
      'The Stripe double only creates payment intents confirmed at once (confirm=true) with a saved card.',
      { param: 'confirm' },
    );
  }
  const customer = deps.cards.customerParam(params)?.id;
  const paymentMethodId = optionalString(params, 'payment_method');
  if (paymentMethodId === undefined) {
    throw invalid(
      "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
      { code: 'payment_intent_unexpected_state' },
    );
  }
  const { method, behaviour } = deps.cards.chargeable(paymentMethodId, customer);

  const intent = newPaymentIntent({
    amount,
    currency,
    customer: customer ?? null,
    description: optionalString(params, 'description') ?? null,
    metadata: metadataParam(params, 'metadata'),
    payment_method: method.id,
    status: 'requires_payment_method',
  });
  deps.store(intent);

  if (behaviour === 'succeed') {
    deps.charge(intent);
    return { status: 200, body: intent, intent, event: 'payment_intent.succeeded' };
  }
  if (behaviour === 'authentication_required' && !offSession) {
    intent.status = 'requires_action';
    intent.next_action = {
      type: 'use_stripe_sdk',
      use_stripe_sdk: { type: 'three_d_secure_redirect', source: method.id },
    };
    return { status: 200, body: intent, intent, event: 'payment_intent.requires_action' };
  }
  const failure = FAILURES[behaviour];
  const charge = deps.charge(intent, failure);
  const error: DoublePaymentError = {
    type: 'card_error',
    code: failure.code,
    decline_code: failure.declineCode,
    message: failure.message,
    doc_url: docUrl(failure.code),
    charge: charge.id,
    payment_method: structuredClone(method),
    payment_method_type: 'card',
  };
  // Stripe takes the card off an intent whose attempt failed; the error still names it.
  intent.status = 'requires_payment_method';
  intent.payment_method = null;
  intent.last_payment_error = error;
  return {
    status: 402,
    body: { error: { ...error, payment_intent: intent } },
    intent,
    event: 'payment_intent.payment_failed',
  };
}

/** A PaymentIntent as Stripe makes one, from Checkout or to charge a saved card, before any attempt. */
export function newPaymentIntent(
  fields: Pick<
    DoublePaymentIntent,
    'amount' | 'currency' | 'customer' | 'description' | 'metadata' | 'payment_method' | 'status'
  >,
): DoublePaymentIntent {
  return {
    id: newId('pi'),
    object: 'payment_intent',
    amount_received: 0,
    capture_method: 'automatic',
    confirmation_method: 'automatic',
    created: now(),
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    next_action: null,
    payment_method_types: ['card'],
    ...fields,
  };
}

/** `off_session`: `true`, or Stripe's `one_off` / `recurring`; `false` means the holder is present. */
function offSessionParam(params: Params): boolean {
  const value = params.off_session;
  if (value === undefined || value === 'false') return false;
  if (value === 'true' || value === 'one_off' || value === 'recurring') return true;
  throw invalid(`Invalid off_session: ${typeof value === 'string' ? value : 'not a string'}`, { param: 'off_session' });
}
