/**
 * The Billing page: sign in, the balance breakdown, buying a credit package through Stripe
 * Checkout and coming back, purchases, usage per day by action, and the ledger. Everything comes
 * from the public GraphQL API (./operations.js); live changes arrive over graphql-ws (./api.js).
 */
import { GraphQLRequestError, request, subscribe } from './api.js';
import { autoTopUpSection } from './auto-top-up.js';
import { notificationsSection } from './notifications.js';
import { dayRange, renderUsageChart, usageByDayAndAction } from './chart.js';
import {
  ENTRY_LABELS,
  EXPIRY_REASONS,
  REFUND_STATUS_LABELS,
  STATUS_LABELS,
  actionLabel,
  formatCredits,
  formatDate,
  formatDateTime,
  formatEntryMoney,
  formatMoney,
  formatSignedCredits,
  formatUtcDateTime,
  formatUnitPrice,
  roleLabel,
} from './format.js';
import {
  ACTIVE_HOLDS,
  BILLING_OVERVIEW,
  BILLING_REFRESH,
  CREDITS_CHANGED,
  CREDIT_LEDGER,
  CREDIT_PURCHASES,
  REFUND_SPEND,
  SPENDS_IN_RANGE,
  START_CREDIT_PURCHASE,
  USAGE_BY_DAY,
} from './operations.js';

const TOKEN_KEY = 'credits.billing.token';
const LEDGER_PAGE_SIZE = 10;
const SPENDS_PAGE_SIZE = 200; // the API's maximum for `first`
const SPENDS_MAX_PAGES = 50;
/** While a payment waits for Stripe's webhook, a safety-net refetch in case live updates are down. */
const CHECKOUT_RECHECK_MS = 15_000;
/**
 * How long the page waits for Stripe's confirmation before it says the payment is not known yet
 * (a webhook comes within seconds; later, or a session id that is not this workspace's, it stops
 * waiting and says how to check; a confirmation that still comes is shown).
 */
const CHECKOUT_WAIT_MS = 3 * 60_000;

const $ = (id) => document.getElementById(id);

const state = {
  /** { token, claims: { sub, workspaceId, role, admin, exp } } */
  session: undefined,
  balance: undefined,
  packages: [],
  purchases: [],
  /** Cursors of the ledger pages seen so far: cursors[i] is the `after` of page i. */
  ledgerCursors: [null],
  ledgerIndex: 0,
  usageDays: 14,
  /** { sessionId, status: 'waiting' | 'confirmed' } after Stripe sent the buyer back. */
  checkout: undefined,
  live: undefined,
  liveStatus: 'closed',
  checkoutTimer: undefined,
  refreshTimer: undefined,
  paymentsEnabled: false,
  /** Whether the alert shown is cleared by the next refresh that succeeds (see handleError). */
  alertPasses: false,
};

// ---------------------------------------------------------------------------------------------
// Errors and announcements

/** What a person should read for an error code (extensions.code). */
function friendlyError(error) {
  switch (error?.code) {
    case 'UNAUTHENTICATED':
      return 'Your session has expired, sign in again.';
    case 'PAYMENTS_NOT_CONFIGURED':
      return 'Buying credits is not available on this server.';
    case 'FORBIDDEN':
      return 'You do not have permission to do this in this workspace.';
    case 'PAYMENT_PROVIDER_ERROR':
      return 'The payment provider could not start the checkout. Nothing was charged; try again in a moment.';
    case 'NETWORK_ERROR':
      return 'The server could not be reached. Check your connection and try again.';
    case 'SERVICE_UNAVAILABLE':
      return 'The server is restarting. Try again in a moment.';
    case 'NOT_FOUND':
      return 'That credit package no longer exists. Reload the page to see the current ones.';
    case 'RATE_LIMITED': {
      const seconds = error.retryAfterSeconds;
      const wait = seconds ? `Wait ${seconds} ${seconds === 1 ? 'second' : 'seconds'}` : 'Wait a moment';
      return `Too many requests came from this sign-in just now. ${wait}, then try again.`;
    }
    case 'STORE_UNAVAILABLE':
      return (
        'The server cannot record anything just now. If you were saving a change, it may or may not have been ' +
        'saved: check the page once it shows the latest, then try again if needed.'
      );
    case 'READ_MODEL_UNAVAILABLE':
      return 'The server is rebuilding this information. It is back in a moment: try again then.';
    case 'CONFLICT':
      return 'Someone else changed this at the same time. The page now shows what is saved: check it, then try again.';
    case 'BAD_USER_INPUT':
      return inputRefused(error.message);
    case 'HTTP_ERROR':
      return `The server answered with an error${error.status ? ` (HTTP ${error.status})` : ''}. Try again in a moment.`;
    default:
      return `Something went wrong: ${error?.message ?? error}`;
  }
}

/** The settings the server refuses, in the page's words: money, not minor units; the fields' labels, not their names. */
function inputRefused(message) {
  const currency = state.packages[0]?.price.currency ?? 'USD';
  const money = (minor, code = currency) => formatMoney({ amount: Number(minor), currency: code });
  let match;
  if ((match = /^monthlyLimit \((\d+)\) is below a single top-up \((\d+)\)/.exec(message))) {
    return (
      `The monthly limit, ${money(match[1])}, is less than a single top-up, ${money(match[2])}: no top-up could ` +
      `ever be charged. Raise “At most this much per month” to ${money(match[2])} or more, or buy less each time.`
    );
  }
  if ((match = /^A single top-up could be (\d+) in minor units; Stripe charges at most (\d+)/.exec(message))) {
    return (
      `A single top-up could cost ${money(match[1])}, more than the ${money(match[2])} Stripe charges at once. ` +
      'Choose a lower “Buy back up to”.'
    );
  }
  if ((match = /^The package costs (\d+) in minor units; Stripe charges at least (\d+) (\w+)/.exec(message))) {
    return (
      `The package costs ${money(match[1], match[3])}, less than the ${money(match[2], match[3])} Stripe ` +
      'charges at the least. Choose a larger package.'
    );
  }
  if ((match = /^A top-up could be as small as (\d+) in minor units.* at least (\d+) (\w+)/.exec(message))) {
    return (
      `A top-up could be as small as ${money(match[1], match[3])}, less than the ${money(match[2], match[3])} ` +
      'Stripe charges at the least. Choose a “Buy back up to” further above the threshold.'
    );
  }
  const named = message
    .replace(/\bthresholdCredits\b/g, 'the threshold')
    .replace(/\btargetCredits\b/g, '“Buy back up to”')
    .replace(/\bmonthlyLimit\b/g, 'the monthly limit');
  return `The server did not accept this: ${named}`;
}

