/**
 * Cards saved for later payments: Customers, the PaymentMethods attached to them, and the
 * SetupIntents that saved them (a Checkout Session in setup mode makes one when it completes). Each
 * card keeps how it behaves when charged, which a test can switch to play a card that starts
 * declining. Its API answers and refusals follow Stripe's, wording included where it is known.
 */
import { randomBytes } from 'node:crypto';
import type { CardBehaviour, DoubleCustomer, DoublePaymentMethod, DoubleSetupIntent } from './card-types';
import {
  expanded,
  expansions,
  invalid,
  metadataParam,
  noSuch,
  optionalString,
  refuseUnknown,
  type Params,
} from './form';
import { newId, now } from './ids';
import { cardDetails, DEFAULT_TEST_CARD, FAILURES, TEST_CARDS, testCard } from './test-cards';

type Answer = { status: number; body: unknown };

/** Saving a card on a customer, as Checkout in setup mode does on its page. */
export interface SaveCardRequest {
  customer: string | null;
  /** The session's `setup_intent_data.metadata`. */
  metadata: Record<string, string>;
  /** A test card number (default `4242424242424242`). */
  card?: string;
  expMonth?: number;
  expYear?: number;
}

/** The bank declined the card while it was being saved (or it is no test card): nothing was saved. */
export class CardNotSaved extends Error {}

/** Stripe's words when a payment names a card that left its customer. */
const DETACHED =
  'The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.';

