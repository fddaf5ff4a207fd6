/**
 * `POST /v1/checkout/sessions`, refused as Stripe refuses it: payment mode (line items, paid on
 * the hosted page) and setup mode (saves a card on a customer for later payments, no payment).
 */
import type { SessionRecord } from './checkout-page';
import {
  invalid,
  isRecord,
  metadataParam,
  optionalInteger,
  optionalString,
  refuseUnknown,
  requiredString,
  type Params,
} from './form';
import { newId, now } from './ids';
import type { SavedCards } from './saved-cards';
import type { DoubleCheckoutSession, DoublePrice } from './types';

type Answer = { status: number; body: unknown };

export interface SessionContext {
  /** Prices configured "in the Dashboard". */
  prices: Map<string, DoublePrice>;
  cards: SavedCards;
  /** Where a created session is kept. */
  sessions: Map<string, SessionRecord>;
  /** The double's base URL, for the hosted page's. */
  baseUrl(): string;
}

const DAY_SECONDS = 24 * 60 * 60;

export function createCheckoutSession(params: Params, context: SessionContext): Answer {
  refuseUnknown(params, [
    'mode',
    'line_items',
    'metadata',
    'payment_intent_data',
    'setup_intent_data',
    'customer',
    'currency',
    'client_reference_id',
    'success_url',
    'cancel_url',
    'expires_at',
    'customer_email',
    'expand',
  ]);
  const mode = requiredString(params, 'mode');
  if (mode === 'setup') return createSetupSession(params, context);
  if (mode !== 'payment') {
    throw invalid(`The Stripe double supports mode=payment and mode=setup, not ${mode}.`, { param: 'mode' });
  }
  if (params.setup_intent_data !== undefined) {
    throw invalid('You can only pass `setup_intent_data` in `setup` mode.', { param: 'setup_intent_data' });
  }
  for (const param of ['customer', 'currency']) {
    if (params[param] !== undefined) {
      throw invalid(`The Stripe double takes \`${param}\` in setup mode only.`, { param });
    }
  }
  const items = params.line_items;
  if (!Array.isArray(items) || items.length === 0) {
    throw invalid('You must provide at least one line item.', { code: 'parameter_missing', param: 'line_items' });
  }
  let currency: string | undefined;
  let total = 0;
  const names: string[] = [];
  items.forEach((item: unknown, index) => {
    const at = `line_items[${index}]`;
    if (!isRecord(item)) throw invalid(`Invalid object: ${at}`, { param: at });
    refuseUnknown(item, ['price', 'price_data', 'quantity'], at);
    const quantity = optionalInteger(item, 'quantity', `${at}[quantity]`);
    if (quantity === undefined || quantity < 1) {
      throw invalid(`Missing required param: ${at}[quantity].`, {
        code: 'parameter_missing',
        param: `${at}[quantity]`,
      });
    }
    let line: { unitAmount: number; currency: string; name: string };
    const priceId = optionalString(item, 'price', `${at}[price]`);
    if (priceId !== undefined) {
      const price = context.prices.get(priceId);
      if (!price) throw invalid(`No such price: '${priceId}'`, { code: 'resource_missing', param: `${at}[price]` });
      line = { unitAmount: price.unitAmount, currency: price.currency, name: price.productName };
    } else {
      const data = item.price_data;
      if (!isRecord(data)) {
        throw invalid(`You must specify either \`price\` or \`price_data\` in ${at}.`, {
          code: 'parameter_missing',
          param: `${at}[price_data]`,
        });
      }
      refuseUnknown(data, ['currency', 'unit_amount', 'product_data'], `${at}[price_data]`);
      const lineCurrency = requiredString(data, 'currency', `${at}[price_data][currency]`);
      if (!/^[a-z]{3}$/.test(lineCurrency)) {
        throw invalid(`Invalid currency: ${lineCurrency}. Stripe currencies are three lowercase letters.`, {
          param: `${at}[price_data][currency]`,
        });
      }
      const unitAmount = optionalInteger(data, 'unit_amount', `${at}[price_data][unit_amount]`);
      if (unitAmount === undefined) {
        throw invalid(`Missing required param: ${at}[price_data][unit_amount].`, {
          code: 'parameter_missing',
          param: `${at}[price_data][unit_amount]`,
        });
      }
      const product = data.product_data;
      const name = isRecord(product)
        ? optionalString(product, 'name', `${at}[price_data][product_data][name]`)
        : undefined;
      if (!name) {
        throw invalid(`Missing required param: ${at}[price_data][product_data][name].`, {
          code: 'parameter_missing',
          param: `${at}[price_data][product_data][name]`,
        });
      }
      line = { unitAmount, currency: lineCurrency, name };
    }
    if (currency !== undefined && currency !== line.currency) {
      throw invalid('All line items must use the same currency.', { param: `${at}[price_data][currency]` });
    }
    currency = line.currency;
    total += line.unitAmount * quantity;
    names.push(line.name);
  });
  if (total <= 0) throw invalid('The Checkout Session total must be greater than zero.', { param: 'line_items' });

  const session: DoubleCheckoutSession = {
    ...sessionBasics(params, context),
    amount_subtotal: total,
    amount_total: total,
    currency: currency ?? 'usd',
    customer: null,
    mode,
    payment_status: 'unpaid',
  };
  context.sessions.set(session.id, {
    session,
    productName: names.join(', '),
    paymentIntentMetadata: intentMetadata(params, 'payment_intent_data'),
    setupIntentMetadata: {},
  });
  return { status: 200, body: session };
}