/** Errors that a request which later succeeds has outlived: the next successful refresh clears them. */
const PASSING_ERRORS = new Set([
  'NETWORK_ERROR',
  'SERVICE_UNAVAILABLE',
  'HTTP_ERROR',
  'RATE_LIMITED',
  'READ_MODEL_UNAVAILABLE',
  'STORE_UNAVAILABLE',
]);

const announce = (message) => {
  $('status').textContent = message;
};

function showAlert(message, action) {
  $('alert-text').textContent = message;
  const button = $('alert-action');
  button.hidden = !action;
  if (action) {
    button.textContent = action.label;
    button.onclick = () => {
      hideAlert();
      action.run();
    };
  }
  $('alert').hidden = false;
}

const hideAlert = () => {
  $('alert').hidden = true;
  state.alertPasses = false;
};

/** A save went through: an error it follows no longer stands, unless it offers a retry of its own (a failed load). */
const hideErrorOf = () => {
  if ($('alert-action').hidden) hideAlert();
};

/**
 * Every failed request ends here: an expired token signs out, anything else is shown. An error
 * of a refresh, or one that passes (the server unreachable, busy, rate limiting), is cleared by the
 * next refresh that succeeds (`fromRefresh`: the error came from one).
 */
function handleError(error, retry, fromRefresh = false) {
  if (error instanceof SessionChanged) return;
  if (error instanceof GraphQLRequestError && error.code === 'UNAUTHENTICATED') {
    signOut(friendlyError(error));
    return;
  }
  console.error(error);
  showAlert(friendlyError(error), retry && { label: 'Try again', run: retry });
  state.alertPasses = !retry && (fromRefresh || PASSING_ERRORS.has(error?.code));
  // Saved by someone else meanwhile: show what is saved now.
  if (error?.code === 'CONFLICT' && state.session) scheduleRefresh();
  // Wherever the user was working on the page, they see it.
  $('alert').scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
}

// ---------------------------------------------------------------------------------------------
// Session

/** The token's claims, read (not verified: the server does that) to know the workspace and role. */
function readClaims(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims.workspaceId !== 'string' || typeof claims.role !== 'string') return undefined;
    return claims;
  } catch {
    return undefined;
  }
}

const canBuy = (claims) => claims.admin === true || claims.role === 'OWNER' || claims.role === 'BILLING_MANAGER';

/** Purchases shown at first, and added by each "Show older purchases". */
const PURCHASES_SHOWN = 20;
/** Only those who may buy may read what was paid: others do not ask for it. */
const purchasesVariables = (claims) => ({
  workspaceId: claims.workspaceId,
  withMoney: canBuy(claims),
  purchasesShown: PURCHASES_SHOWN,
});

function signIn(token) {
  const claims = readClaims(token);
  if (!claims) return false;
  sessionStorage.setItem(TOKEN_KEY, token);
  state.session = { token, claims };
  return true;
}

/** The sections filled from a workspace's data: each is shown again only once its own data is in. */
const WORKSPACE_SECTIONS = ['balance', 'holds', 'buy', 'auto-top-up', 'notifications', 'purchases', 'usage', 'ledger'];

/** Empties an element's text, or puts a placeholder, touching it only if it shows something else. */
function clearText(id, text = '') {
  if ($(id).textContent !== text) $(id).textContent = text;
}

/**
 * Forgets the workspace on the page, at sign-out and before a sign-in loads: its timers and live
 * updates stop, and every section is emptied and hidden, so nothing of one workspace is shown
 * (or read out) under another's name while the other's data loads, or when its load fails.
 */
function forgetWorkspace() {
  state.live?.close();
  state.live = undefined;
  clearInterval(state.checkoutTimer);
  clearTimeout(state.refreshTimer);
  Object.assign(state, {
    balance: undefined,
    packages: [],
    purchases: [],
    purchasesCursor: null,
    ledgerCursors: [null],
    ledgerIndex: 0,
    checkout: undefined,
    liveStatus: 'closed',
    paymentsEnabled: false,
  });
  usageRows = [];
  delete document.body.dataset.live;
  for (const id of [...WORKSPACE_SECTIONS, 'checkout-status', 'live-offline', 'low-balance', 'held']) {
    $(id).hidden = true;
  }
  for (const part of SECTIONS) clearSectionError(part);
  for (const id of ['holds-table', 'purchases-table', 'ledger-table']) $(id).tBodies[0].replaceChildren();
  for (const id of ['packages', 'usage-chart', 'usage-legend', 'topup-history', 'endpoints']) $(id).replaceChildren();
  for (const part of $('usage-table').children) if (part.tagName !== 'CAPTION') part.replaceChildren();
  for (const id of ['credits-available', 'credits-held', 'credits-included', 'credits-purchased']) {
    clearText(id, '–');
  }
  for (const id of ['credits-promotional', 'current-plan']) clearText(id, '–');
  for (const id of [
    ...['identity-workspace', 'identity-subject', 'identity-role', 'checkout-status-text', 'checkout-status-detail'],
    ...['low-balance-text', 'credits-included-detail', 'credits-purchased-detail', 'credits-promotional-detail'],
    ...['current-plan-detail', 'buy-not-allowed', 'ledger-caption', 'ledger-page', 'usage-empty'],
    ...['topup-summary', 'topup-paused-text', 'topup-failure', 'topup-month', 'topup-terms', 'alert-threshold-summary'],
  ]) {
    clearText(id);
  }
  $('usage-figure').hidden = true;
  $('ledger-pager').hidden = true;
}

