/**
 * The double's hosted checkout page: minimal, but every control has an accessible name so that a
 * browser test (and a newcomer trying the purchase locally) can find it.
 */
import type { DoubleCheckoutSession } from './types';

/** A session as the double keeps it, with what its page shows. */
export interface SessionRecord {
  session: DoubleCheckoutSession;
  productName: string;
  paymentIntentMetadata: Record<string, string>;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function formatAmount(amount: number, currency: string): string {
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

/** Minimal, but every control has an accessible name so a browser test can find it by role. */
export function checkoutPage(record: SessionRecord, baseUrl: string): string {
  const { session, productName } = record;
  const heading = `Test checkout: ${productName} — ${formatAmount(session.amount_total, session.currency)}`;
  const open = session.status === 'open';
  const cancel = session.cancel_url ? `<a href="${escapeHtml(session.cancel_url)}">Cancel</a>` : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(heading)}</title></head>
<body>
<main>
<h1>${escapeHtml(heading)}</h1>
<p>Stripe test double: no real payment is made.</p>
${
  open
    ? `<form method="post" action="${escapeHtml(`${baseUrl}/checkout/${session.id}/pay`)}">
<button type="submit">Pay</button>
</form>
${cancel}`
    : `<p role="status">This checkout session is ${escapeHtml(session.status)}.</p>`
}
</main>
</body>
</html>
`;
}
