/**
 * The Stripe objects of saved cards, in Stripe's wire format: the Customer a card is saved on, the
 * PaymentMethod that is the card, the SetupIntent that saved it, and the error a charge of it can
 * fail with. Kept apart from types.ts, which holds the one-off payment's objects and the double's API.
 */

export interface DoubleCustomer {
  id: string;
  object: 'customer';
  address: null;
  balance: number;
  created: number;
  currency: null;
  default_source: null;
  delinquent: boolean;
  description: string | null;
  email: string | null;
  invoice_prefix: string;
  invoice_settings: {
    custom_fields: null;
    default_payment_method: string | null;
    footer: null;
    rendering_options: null;
  };
  livemode: false;
  metadata: Record<string, string>;
  name: string | null;
  phone: string | null;
  preferred_locales: string[];
  shipping: null;
  tax_exempt: 'none';
  test_clock: null;
}

export interface DoubleCard {
  brand: string;
  checks: { address_line1_check: null; address_postal_code_check: null; cvc_check: 'pass' };
  country: string;
  display_brand: string;
  exp_month: number;
  exp_year: number;
  /** The same for every PaymentMethod made from the same number, as Stripe's is within an account. */
  fingerprint: string;
  funding: string;
  generated_from: null;
  last4: string;
  networks: { available: string[]; preferred: null };
  regulated_status: 'unregulated';
  three_d_secure_usage: { supported: true };
  wallet: null;
}

export interface DoublePaymentMethod {
  id: string;
  object: 'payment_method';
  allow_redisplay: 'unspecified';
  billing_details: {
    address: { city: null; country: null; line1: null; line2: null; postal_code: null; state: null };
    email: null;
    name: null;
    phone: null;
    tax_id: null;
  };
  card: DoubleCard;
  created: number;
  /** The customer it is attached to; null once detached (it can never be charged again). */
  customer: string | null;
  customer_account: null;
  livemode: false;
  metadata: Record<string, string>;
  type: 'card';
}

export interface DoubleSetupIntent {
  id: string;
  object: 'setup_intent';
  cancellation_reason: null;
  client_secret: string;
  created: number;
  customer: string | null;
  description: string | null;
  last_setup_error: null;
  latest_attempt: null;
  livemode: false;
  metadata: Record<string, string>;
  next_action: null;
  payment_method: string | null;
  payment_method_types: ['card'];
  status: 'succeeded';
  usage: 'off_session';
}

/**
 * Why a charge of a card failed, as Stripe puts it in `last_payment_error` and in the 402's
 * `error` (which also carries `payment_intent`).
 */
export interface DoublePaymentError {
  type: 'card_error';
  /** `card_declined`, or `authentication_required` when the card needs its holder (3-D Secure). */
  code: string;
  decline_code: string;
  message: string;
  doc_url: string;
  /** The failed charge. */
  charge: string;
  payment_method: DoublePaymentMethod;
  payment_method_type: 'card';
}

/**
 * What charging a saved card does:
 * - `succeed`: the payment succeeds;
 * - `generic_decline`, `insufficient_funds`: the bank declines (402 `card_declined` with that
 *   `decline_code`);
 * - `authentication_required`: the bank wants 3-D Secure, so a charge without the cardholder
 *   (`off_session`) fails with 402 `authentication_required`, and one with the holder present
 *   waits in `requires_action`;
 * - `authentication_declined`: the issuer's soft decline, 402 `card_declined` with the
 *   `decline_code` `authentication_required`: the charge needs its cardholder, said the other way.
 */
export type CardBehaviour =
  'succeed' | 'generic_decline' | 'insufficient_funds' | 'authentication_required' | 'authentication_declined';