/** An answer for a session that is no longer the page's (signed out, or in as someone else): dropped. */
class SessionChanged extends Error {}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.session = undefined;
  forgetWorkspace();
  hideAlert();
  $('app').hidden = true;
  $('identity').hidden = true;
  $('signin').hidden = false;
  $('signin-reason').hidden = !reason;
  $('signin-reason').textContent = reason ?? '';
  $('token-input').value = '';
  if (reason) $('token-input').focus();
  // A reason is already read out by its role="alert"; say it once.
  announce(reason ? '' : 'Signed out.');
  void offerDemo();
}

/** A request as the page's session; its answer is dropped if the session changed meanwhile. */
const api = async (query, variables) => {
  const session = state.session;
  const data = await request(query, variables, session?.token);
  if (state.session !== session) throw new SessionChanged();
  return data;
};

const autoTopUp = autoTopUpSection({
  api,
  session: () => state.session,
  manages: () => canBuy(state.session.claims),
  paymentsEnabled: () => state.paymentsEnabled,
  packages: () => state.packages,
  handleError: (error) => handleError(error),
  announce: (text) => announce(text),
  succeeded: () => hideErrorOf(),
});

const notifications = notificationsSection({
  api,
  session: () => state.session,
  manages: () => canBuy(state.session.claims),
  handleError: (error) => handleError(error),
  announce: (text) => announce(text),
  succeeded: () => hideErrorOf(),
});

// ---------------------------------------------------------------------------------------------
// Balance

/** When the soonest live grant of a source expires, or that none does. */
function expiryOf(grants, source) {
  const expiries = grants
    .filter((grant) => grant.source === source && grant.remaining > 0 && grant.expiresAt)
    .map((grant) => grant.expiresAt)
    .sort();
  return expiries.length ? `next expiry ${formatDate(expiries[0])}` : 'no expiry';
}

function renderBalance(balance) {
  state.balance = balance;
  $('credits-available').textContent = formatCredits(balance.available);
  $('held').hidden = !(balance.held > 0);
  $('credits-held').textContent = formatCredits(balance.held);

  const { included, purchased, promotional, plan } = balance;
  $('credits-included').textContent = formatCredits(included.remaining);
  $('credits-included-detail').textContent = balance.periodEnd
    ? `of ${formatCredits(included.granted)} this period · period ends ${formatUtcDateTime(balance.periodEnd)}`
    : 'No billing period yet';
  $('credits-purchased').textContent = formatCredits(purchased.remaining);
  $('credits-purchased-detail').textContent =
    purchased.granted > 0
      ? `of ${formatCredits(purchased.granted)} bought · ${expiryOf(balance.grants, 'PURCHASED')}`
      : 'None bought yet';
  $('credits-promotional').textContent = formatCredits(promotional.remaining);
  $('credits-promotional-detail').textContent =
    promotional.granted > 0 ? `of ${formatCredits(promotional.granted)} given` : 'None';
  $('current-plan').textContent = plan ? plan.name : 'No plan';
  $('current-plan-detail').textContent = plan ? `${formatCredits(plan.includedCredits)} credits per period` : '';

  $('low-balance').hidden = !balance.lowBalance;
  $('low-balance-text').textContent = `${formatCredits(balance.available)} credits left, below ${formatCredits(
    balance.lowBalanceThreshold,
  )}.`;
  $('low-balance-link').hidden = !canBuy(state.session.claims);
  $('balance').hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Packages and checkout

/** `paymentsEnabled` is the server's `paymentSettings.enabled`: without payments the buttons are off, and say why. */
function renderPackages(packages, paymentsEnabled) {
  state.packages = packages;
  const { claims } = state.session;
  const allowed = canBuy(claims);
  const reason = $('buy-not-allowed');
  reason.hidden = allowed;
  reason.textContent = allowed
    ? ''
    : `Only owners and billing managers can buy credits. You are signed in as ${roleLabel(claims.role).toLowerCase()}` +
      ` of ${claims.workspaceId}: ask an owner or a billing manager of the workspace to buy more.`;
  $('payments-off').hidden = paymentsEnabled;

  $('packages').replaceChildren(
    ...packages.map((creditPackage) => {
      const item = document.createElement('li');
      item.className = 'package';
      const name = document.createElement('h3');
      name.className = 'package__name';
      name.textContent = creditPackage.name;
      const price = document.createElement('p');
      price.className = 'package__price';
      price.textContent = formatMoney(creditPackage.price);
      const unit = document.createElement('p');
      unit.className = 'hint';
      unit.textContent = `${formatUnitPrice(creditPackage.price, creditPackage.credits)} per credit`;
      item.append(name, price, unit);
      if (allowed) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'button button--primary';
        button.textContent = 'Buy credits';
        // The accessible name starts with the visible text, then says which package.
        button.setAttribute('aria-label', `Buy credits: ${creditPackage.name} for ${formatMoney(creditPackage.price)}`);
        button.addEventListener('click', () => startCheckout(creditPackage, button));
        if (!paymentsEnabled) {
          button.disabled = true;
          button.setAttribute('aria-describedby', 'payments-off');
        }
        item.append(button);
      }
      return item;
    }),
  );
  $('buy').hidden = false;
}

