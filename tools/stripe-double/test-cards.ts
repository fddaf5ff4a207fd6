/**
 * Stripe's test card numbers the double knows, and what each does when saved and when charged, as
 * Stripe's testing docs describe them. A number decides a card's behaviour when it is saved; a test
 * can switch it later (`setCardBehaviour`) to play a card that starts declining.
 *
 * Like Stripe, the double checks a card while saving it: `4000000000000002` is declined there and
 * never saved. The card that saves and then declines every charge is `4000000000000341`.
 */
import { createHash } from 'node:crypto';
import type { CardBehaviour, DoubleCard } from './card-types';

export interface TestCard {
  number: string;
  brand: string;
  /** What the hosted page says it does. */
  label: string;
  /** What charging it does once saved. */
  charges: CardBehaviour;
  /** Declined while being saved (Stripe verifies the card): it is never saved. */
  refusedOnSave?: Exclude<CardBehaviour, 'succeed'>;
}

export const DEFAULT_TEST_CARD = '4242424242424242';

export const TEST_CARDS: readonly TestCard[] = [
  { number: DEFAULT_TEST_CARD, brand: 'visa', label: 'charges succeed', charges: 'succeed' },
  { number: '5555555555554444', brand: 'mastercard', label: 'charges succeed', charges: 'succeed' },
  {
    number: '4000000000000341',
    brand: 'visa',
    label: 'saved, then every charge is declined',
    charges: 'generic_decline',
  },
  {
    number: '4000002760003184',
    brand: 'visa',
    label: 'every charge needs 3-D Secure, so charges without the cardholder fail',
    charges: 'authentication_required',
  },
  {
    number: '4000000000000002',
    brand: 'visa',
    label: 'declined, not saved',
    charges: 'generic_decline',
    refusedOnSave: 'generic_decline',
  },
];

export const testCard = (number: string): TestCard | undefined =>
  TEST_CARDS.find((card) => card.number === number.replace(/[\s-]/g, ''));

/** How Stripe words each failure, in `last_payment_error` and in the 402. */
export const FAILURES: Record<
  Exclude<CardBehaviour, 'succeed'>,
  { code: string; declineCode: string; message: string }
> = {
  generic_decline: { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' },
  insufficient_funds: {
    code: 'card_declined',
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  authentication_required: {
    code: 'authentication_required',
    declineCode: 'authentication_required',
    message: 'Your card was declined. This transaction requires authentication.',
  },
  authentication_declined: {
    code: 'card_declined',
    declineCode: 'authentication_required',
    message: 'Your card was declined. This transaction requires authentication.',
  },
};

export const docUrl = (code: string): string => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;

/** The `card` of a PaymentMethod made from a test card. */
export function cardDetails(card: TestCard, expMonth: number, expYear: number): DoubleCard {
  return {
    brand: card.brand,
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
    country: 'US',
    display_brand: card.brand,
    exp_month: expMonth,
    exp_year: expYear,
    fingerprint: createHash('sha256').update(card.number).digest('base64url').slice(0, 16),
    funding: 'credit',
    generated_from: null,
    last4: card.number.slice(-4),
    networks: { available: [card.brand], preferred: null },
    regulated_status: 'unregulated',
    three_d_secure_usage: { supported: true },
    wallet: null,
  };
}
