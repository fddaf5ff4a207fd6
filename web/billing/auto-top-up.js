/**
 * The Billing page's auto top-up section: the saved card (save, replace, remove through Stripe's
 * setup page), the settings with the terms a billing manager consents to, whether it is on or
 * paused and why, this month's use against the limit, and the latest top-ups. Owners and billing
 * managers change it; everyone else sees whether it is on.
 */
import { formatCredits, formatDateTime, formatMoney } from './format.js';
import {
  AUTO_TOP_UP,
  AUTO_TOP_UP_TERMS,
  CONFIGURE_AUTO_TOP_UP,
  REMOVE_PAYMENT_METHOD,
  SAVE_PAYMENT_METHOD,
} from './operations.js';

const STATUS_TEXT = { REQUESTED: 'Charging', SUCCEEDED: 'Paid', FAILED: 'Failed', CANCELED: 'Canceled' };
const REASON_TEXT = {
  DECLINED: 'The card was declined.',
  REQUIRES_ACTION:
    'The bank asks the cardholder to confirm each payment (3-D Secure), which an automatic charge cannot do.',
  ERROR: 'Stripe refused the charge.',
};

const $ = (id) => document.getElementById(id);

/**
 * Wires the section. `context`: { api(query, variables), session(), manages(), paymentsEnabled(),
 * packages(), handleError(error), announce(text), succeeded() (a change was saved: an earlier
 * error no longer stands) }.
 */