/**
 * Setup mode saves a card on the customer for later payments: no line items, nothing paid; the
 * SetupIntent is made when the tester saves a card (`completeSetup`), as Stripe makes it then.
 */
function createSetupSession(params: Params, context: SessionContext): Answer {
  for (const param of ['line_items', 'payment_intent_data']) {
    if (params[param] !== undefined) throw invalid(`You can not pass \`${param}\` in \`setup\` mode.`, { param });
  }
  // Stripe needs the currency to know which payment methods to offer.
  const currency = requiredString(params, 'currency');
  if (!/^[a-z]{3}$/.test(currency)) {
    throw invalid(`Invalid currency: ${currency}. Stripe currencies are three lowercase letters.`, {
      param: 'currency',
    });
  }
  const customer = context.cards.customerParam(params);
  const session: DoubleCheckoutSession = {
    ...sessionBasics(params, context),
    amount_subtotal: null,
    amount_total: null,
    currency,
    customer: customer?.id ?? null,
    mode: 'setup',
    payment_status: 'no_payment_required',
  };
  context.sessions.set(session.id, {
    session,
    productName: 'a card for later payments',
    paymentIntentMetadata: {},
    setupIntentMetadata: intentMetadata(params, 'setup_intent_data'),
  });
  return { status: 200, body: session };
}

/** What a Checkout Session has whatever its mode, refused as Stripe refuses it. */
function sessionBasics(params: Params, context: SessionContext) {
  const created = now();
  const expiresAt = optionalInteger(params, 'expires_at') ?? created + DAY_SECONDS;
  if (expiresAt < created + 30 * 60 || expiresAt > created + DAY_SECONDS) {
    throw invalid('expires_at must be between 30 minutes and 24 hours from now.', { param: 'expires_at' });
  }
  const clientReference = optionalString(params, 'client_reference_id');
  if (clientReference !== undefined && clientReference.length > 200) {
    throw invalid('client_reference_id can be at most 200 characters.', { param: 'client_reference_id' });
  }
  const id = newId('cs');
  return {
    id,
    object: 'checkout.session' as const,
    cancel_url: optionalString(params, 'cancel_url') ?? null,
    client_reference_id: clientReference ?? null,
    created,
    customer_email: optionalString(params, 'customer_email') ?? null,
    expires_at: expiresAt,
    livemode: false as const,
    metadata: metadataParam(params, 'metadata'),
    payment_intent: null,
    setup_intent: null,
    status: 'open' as const,
    success_url: optionalString(params, 'success_url') ?? null,
    url: `${context.baseUrl()}/checkout/${id}`,
  };
}

/** `payment_intent_data` / `setup_intent_data`: the metadata the intent the session makes gets. */
function intentMetadata(params: Params, key: string): Record<string, string> {
  const data = params[key];
  if (data === undefined) return {};
  if (!isRecord(data)) throw invalid(`Invalid object: ${key}`, { param: key });
  refuseUnknown(data, ['metadata'], key);
  return metadataParam(data, 'metadata', `${key}[metadata]`);
}