async function startCheckout(creditPackage, button) {
  hideAlert();
  const buttons = [...document.querySelectorAll('#packages button')];
  buttons.forEach((each) => (each.disabled = true));
  button.textContent = 'Opening checkout…';
  announce(`Opening secure checkout for ${creditPackage.name}.`);
  try {
    const { startCreditPurchase } = await api(START_CREDIT_PURCHASE, {
      input: { workspaceId: state.session.claims.workspaceId, packageId: creditPackage.id },
    });
    window.location.assign(startCreditPurchase.url);
  } catch (error) {
    buttons.forEach((each) => (each.disabled = false));
    button.textContent = 'Buy credits';
    handleError(error);
    if (!$('alert').hidden) $('alert').scrollIntoView({ block: 'nearest' });
  }
}

/** Reads ?checkout=success&session_id=… (Stripe's success URL) or ?checkout=cancelled. */
function readCheckoutReturn() {
  const params = new URLSearchParams(window.location.search);
  const outcome = params.get('checkout');
  if (outcome === 'success' && params.get('session_id')) {
    state.checkout = { sessionId: params.get('session_id'), status: 'waiting', since: Date.now() };
    showCheckoutStatus(
      'waiting',
      'Payment received — waiting for confirmation…',
      'Stripe confirms the payment to this server; the credits appear here as soon as it does.',
    );
  } else if (outcome === 'cancelled') {
    showCheckoutStatus('info', 'Checkout cancelled. No payment was made.', '');
    forgetCheckoutParams();
  }
}

function showCheckoutStatus(kind, text, detail) {
  const box = $('checkout-status');
  box.className = `notice notice--${kind === 'waiting' ? 'progress' : kind}`;
  $('checkout-status-text').textContent = text;
  $('checkout-status-detail').textContent = detail;
  box.hidden = false;
}

const forgetCheckoutParams = () => window.history.replaceState(null, '', window.location.pathname);

/** Whether the purchase Stripe sent the buyer back for is recorded yet; if so, say so. */
function settleCheckout() {
  const checkout = state.checkout;
  if (!checkout || checkout.status === 'confirmed') return;
  const purchase = state.purchases.find((each) => each.purchaseId === checkout.sessionId);
  if (!purchase) return;
  checkout.status = 'confirmed';
  clearInterval(state.checkoutTimer);
  forgetCheckoutParams();
  showCheckoutStatus(
    'success',
    `Payment confirmed: ${formatCredits(purchase.credits)} credits added.`,
    `Available now: ${formatCredits(state.balance?.available ?? 0)} credits.`,
  );
}

/** The safety net while live updates may be down: everything is read again, the balance first. */
async function recheckCheckout() {
  try {
    await refreshAll();
    if (state.alertPasses) hideAlert();
  } catch (error) {
    handleError(error, undefined, true);
  }
  const checkout = state.checkout;
  if (checkout?.status === 'waiting' && Date.now() - checkout.since >= CHECKOUT_WAIT_MS) stopWaiting(checkout);
}

/** Waited long enough: the payment is not known here yet; say so, and how to check. */
function stopWaiting(checkout) {
  checkout.status = 'unconfirmed';
  clearInterval(state.checkoutTimer);
  showCheckoutStatus(
    'warning',
    'This payment is not confirmed yet.',
    `Stripe has not confirmed checkout ${checkout.sessionId} to this server in ${CHECKOUT_WAIT_MS / 60_000} ` +
      'minutes, so no credits were added for it. If you paid, the credits are added once Stripe confirms it: ' +
      'this page shows them when it does, or reload it later and look under Purchases. If they have not come ' +
      `within an hour, give support the checkout id ${checkout.sessionId}; your card statement or Stripe's ` +
      'receipt email says whether you were charged.',
  );
}

// ---------------------------------------------------------------------------------------------
// Purchases

/**
 * The newest page of purchases (`older`: false), or the next older page added below those shown.
 * A refresh asks again for as many as are shown (up to the API's 200 a page), so older ones a
 * billing manager opened stay open when a spend elsewhere changes the page.
 */
function renderPurchases(page, older = false) {
  const purchases = page.edges.map((edge) => edge.node);
  state.purchases = older ? [...state.purchases, ...purchases] : purchases;
  state.purchasesCursor = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  $('purchases-empty').hidden = state.purchases.length > 0;
  $('purchases-table').hidden = state.purchases.length === 0;
  $('purchases-table').tBodies[0].replaceChildren(
    ...state.purchases.map((purchase) =>
      row([
        ['Date', formatDateTime(purchase.purchasedAt)],
        ['Package', purchase.packageName],
        ['Credits left', `${formatCredits(purchase.creditsLeft)} of ${formatCredits(purchase.credits)}`, 'num'],
        ['Paid', purchase.amountPaid ? formatMoney(purchase.amountPaid) : '—', 'num'],
        ['Status', STATUS_LABELS[purchase.status] ?? purchase.status],
      ]),
    ),
  );
  $('purchases-more').hidden = state.purchasesCursor === null;
  $('purchases').hidden = false;
}

/** The balance with as many of the newest purchases as are shown (up to the API's 200 a page). */
async function refreshBalanceAndPurchases() {
  const shown = Math.min(200, Math.max(PURCHASES_SHOWN, state.purchases.length));
  const variables = { ...purchasesVariables(state.session.claims), purchasesShown: shown };
  const { workspaceCredits, creditPurchasesPage } = await api(BILLING_REFRESH, variables);
  renderBalance(workspaceCredits);
  renderPurchases(creditPurchasesPage);
}