export function savedCards() {
  const customers = new Map<string, DoubleCustomer>();
  const paymentMethods = new Map<string, DoublePaymentMethod>();
  const setupIntents = new Map<string, DoubleSetupIntent>();
  const behaviours = new Map<string, CardBehaviour>();

  function createCustomer(params: Params): Answer {
    refuseUnknown(params, ['description', 'email', 'name', 'phone', 'metadata', 'expand']);
    const id = newId('cus');
    const customer: DoubleCustomer = {
      id,
      object: 'customer',
      address: null,
      balance: 0,
      created: now(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: optionalString(params, 'description') ?? null,
      email: optionalString(params, 'email') ?? null,
      invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
      livemode: false,
      metadata: metadataParam(params, 'metadata'),
      name: optionalString(params, 'name') ?? null,
      phone: optionalString(params, 'phone') ?? null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: 'none',
      test_clock: null,
    };
    customers.set(id, customer);
    return { status: 200, body: customer };
  }

  /** The customer a parameter names; Stripe answers an unknown one with 400. */
  function customerParam(params: Params, key = 'customer'): DoubleCustomer | undefined {
    const id = optionalString(params, key);
    if (id === undefined) return undefined;
    const customer = customers.get(id);
    if (!customer) throw noSuch('customer', id, key, 400);
    return customer;
  }

  function retrieveSetupIntent(id: string, params: Params): Answer {
    const expand = expansions(params, ['customer', 'payment_method']);
    const intent = setupIntents.get(id);
    if (!intent) throw noSuch('setupintent', id, 'intent');
    return {
      status: 200,
      body: {
        ...intent,
        customer: expanded(intent.customer, expand, 'customer', customers),
        payment_method: expanded(intent.payment_method, expand, 'payment_method', paymentMethods),
      },
    };
  }

  function paymentMethod(id: string): DoublePaymentMethod {
    const method = paymentMethods.get(id);
    if (!method) throw noSuch('PaymentMethod', id, 'payment_method');
    return method;
  }

  function detach(id: string, params: Params): Answer {
    refuseUnknown(params, ['expand']);
    const method = paymentMethod(id);
    if (method.customer === null) {
      // Stripe sends no `code` with this one.
      throw invalid('The payment method you provided is not attached to a customer so detachment is impossible.');
    }
    method.customer = null;
    return { status: 200, body: method };
  }

  /** `/v1/customers`, `/v1/setup_intents`, `/v1/payment_methods`; undefined for any other path. */
  function route(method: string, path: string, params: Params): Answer | undefined {
    if (method === 'POST' && path === '/v1/customers') return createCustomer(params);
    const [, collection, id = '', action] =
      /^\/v1\/(customers|setup_intents|payment_methods)\/([^/]+)(?:\/(detach))?$/.exec(path) ?? [];
    if (method === 'GET' && collection === 'customers' && !action) {
      const customer = customers.get(id);
      if (!customer) throw noSuch('customer', id);
      return { status: 200, body: customer };
    }
    if (method === 'GET' && collection === 'setup_intents' && !action) return retrieveSetupIntent(id, params);
    if (method === 'GET' && collection === 'payment_methods' && !action) {
      return { status: 200, body: paymentMethod(id) };
    }
    if (method === 'POST' && collection === 'payment_methods' && action === 'detach') return detach(id, params);
    return undefined;
  }

  /** Saves a test card on a customer and returns the SetupIntent that saved it. */
  function save(request: SaveCardRequest): DoubleSetupIntent {
    const number = request.card ?? DEFAULT_TEST_CARD;
    const card = testCard(number);
    if (!card) {
      const known = TEST_CARDS.map((test) => test.number).join(', ');
      throw new CardNotSaved(`Your card number is incorrect. (The Stripe double knows ${known}.)`);
    }
    if (card.refusedOnSave) {
      throw new CardNotSaved(
        `${FAILURES[card.refusedOnSave].message} (Stripe declines ${card.number} when it is saved; 4000000000000341 saves, then declines every charge.)`,
      );
    }
    const method: DoublePaymentMethod = {
      id: newId('pm'),
      object: 'payment_method',
      allow_redisplay: 'unspecified',
      billing_details: {
        address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
        email: null,
        name: null,
        phone: null,
        tax_id: null,
      },
      card: cardDetails(card, request.expMonth ?? 12, request.expYear ?? new Date().getUTCFullYear() + 3),
      created: now(),
      customer: request.customer,
      customer_account: null,
      livemode: false,
      metadata: {},
      type: 'card',
    };
    paymentMethods.set(method.id, method);
    behaviours.set(method.id, card.charges);
    const id = newId('seti');
    const intent: DoubleSetupIntent = {
      id,
      object: 'setup_intent',
      cancellation_reason: null,
      client_secret: `${id}_secret_${randomBytes(12).toString('hex')}`,
      created: now(),
      customer: request.customer,
      description: null,
      last_setup_error: null,
      latest_attempt: null,
      livemode: false,
      metadata: { ...request.metadata },
      next_action: null,
      payment_method: method.id,
      payment_method_types: ['card'],
      status: 'succeeded',
      usage: 'off_session',
    };
    setupIntents.set(id, intent);
    return intent;
  }

  /** The card a payment may charge, with how it behaves; refused as Stripe refuses it. */
  function chargeable(
    paymentMethodId: string,
    customerId: string | undefined,
  ): { method: DoublePaymentMethod; behaviour: CardBehaviour } {
    const method = paymentMethods.get(paymentMethodId);
    if (!method) throw noSuch('PaymentMethod', paymentMethodId, 'payment_method', 400);
    if (method.customer === null) throw invalid(DETACHED, { param: 'payment_method' });
    if (customerId === undefined) {
      throw invalid(
        `The \`payment_method\` parameter supplied ${paymentMethodId} belongs to the Customer ${method.customer}. Please include the Customer in the \`customer\` parameter on the PaymentIntent.`,
        { param: 'payment_method' },
      );
    }
    if (method.customer !== customerId) {
      throw invalid(
        `The customer does not have a payment method with the ID ${paymentMethodId}. The payment method must be attached to the customer.`,
        { param: 'payment_method' },
      );
    }
    return { method, behaviour: behaviours.get(method.id) ?? 'succeed' };
  }

  /** A card (`pm_...`), or every card attached to a customer (`cus_...`), behaves as told from now on. */
  function setBehaviour(id: string, behaviour: CardBehaviour): DoublePaymentMethod[] {
    const methods = id.startsWith('cus_')
      ? [...paymentMethods.values()].filter((method) => method.customer === id)
      : [paymentMethods.get(id)].filter((method) => method !== undefined);
    if (methods.length === 0) throw new Error(`The Stripe double has no saved card for ${id}`);
    for (const method of methods) behaviours.set(method.id, behaviour);
    return methods;
  }

  return {
    customers,
    paymentMethods,
    setupIntents,
    route,
    customerParam,
    save,
    chargeable,
    setBehaviour,
    behaviourOf: (paymentMethodId: string): CardBehaviour | undefined => behaviours.get(paymentMethodId),
  };
}

export type SavedCards = ReturnType<typeof savedCards>;
