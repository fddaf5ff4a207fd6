/**
 * The double's hosted checkout pages: paying in payment mode, choosing a test card to save in setup
 * mode. Minimal, but every control has an accessible name so that a browser test (and a newcomer
 * trying the purchase locally) can find it.
 */
import { TEST_CARDS } from './test-cards';
import type { DoubleCheckoutSession } from './types';

/** A session as the double keeps it, with what its page shows. */
export interface SessionRecord {
  session: DoubleCheckoutSession;
  productName: string;
  paymentIntentMetadata: Record<string, string>;
  /** Setup mode: the metadata the SetupIntent gets. */
  setupIntentMetadata: Record<string, string>;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function formatAmount(amount: number, currency: string): string {
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

/** Minimal, but every control has an accessible name so a browser test can find it by role. */
export function checkoutPage(record: SessionRecord, baseUrl: string, problem?: string): string {
  const { session, productName } = record;
  if (session.mode === 'setup') return setupPage(session, baseUrl, problem);
  const heading = `Test checkout: ${productName} — ${formatAmount(session.amount_total ?? 0, session.currency)}`;
  const form = `<form method="post" action="${escapeHtml(`${baseUrl}/checkout/${session.id}/pay`)}">
<button type="submit">Pay</button>
</form>`;
  return page(heading, session, form);
}

/** Setup mode: one radio button per test card, each saying what charging it will do. */
function setupPage(session: DoubleCheckoutSession, baseUrl: string, problem: string | undefined): string {
  const choices = TEST_CARDS.map(
    (card, index) =>
      `<label><input type="radio" name="card" value="${card.number}"${index === 0 ? ' checked' : ''}> ${escapeHtml(
        `${card.brand === 'visa' ? 'Visa' : 'Mastercard'} ${card.number.replace(/(\d{4})(?=\d)/g, '$1 ')}: ${card.label}`,
      )}</label><br>`,
  ).join('\n');
  const form = `${problem ? `<p role="alert">${escapeHtml(problem)}</p>\n` : ''}<form method="post" action="${escapeHtml(
    `${baseUrl}/checkout/${session.id}/save`,
  )}">
<fieldset>
<legend>Test card</legend>
${choices}
</fieldset>
<button type="submit">Save card</button>
</form>`;
  return page('Test checkout: save a card for later payments', session, form);
}

function page(heading: string, session: DoubleCheckoutSession, form: string): string {
  const cancel = session.cancel_url ? `<a href="${escapeHtml(session.cancel_url)}">Cancel</a>` : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(heading)}</title></head>
<body>
<main>
<h1>${escapeHtml(heading)}</h1>
<p>Stripe test double: no real payment is made.</p>
${
  session.status === 'open'
    ? `${form}
${cancel}`
    : `<p role="status">This checkout session is ${escapeHtml(session.status)}.</p>`
}
</main>
</body>
</html>
`;
}