async function showOlderPurchases() {
  if (!state.purchasesCursor) return;
  try {
    const variables = { ...purchasesVariables(state.session.claims), after: state.purchasesCursor };
    renderPurchases((await api(CREDIT_PURCHASES, variables)).creditPurchasesPage, true);
  } catch (error) {
    handleError(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Running actions (holds)

const HOLDS_SHOWN = 10;

async function loadHolds() {
  const { creditHolds } = await api(ACTIVE_HOLDS, {
    workspaceId: state.session.claims.workspaceId,
    first: HOLDS_SHOWN,
  });
  const holds = creditHolds.edges.map((edge) => edge.node);
  $('holds-table').tBodies[0].replaceChildren(
    ...holds.map((hold) => {
      const action = `${actionLabel(hold.action)}${hold.units > 1 ? ` × ${hold.units}` : ''}`;
      return row([
        ['Started', formatDateTime(hold.createdAt)],
        ['Action', hold.reference ? `${action} · ${hold.reference}` : action],
        ['Credits held', formatCredits(hold.credits), 'num'],
        ['Expires', formatDateTime(hold.expiresAt)],
      ]);
    }),
  );
  $('holds-more').hidden = !creditHolds.pageInfo.hasNextPage;
  $('holds').hidden = holds.length === 0;
}

/** A table row whose cells carry their column name, for the stacked layout on narrow screens. */
function row(cells) {
  const tr = document.createElement('tr');
  for (const [label, content, className] of cells) {
    const td = document.createElement('td');
    td.dataset.label = label;
    if (className) td.className = className;
    if (content instanceof Node) td.append(content);
    else td.textContent = content;
    tr.append(td);
  }
  return tr;
}

// ---------------------------------------------------------------------------------------------
// Ledger

/** Entry types whose `reference` only repeats what their named fields say (a plan id, a purchase id, a reason). */
const REFERENCE_SAID_BY_NAME = new Set([
  'PLAN_ALLOWANCE',
  'PURCHASE',
  'PURCHASE_REFUND',
  'PURCHASE_REFUND_REVERSAL',
  'DISPUTE_OPENED',
  'DISPUTE_CLOSED',
  'PROMOTIONAL_GRANT',
  'CONSUMPTION_REFUND',
  'EXPIRY',
  'HOLD_RELEASED',
]);

/** What a person reads under an entry's title: names, the reason, where a refund stands, the money. */
function entryDetails(entry) {
  const details = [];
  if (entry.planName) details.push(`${entry.planName} plan`);
  if (entry.packageName) details.push(entry.packageName);
  if (entry.reference && !REFERENCE_SAID_BY_NAME.has(entry.type)) details.push(entry.reference);
  if (entry.type === 'EXPIRY') details.push(EXPIRY_REASONS[entry.reason] ?? entry.reason);
  else if (entry.reason) details.push(`“${entry.reason}”`);
  if (entry.type === 'PURCHASE_REFUND' && entry.refundStatus) {
    details.push(REFUND_STATUS_LABELS[entry.refundStatus] ?? entry.refundStatus);
  }
  if (entry.amount) details.push(formatEntryMoney(entry.amount));
  // A settle's credits are only what came back; what the action cost is spent.
  if (entry.type === 'HOLD_SETTLED') details.push(`${formatCredits(entry.spentCredits)} spent`);
  if (entry.refundedCredits > 0) details.push(`${formatCredits(entry.refundedCredits)} refunded`);
  return details;
}

/** The id someone acts on for this entry: a spend's (to refund it), or its purchase's. */
function entryId(entry) {
  if (entry.consumptionId) return { label: 'Spend id', value: entry.consumptionId };
  if (entry.purchaseId) return { label: 'Purchase id', value: entry.purchaseId };
  return undefined;
}

async function copyId(label, code) {
  try {
    await navigator.clipboard.writeText(code.textContent);
    announce(`${label} copied.`);
  } catch {
    // No clipboard (an insecure origin, or permission refused): select it for the person to copy.
    window.getSelection()?.selectAllChildren(code);
    announce(`${label} selected: press Ctrl+C to copy it.`);
  }
}

function idLine(entry) {
  const id = entryId(entry);
  if (!id) return undefined;
  const line = document.createElement('span');
  line.className = 'entry__id hint';
  const code = document.createElement('code');
  code.textContent = id.value;
  const copy = document.createElement('button');
  copy.type = 'button';
  copy.className = 'button button--quiet button--small';
  copy.textContent = 'Copy';
  copy.setAttribute('aria-label', `Copy ${id.label.toLowerCase()} ${id.value}`);
  copy.addEventListener('click', () => copyId(id.label, code));
  line.append(`${id.label} `, code, ' ', copy);
  return line;
}

function describeEntry(entry) {
  const wrapper = document.createElement('div');
  const title = document.createElement('span');
  title.className = 'entry__title';
  if (entry.type === 'CONSUMPTION') {
    title.textContent = `${actionLabel(entry.action)}${entry.units > 1 ? ` × ${entry.units}` : ''}`;
  } else if (entry.type === 'HOLD' || entry.type === 'HOLD_SETTLED') {
    const action = `${actionLabel(entry.action)}${entry.units > 1 ? ` × ${entry.units}` : ''}`;
    title.textContent = entry.type === 'HOLD' ? `Held for ${action}` : `${action}, settled`;
  } else {
    title.textContent = ENTRY_LABELS[entry.type] ?? entry.type;
  }
  wrapper.append(title);
  const details = entryDetails(entry);
  if (details.length) {
    const detail = document.createElement('span');
    detail.className = 'entry__detail hint';
    detail.textContent = details.join(' · ');
    wrapper.append(detail);
  }
  const id = idLine(entry);
  if (id) wrapper.append(id);
  // A spend, or a settled hold's real cost: what refundCreditConsumption gives back.
  const refundable = entry.type === 'CONSUMPTION' || (entry.type === 'HOLD_SETTLED' && entry.spentCredits > 0);
  if (state.session.claims.admin && refundable && entry.refundedCredits === 0) {
    wrapper.append(refundSpendControl(entry, title.textContent));
  }
  return wrapper;
}

/**
 * Admins only: give a spend's credits back, with a reason. A button opens a small form in the row;
 * the answer is the new balance, and the ledger page is read again to show the refund.
 */
function refundSpendControl(entry, what) {
  const box = document.createElement('div');
  box.className = 'entry__action';
  const open = document.createElement('button');
  open.type = 'button';
  open.className = 'button button--quiet button--small';
  open.textContent = 'Refund spend…';
  open.setAttribute('aria-label', `Refund spend: ${what}, ${formatCredits(entry.spentCredits)} credits`);
  open.addEventListener('click', () => {
    open.hidden = true;
    box.append(
      refundSpendForm(entry, () => {
        open.hidden = false;
        open.focus();
      }),
    );
  });
  box.append(open);
  return box;
}

function refundSpendForm(entry, close) {
  const credits = formatCredits(entry.spentCredits);
  const form = document.createElement('form');
  form.className = 'refund-form';
  form.noValidate = true;
  const fieldId = `refund-reason-${entry.id}`;
  const label = document.createElement('label');
  label.htmlFor = fieldId;
  label.textContent = 'Why give these credits back?';
  const input = document.createElement('input');
  input.type = 'text';
  input.id = fieldId;
  input.maxLength = 500;
  input.required = true;
  input.autocomplete = 'off';
  const error = document.createElement('p');
  error.className = 'field-error';
  error.id = `${fieldId}-error`;
  error.hidden = true;
  input.setAttribute('aria-describedby', error.id);
  const submit = document.createElement('button');
  submit.type = 'submit';
  submit.className = 'button button--primary button--small';
  submit.textContent = `Give ${credits} credits back`;
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.className = 'button button--small';
  cancel.textContent = 'Cancel';
  cancel.addEventListener('click', () => {
    form.remove();
    close();
  });
  const buttons = document.createElement('span');
  buttons.className = 'button-row';
  buttons.append(submit, cancel);
  form.append(label, input, error, buttons);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const reason = input.value.trim();
    if (!reason) {
      error.textContent = 'Say why, for the workspace’s history.';
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    submit.disabled = true;
    cancel.disabled = true;
    try {
      const { refundCreditConsumption } = await api(REFUND_SPEND, {
        input: { consumptionId: entry.consumptionId, reason },
      });
      renderBalance(refundCreditConsumption);
      announce(`Gave ${credits} credits back.`);
      await Promise.all([loadLedger(), loadUsage()]);
    } catch (error) {
      submit.disabled = false;
      cancel.disabled = false;
      handleError(error);
    }
  });
  queueMicrotask(() => input.focus());
  return form;
}

async function loadLedger(index = state.ledgerIndex) {
  const { creditLedger } = await api(CREDIT_LEDGER, {
    workspaceId: state.session.claims.workspaceId,
    first: LEDGER_PAGE_SIZE,
    after: state.ledgerCursors[index],
    withMoney: canBuy(state.session.claims),
  });
  state.ledgerIndex = index;
  const { edges, pageInfo } = creditLedger;
  if (pageInfo.hasNextPage) state.ledgerCursors[index + 1] = pageInfo.endCursor;
  else state.ledgerCursors.length = index + 1;

  $('ledger-empty').hidden = !(edges.length === 0 && index === 0);
  $('ledger-table').hidden = edges.length === 0;
  $('ledger-caption').textContent = `Credit history, page ${index + 1}, newest first`;
  $('ledger-table').tBodies[0].replaceChildren(
    ...edges.map(({ node }) => {
      const tr = row([
        ['Date', formatDateTime(node.occurredAt)],
        ['Entry', describeEntry(node)],
        ['By', node.actorId ?? '—'],
        ['Credits', formatSignedCredits(node.credits), node.credits < 0 ? 'num debit' : 'num credit'],
        ['Balance', formatCredits(node.balanceAfter), 'num'],
      ]);
      tr.dataset.entryType = node.type;
      return tr;
    }),
  );
  const paged = index > 0 || pageInfo.hasNextPage;
  $('ledger-pager').hidden = !paged;
  $('ledger-previous').disabled = index === 0;
  $('ledger-next').disabled = !pageInfo.hasNextPage;
  $('ledger-page').textContent = `Page ${index + 1}`;
  $('ledger').hidden = false;
}

async function turnLedgerPage(delta) {
  const target = state.ledgerIndex + delta;
  if (target < 0 || target >= state.ledgerCursors.length) return;
  try {
    await loadLedger(target);
    // On the first or last page the button pressed is disabled, and focus would fall to the page's start.
    const pressed = delta > 0 ? $('ledger-next') : $('ledger-previous');
    if (pressed.disabled) (delta > 0 ? $('ledger-previous') : $('ledger-next')).focus();
    $('ledger-heading').scrollIntoView({ block: 'nearest' });
  } catch (error) {
    handleError(error, () => turnLedgerPage(delta));
  }
}

// ---------------------------------------------------------------------------------------------
// Usage chart

async function allSpends(workspaceId, from, to) {
  const spends = [];
  let after = null;
  for (let page = 0; page < SPENDS_MAX_PAGES; page++) {
    const { creditLedger } = await api(SPENDS_IN_RANGE, { workspaceId, from, to, first: SPENDS_PAGE_SIZE, after });
    spends.push(...creditLedger.edges.map((edge) => edge.node));
    if (!creditLedger.pageInfo.hasNextPage) break;
    after = creditLedger.pageInfo.endCursor;
  }
  return spends;
}

let usageRows = [];

async function loadUsage() {
  const workspaceId = state.session.claims.workspaceId;
  const { from, to, days } = dayRange(state.usageDays);
  $('usage').hidden = false;
  $('usage-loading').hidden = false;
  $('usage').setAttribute('aria-busy', 'true');
  try {
    const [{ creditUsage }, spends] = await Promise.all([
      api(USAGE_BY_DAY, { workspaceId, from, to }),
      allSpends(workspaceId, from, to),
    ]);
    usageRows = usageByDayAndAction(days, creditUsage, spends);
    drawUsage();
  } finally {
    $('usage-loading').hidden = true;
    $('usage').removeAttribute('aria-busy');
  }
}

function drawUsage() {
  const spent = usageRows.some((each) => each.total > 0);
  $('usage-empty').hidden = spent;
  $('usage-empty').textContent = `No credits spent in the last ${state.usageDays} days.`;
  $('usage-figure').hidden = !spent;
  if (!spent) return;
  const plot = $('usage-chart');
  renderUsageChart(
    usageRows,
    { plot, legend: $('usage-legend'), table: $('usage-table'), caption: $('usage-table-caption') },
    Math.floor(plot.clientWidth || 600),
  );
}

// ---------------------------------------------------------------------------------------------
// Loading and live updates

/**
 * The sections read after the balance, each on its own: one that fails at first load says so in its
 * place, with Try again, and the others and live updates go on. `refresh` is what a refresh reads
 * (the ledger only on its first page, and not while an admin writes why a spend is given back).
 */
const SECTIONS = [
  {
    id: 'ledger',
    name: 'The credit history',
    load: () => loadLedger(0),
    refresh: () =>
      state.ledgerIndex === 0 && document.querySelector('#ledger-table .refund-form') === null
        ? loadLedger(0)
        : undefined,
  },
  { id: 'usage', name: 'Credits spent per day', load: () => loadUsage() },
  { id: 'holds', name: 'Credits held by running actions', load: () => loadHolds() },
  { id: 'auto-top-up', name: 'Auto top-up', load: () => autoTopUp.load() },
  { id: 'notifications', name: 'Notifications', load: () => notifications.load() },
];

const sectionFailed = (part) => $(part.id).classList.contains('section--failed');

/** In the section's place: that it could not be loaded, why, and Try again. */
function showSectionError(part, error) {
  const section = $(part.id);
  let box = section.querySelector(':scope > .section-error');
  if (!box) {
    box = document.createElement('div');
    box.className = 'notice notice--error section-error';
    box.setAttribute('role', 'alert');
    const message = document.createElement('p');
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'button';
    retry.textContent = 'Try again';
    retry.setAttribute('aria-label', `Try again: ${part.name.toLowerCase()}`);
    retry.addEventListener('click', async () => {
      retry.disabled = true;
      try {
        await part.load();
        clearSectionError(part);
      } catch (again) {
        if (again instanceof SessionChanged) return;
        if (again instanceof GraphQLRequestError && again.code === 'UNAUTHENTICATED') handleError(again);
        else showSectionError(part, again);
      } finally {
        retry.disabled = false;
      }
    });
    box.append(message, retry);
    section.prepend(box);
  }
  console.error(error);
  box.querySelector('p').textContent = `${part.name} could not be loaded. ${friendlyError(error)}`;
  section.classList.add('section--failed');
  section.hidden = false;
}

function clearSectionError(part) {
  const section = $(part.id);
  section.querySelector(':scope > .section-error')?.remove();
  section.classList.remove('section--failed');
}

/**
 * Reads the sections (`how`: 'load' or 'refresh'); a section read again clears its error. Answers
 * the failures, [part, error] pairs; an expired token signs out at once.
 */
async function readSections(how) {
  const outcomes = await Promise.allSettled(SECTIONS.map((part) => (part[how] ?? part.load)()));
  const failures = [];
  outcomes.forEach((outcome, index) => {
    const part = SECTIONS[index];
    if (outcome.status === 'fulfilled') {
      if (sectionFailed(part)) clearSectionError(part);
    } else if (!(outcome.reason instanceof SessionChanged)) {
      failures.push([part, outcome.reason]);
    }
  });
  const expired = failures.find(
    ([, error]) => error instanceof GraphQLRequestError && error.code === 'UNAUTHENTICATED',
  );
  if (expired) throw expired[1];
  return failures;
}

/** The first load: the balance, packages and purchases must come (or the page offers Try again); each other section may fail alone. */
async function loadAll() {
  const { workspaceCredits, creditPackages, paymentSettings, creditPurchasesPage } = await api(
    BILLING_OVERVIEW,
    purchasesVariables(state.session.claims),
  );
  renderBalance(workspaceCredits);
  state.paymentsEnabled = paymentSettings.enabled;
  renderPackages(creditPackages, paymentSettings.enabled);
  renderPurchases(creditPurchasesPage);
  settleCheckout();
  for (const [part, error] of await readSections('load')) showSectionError(part, error);
}

/**
 * Everything live updates keep fresh, read again: the balance and its breakdown with the purchases
 * (then whether the checkout being waited for is among them, said with the balance just read), the
 * ledger's first page, usage, holds, auto top-up and notifications.
 */
async function refreshAll() {
  await refreshBalanceAndPurchases();
  settleCheckout();
  // A section that failed to load says so in its place again; a failure over shown data is an alert.
  const failures = await readSections('refresh');
  for (const [part, error] of failures) if (sectionFailed(part)) showSectionError(part, error);
  const over = failures.find(([part]) => !sectionFailed(part));
  if (over) throw over[1];
}

/** After a change (the balance came with the message) or a reconnection: everything is read again. */
function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(async () => {
    try {
      await refreshAll();
      if (state.alertPasses) hideAlert();
    } catch (error) {
      handleError(error, undefined, true);
    }
  }, 150);
}

const LIVE_OFFLINE =
  'Live updates are paused: the server cannot be reached, so these numbers may be out of date. Reconnecting…';

/** Why the server refused live updates, and when the page asks again. */
function liveRefusal({ error, retryInMs }) {
  const why =
    {
      SOCKET_LIMIT:
        'this sign-in already has as many live connections open as the server allows (other tabs of this page count)',
      LIMIT_EXCEEDED: 'this sign-in already follows as many live updates as the server allows (other tabs count)',
      RATE_LIMITED: 'too many requests came from here just now',
    }[error.code] ?? 'the server is busy';
  const seconds = Math.max(1, Math.round(retryInMs / 1000));
  return (
    `Live updates are paused: ${why}. These numbers may be out of date; trying again in ${seconds} s` +
    (error.code === 'RATE_LIMITED' ? '.' : ', or close other tabs of this page.')
  );
}

function showLiveNotice(message) {
  $('live-offline').textContent = message;
  $('live-offline').hidden = false;
}

function goLive() {
  state.live?.close();
  state.live = subscribe({
    query: CREDITS_CHANGED,
    variables: { workspaceId: state.session.claims.workspaceId },
    token: state.session.token,
    onNext: ({ workspaceCreditsChanged }) => {
      renderBalance(workspaceCreditsChanged);
      announce(`Balance updated: ${formatCredits(workspaceCreditsChanged.available)} credits available.`);
      scheduleRefresh();
    },
    onError: (error) => {
      if (error.code === 'UNAUTHENTICATED') {
        handleError(error);
        return;
      }
      console.error('live updates stopped:', error);
      showLiveNotice(
        `Live updates stopped: ${friendlyError(error)} These numbers may be out of date: reload the page to see the latest.`,
      );
    },
    onStatus: (status, detail) => {
      state.liveStatus = status;
      document.body.dataset.live = status;
      // Said until the subscription is live again (not hidden while it reconnects, to show again).
      if (status === 'live') $('live-offline').hidden = true;
      else if (status === 'offline') showLiveNotice(LIVE_OFFLINE);
      else if (status === 'refused') showLiveNotice(liveRefusal(detail));
      // Anything that changed while we were not subscribed (before the first subscription too:
      // between the first read and now, which the first load's slower sections make long) is read
      // again, the balance with it, once we are.
      if (status === 'live') scheduleRefresh();
    },
  });
}

async function start() {
  const session = state.session;
  const { claims } = session;
  forgetWorkspace();
  $('signin').hidden = true;
  $('app').hidden = false;
  $('identity').hidden = false;
  $('identity-workspace').textContent = claims.workspaceId;
  $('identity-subject').textContent = claims.sub ?? 'unknown user';
  $('identity-role').textContent = claims.admin ? `${roleLabel(claims.role)} (admin)` : roleLabel(claims.role);
  $('loading').hidden = false;
  $('main').setAttribute('aria-busy', 'true');
  hideAlert();
  readCheckoutReturn();
  autoTopUp.readSetupReturn();
  try {
    await loadAll();
    if (state.session !== session) return;
    announce('Billing loaded.');
    goLive();
    if (state.checkout?.status === 'waiting') {
      state.checkoutTimer = setInterval(recheckCheckout, CHECKOUT_RECHECK_MS);
    }
  } catch (error) {
    handleError(error, () => start());
  } finally {
    if (state.session === session) {
      $('loading').hidden = true;
      $('main').removeAttribute('aria-busy');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

async function offerDemo() {
  try {
    const response = await fetch('demo-session', { headers: { accept: 'application/json' } });
    if (!response.ok) return;
    const body = await response.json();
    $('demo').hidden = body.available !== true;
  } catch {
    // No demo on this server.
  }
}

async function openDemo(role, button) {
  button.disabled = true;
  announce('Preparing the demo workspace…');
  try {
    const response = await fetch('demo-session', { method: 'POST', headers: { accept: 'application/json' } });
    if (!response.ok) throw new GraphQLRequestError(`The demo could not be opened (HTTP ${response.status}).`);
    const { tokens } = await response.json();
    if (signIn(tokens[role])) await start();
  } catch (error) {
    $('signin-reason').textContent = error.message;
    $('signin-reason').hidden = false;
  } finally {
    button.disabled = false;
  }
}

function wire() {
  autoTopUp.wire();
  notifications.wire();
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('token-input');
    const token = input.value.trim().replace(/^Bearer\s+/i, '');
    const error = $('token-error');
    if (!signIn(token)) {
      error.textContent = token
        ? 'This is not a token for this service: paste the whole bearer token (three parts separated by dots).'
        : 'Paste a token to sign in.';
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    error.hidden = true;
    input.removeAttribute('aria-invalid');
    $('signin-reason').hidden = true;
    void start();
  });
  for (const button of document.querySelectorAll('[data-demo-role]')) {
    button.addEventListener('click', () => openDemo(button.dataset.demoRole, button));
  }
  $('sign-out').addEventListener('click', () => signOut());
  $('ledger-previous').addEventListener('click', () => turnLedgerPage(-1));
  $('ledger-next').addEventListener('click', () => turnLedgerPage(1));
  $('purchases-more').addEventListener('click', () => showOlderPurchases());
  $('usage-range').addEventListener('change', (event) => {
    state.usageDays = Number(event.target.value);
    loadUsage().catch((error) => handleError(error, loadUsage));
  });
  $('usage-table-toggle').addEventListener('click', (event) => {
    const button = event.currentTarget;
    const show = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(show));
    button.textContent = show ? 'Hide table' : 'Show as table';
    $('usage-table-wrap').classList.toggle('visually-hidden', !show);
  });
  let width = 0;
  new ResizeObserver(([entry]) => {
    const next = Math.floor(entry.contentRect.width);
    if (next === width || !usageRows.length) return;
    width = next;
    drawUsage();
  }).observe($('usage-chart'));
}

/**
 * A link may carry a token in its fragment, `/billing#token=…` (`npm run demo` prints one): it
 * signs in, and leaves the address bar and the history at once. A fragment never reaches the
 * server, so the token is in no request line and no log.
 */
function tokenFromLink() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (token) window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return token;
}

wire();
const saved = tokenFromLink() ?? sessionStorage.getItem(TOKEN_KEY);
if (saved && signIn(saved)) {
  void start();
} else {
  $('signin').hidden = false;
  void offerDemo();
}