export function autoTopUpSection(context) {
  let current;
  /**
   * Whether the billing manager has changed the settings form since it was last filled from what
   * is saved: a refresh (a teammate's spend, a button pressed) then leaves what they typed be.
   */
  let editing = false;
  const workspaceId = () => context.session().claims.workspaceId;
  const variables = () => ({ workspaceId: workspaceId(), withMoney: context.manages() });

  /** Says under the form why the settings cannot be asked for, or clears that. */
  function formError(message, field) {
    $('topup-form-error').textContent = message ?? '';
    $('topup-form-error').hidden = !message;
    for (const id of ['topup-threshold', 'topup-target', 'topup-limit']) {
      if (id === field) $(id).setAttribute('aria-invalid', 'true');
      else $(id).removeAttribute('aria-invalid');
    }
    if (field) $(field).focus();
  }

  /** The settings the form asks for, or undefined once it has said what is wrong with them. */
  function proposal() {
    const whole = (id) => {
      const text = $(id).value.trim();
      const value = text === '' ? Number.NaN : Number(text);
      return Number.isSafeInteger(value) ? value : undefined;
    };
    const threshold = whole('topup-threshold');
    if (threshold === undefined || threshold < 1) {
      return formError('Enter the balance to top up at: a whole number of credits, 1 or more.', 'topup-threshold');
    }
    const target = $('topup-target').value.trim() === '' ? null : whole('topup-target');
    if (target === undefined || (target !== null && target <= threshold)) {
      return formError(
        'Enter a whole number of credits above the threshold to buy back up to, or leave it empty.',
        'topup-target',
      );
    }
    const dollars = $('topup-limit').value.trim() === '' ? Number.NaN : Number($('topup-limit').value);
    if (!Number.isFinite(dollars) || dollars <= 0) {
      return formError('Enter the most to charge in a month, in dollars.', 'topup-limit');
    }
    formError(undefined);
    return {
      workspaceId: workspaceId(),
      enabled: true,
      thresholdCredits: threshold,
      packageId: $('topup-package').value,
      targetCredits: target,
      monthlyLimit: Math.round(dollars * 100),
    };
  }

  /** The settings in force, turned off: a box being edited does not stand in the way. */
  const turnedOff = (saved) => ({
    workspaceId: workspaceId(),
    enabled: false,
    thresholdCredits: saved.thresholdCredits,
    packageId: saved.packageId,
    targetCredits: saved.targetCredits ?? null,
    monthlyLimit: saved.monthlyLimit?.amount ?? 0,
  });

  function render(autoTopUp) {
    current = autoTopUp;
    const manages = context.manages();
    $('auto-top-up').hidden = false;
    $('topup-manage').hidden = !manages;
    const status = !autoTopUp.enabled ? 'Off' : autoTopUp.paused ? 'Paused' : 'On';
    $('topup-status').textContent = status;
    $('topup-status').dataset.status = status.toLowerCase();
    $('topup-summary').textContent = autoTopUp.enabled
      ? `Below ${formatCredits(autoTopUp.thresholdCredits)} available credits, ` +
        (autoTopUp.targetCredits
          ? `credits are bought back up to ${formatCredits(autoTopUp.targetCredits)}`
          : `${autoTopUp.packageName} is bought`) +
        (autoTopUp.monthlyLimit ? `, at most ${formatMoney(autoTopUp.monthlyLimit)} a month.` : '.')
      : 'Credits are not bought automatically.';
    $('topup-paused').hidden = !autoTopUp.paused;
    $('topup-paused-text').textContent = autoTopUp.paused
      ? `Auto top-up paused itself: ${autoTopUp.pauseReason ?? 'charges failed'}. Save a new card or the settings again to resume.`
      : '';
    const failure = autoTopUp.lastFailure;
    $('topup-failure').hidden = !failure || (!autoTopUp.paused && !failure.retryAt);
    $('topup-failure').textContent = failure
      ? `${REASON_TEXT[failure.reason] ?? ''} ${failure.message}` +
        (failure.retryAt ? ` Next attempt ${formatDateTime(failure.retryAt)}.` : '')
      : '';
    $('topup-month').textContent =
      autoTopUp.chargedThisMonth && autoTopUp.monthlyLimit
        ? `This month: ${formatMoney(autoTopUp.chargedThisMonth)} of ${formatMoney(autoTopUp.monthlyLimit)}.`
        : '';
    const card = autoTopUp.card;
    $('topup-card').textContent = card
      ? `${card.brand.toUpperCase()} ending in ${card.last4}, expires ${String(card.expMonth).padStart(2, '0')}/${card.expYear}`
      : 'No card saved.';
    $('topup-save-card').textContent = card ? 'Replace card' : 'Save a card';
    $('topup-remove-card').hidden = !card;
    $('topup-save-card').disabled = !context.paymentsEnabled();
    $('topup-payments-off').hidden = context.paymentsEnabled();
    $('topup-turn-on').disabled = !card || !context.paymentsEnabled();
    $('topup-turn-off').hidden = !autoTopUp.enabled;
    if (!editing && (autoTopUp.enabled || autoTopUp.thresholdCredits)) {
      $('topup-threshold').value = String(autoTopUp.thresholdCredits ?? '');
      $('topup-target').value = autoTopUp.targetCredits ? String(autoTopUp.targetCredits) : '';
      if (autoTopUp.monthlyLimit) $('topup-limit').value = String(autoTopUp.monthlyLimit.amount / 100);
    }
    const packages = context.packages();
    const select = $('topup-package');
    const chosen = select.value;
    select.replaceChildren(
      ...packages.map((creditPackage) => {
        const option = document.createElement('option');
        option.value = creditPackage.id;
        option.textContent = `${creditPackage.name} — ${formatMoney(creditPackage.price)}`;
        return option;
      }),
    );
    if (editing && chosen) select.value = chosen;
    // The package chosen is no longer sold, or none was: the saved one.
    if ((!editing || !select.value) && autoTopUp.packageId) select.value = autoTopUp.packageId;
    $('topup-history').replaceChildren(
      ...autoTopUp.recentTopUps.map((topUp) => {
        const item = document.createElement('li');
        const money = topUp.amount ? ` for ${formatMoney(topUp.amount)}` : '';
        item.textContent = `${formatDateTime(topUp.requestedAt)}: ${formatCredits(topUp.credits)} credits${money} — ${STATUS_TEXT[topUp.status] ?? topUp.status}`;
        return item;
      }),
    );
    $('topup-history-empty').hidden = autoTopUp.recentTopUps.length > 0;
  }

  /** The workspace the section was last loaded for: another one (signed in anew) starts the form afresh. */
  let loadedFor;

  async function load() {
    if (loadedFor !== workspaceId()) {
      loadedFor = workspaceId();
      editing = false;
      current = undefined;
      formError(undefined);
      $('topup-consent').hidden = true;
    }
    const { workspaceCredits } = await context.api(AUTO_TOP_UP, variables());
    render(workspaceCredits.autoTopUp);
  }

  async function act(button, work) {
    button.disabled = true;
    try {
      await work();
    } catch (error) {
      context.handleError(error);
    } finally {
      button.disabled = false;
      if (current) render(current);
    }
  }

  function wire() {
    $('topup-save-card').addEventListener('click', () =>
      act($('topup-save-card'), async () => {
        context.announce('Opening Stripe to save a card…');
        const { savePaymentMethod } = await context.api(SAVE_PAYMENT_METHOD, { input: { workspaceId: workspaceId() } });
        window.location.assign(savePaymentMethod.url);
      }),
    );
    $('topup-remove-card').addEventListener('click', () =>
      act($('topup-remove-card'), async () => {
        const { removePaymentMethod } = await context.api(REMOVE_PAYMENT_METHOD, {
          input: { workspaceId: workspaceId() },
          withMoney: true,
        });
        render(removePaymentMethod);
        context.announce('Card removed.');
      }),
    );
    // What the billing manager types stays until saved, whatever refreshes meanwhile.
    // Terms reviewed for other settings are no longer what would be agreed to: reviewed again first.
    $('topup-form').addEventListener('input', (event) => {
      if (event.target === $('topup-agree')) return;
      editing = true;
      $('topup-consent').hidden = true;
      $('topup-agree').checked = false;
      $('topup-terms').textContent = '';
    });
    $('topup-review').addEventListener('click', () =>
      act($('topup-review'), async () => {
        const input = proposal();
        if (!input) return;
        const { autoTopUpTerms } = await context.api(AUTO_TOP_UP_TERMS, { input });
        $('topup-terms').textContent = autoTopUpTerms.terms;
        $('topup-consent').hidden = false;
        $('topup-agree').checked = false;
      }),
    );
    $('topup-turn-on').addEventListener('click', () =>
      act($('topup-turn-on'), async () => {
        if (!$('topup-agree').checked) {
          context.announce('Read the terms and tick the box to agree first.');
          $('topup-agree').focus();
          return;
        }
        const input = proposal();
        if (!input) return;
        const { configureAutoTopUp } = await context.api(CONFIGURE_AUTO_TOP_UP, {
          input: { ...input, acceptedTerms: $('topup-terms').textContent },
          withMoney: true,
        });
        $('topup-consent').hidden = true;
        editing = false;
        render(configureAutoTopUp);
        context.succeeded();
        context.announce('Auto top-up is on.');
      }),
    );
    $('topup-turn-off').addEventListener('click', () =>
      act($('topup-turn-off'), async () => {
        if (!current) return;
        const { configureAutoTopUp } = await context.api(CONFIGURE_AUTO_TOP_UP, {
          input: turnedOff(current),
          withMoney: true,
        });
        editing = false;
        formError(undefined);
        render(configureAutoTopUp);
        context.succeeded();
        context.announce('Auto top-up is off.');
      }),
    );
  }

  /** ?setup=success or ?setup=cancelled: Stripe sent a billing manager back from saving a card. */
  function readSetupReturn() {
    const outcome = new URLSearchParams(window.location.search).get('setup');
    if (!outcome) return;
    context.announce(
      outcome === 'success' ? 'Card saved at Stripe; it shows here once Stripe confirms it.' : 'No card was saved.',
    );
    window.history.replaceState(null, '', window.location.pathname);
  }

  return { load, wire, readSetupReturn };
}
