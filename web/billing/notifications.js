/**
 * The Billing page's Notifications section, for owners and billing managers: the low-balance
 * threshold (the default, a number of credits or a percentage of the plan's, set here; the other
 * alert rules kept as they are), and the workspace's webhook
 * endpoints with whether they are on, what became of their latest deliveries, and a button that
 * sends an enabled one a signed test message. Endpoints are created through the API
 * (docs/webhooks.md); members do not see the section.
 */
import { formatCredits, formatDateTime } from './format.js';
import { CONFIGURE_CREDIT_ALERTS, NOTIFICATIONS, SEND_TEST_WEBHOOK, WEBHOOK_DELIVERIES } from './operations.js';

const RECENT_DELIVERIES = 5;
const $ = (id) => document.getElementById(id);

function endpointStatus(endpoint) {
  if (endpoint.status === 'ENABLED') {
    return endpoint.failingSince ? `On, failing since ${formatDateTime(endpoint.failingSince)}` : 'On';
  }
  return endpoint.disabledReason === 'FAILING'
    ? `Disabled: every delivery failed since ${formatDateTime(endpoint.failingSince)}`
    : 'Disabled';
}

function deliveryText(delivery) {
  const answer = delivery.lastStatusCode ? `HTTP ${delivery.lastStatusCode}` : delivery.lastError;
  const tries = delivery.attempts === 1 ? '1 attempt' : `${delivery.attempts} attempts`;
  switch (delivery.status) {
    case 'SUCCEEDED':
      return `delivered ${formatDateTime(delivery.deliveredAt)}`;
    case 'PENDING':
      return delivery.attempts === 0
        ? 'sending'
        : `failing (${answer}, ${tries}), next attempt ${formatDateTime(delivery.nextAttemptAt)}`;
    case 'FAILED':
      return `failed after ${tries} (${answer})`;
    default:
      return 'canceled: the endpoint was disabled';
  }
}

/**
 * Wires the section. `context`: { api(query, variables), session(), manages(), handleError(error),
 * announce(text), succeeded() (a change was saved: an earlier error no longer stands) }.
 */
export function notificationsSection(context) {
  let rules;
  /** Whether the billing manager has changed the form since it was last filled: a refresh leaves it be. */
  let editing = false;
  const workspaceId = () => context.session().claims.workspaceId;

  /** Says under the box why it cannot be saved, or clears that. */
  function fieldError(message) {
    $('alert-threshold-error').textContent = message ?? '';
    $('alert-threshold-error').hidden = !message;
    if (message) $('alert-threshold').setAttribute('aria-invalid', 'true');
    else $('alert-threshold').removeAttribute('aria-invalid');
  }

  function renderRules(current) {
    rules = current;
    $('alert-threshold-summary').textContent =
      current.lowBalanceCredits !== null
        ? `You are alerted when available credits fall below ${formatCredits(current.lowBalanceThreshold)}.`
        : current.lowBalancePercent !== null
          ? `You are alerted when available credits fall below ${current.lowBalancePercent} % of the plan's included credits (${formatCredits(current.lowBalanceThreshold)} now).`
          : `You are alerted when available credits fall below ${formatCredits(current.lowBalanceThreshold)} (the default).`;
    $('alert-threshold-summary').textContent +=
      ` Once low, the workspace recovers at ${formatCredits(current.recoveryThreshold)} available.`;
    if (!editing) showMode(modeOf(current));
  }

  /** How the rules set the threshold: the catalog's default, a number of credits, or a percentage. */
  const modeOf = (current) =>
    current.lowBalanceCredits !== null ? 'credits' : current.lowBalancePercent !== null ? 'percent' : 'default';

  /** The form as the mode asks: a percentage in percent, else credits (the effective threshold by default). */
  function showMode(mode) {
    $('alert-mode').value = mode;
    const percent = mode === 'percent';
    $('alert-threshold-label').textContent = percent
      ? "Alert below this percentage of the plan's included credits"
      : 'Alert when available credits fall below';
    $('alert-threshold').max = percent ? '100' : '';
    $('alert-threshold').value = String(
      percent ? (rules?.lowBalancePercent ?? 10) : (rules?.lowBalanceCredits ?? rules?.lowBalanceThreshold ?? 100),
    );
  }

  function renderEndpoints(endpoints, deliveries) {
    $('endpoints-empty').hidden = endpoints.length > 0;
    $('endpoints').replaceChildren(
      ...endpoints.map((endpoint, index) => {
        const item = document.createElement('li');
        item.className = 'endpoint';
        const head = document.createElement('div');
        head.className = 'section-head';
        const url = document.createElement('h4');
        url.className = 'endpoint__url';
        url.textContent = endpoint.url;
        const status = document.createElement('span');
        status.className = 'status-badge';
        status.dataset.status = endpoint.status === 'ENABLED' && !endpoint.failingSince ? 'on' : 'paused';
        status.textContent = endpoint.status === 'ENABLED' ? 'On' : 'Disabled';
        head.append(url, status);
        if (endpoint.status === 'ENABLED') {
          const test = document.createElement('button');
          test.type = 'button';
          test.className = 'button button--quiet';
          test.textContent = 'Send test';
          test.setAttribute('aria-label', `Send a test message to ${endpoint.url}`);
          test.addEventListener('click', () => sendTest(endpoint, test));
          head.append(test);
        }
        const detail = document.createElement('p');
        detail.className = 'hint';
        detail.textContent =
          `${endpointStatus(endpoint)} · ${endpoint.eventTypes.join(', ')}` +
          (endpoint.description ? ` · ${endpoint.description}` : '');
        const list = document.createElement('ul');
        list.className = 'plain-list';
        list.setAttribute('aria-label', `Latest deliveries to ${endpoint.url}`);
        const recent = deliveries[index];
        if (recent.length === 0) {
          const none = document.createElement('li');
          none.className = 'empty';
          none.textContent = 'Nothing sent yet.';
          list.append(none);
        }
        for (const delivery of recent) {
          const row = document.createElement('li');
          row.dataset.status = delivery.status;
          row.textContent = `${formatDateTime(delivery.createdAt)}: ${delivery.eventType} — ${deliveryText(delivery)}`;
          list.append(row);
        }
        item.append(head, detail, list);
        return item;
      }),
    );
  }

  /** Sends the endpoint a test message, then shows it among the latest deliveries. */
  async function sendTest(endpoint, button) {
    button.disabled = true;
    let sent;
    try {
      ({ sendTestWebhook: sent } = await context.api(SEND_TEST_WEBHOOK, { input: { endpointId: endpoint.id } }));
    } catch (error) {
      context.handleError(error);
      button.disabled = false;
      return;
    }
    // Sent: said so whatever comes of showing it (a list that fails to load is no failed test).
    context.announce(`Test message sent to ${endpoint.url} (webhook-id ${sent.id}).`);
    try {
      await load();
    } catch (error) {
      context.handleError(error);
    }
  }

  /** The workspace the section was last loaded for: another one (signed in anew) starts the form afresh. */
  let loadedFor;

  async function load() {
    if (loadedFor !== workspaceId()) {
      loadedFor = workspaceId();
      editing = false;
      rules = undefined;
      fieldError(undefined);
    }
    if (!context.manages()) {
      $('notifications').hidden = true;
      return;
    }
    const { creditAlertRules, webhookEndpoints } = await context.api(NOTIFICATIONS, { workspaceId: workspaceId() });
    const deliveries = await Promise.all(
      webhookEndpoints.map(
        async (endpoint) =>
          (await context.api(WEBHOOK_DELIVERIES, { endpointId: endpoint.id, first: RECENT_DELIVERIES }))
            .webhookDeliveries,
      ),
    );
    renderRules(creditAlertRules);
    renderEndpoints(webhookEndpoints, deliveries);
    $('notifications').hidden = false;
  }

  /** The threshold the form asks for, or why it cannot be saved. */
  function thresholdAsked() {
    const mode = $('alert-mode').value;
    if (mode === 'default') return { lowBalanceCredits: null, lowBalancePercent: null, said: 'the default' };
    // An empty box (or what a number field cannot read, which it reports as empty) is not 0.
    const text = $('alert-threshold').value.trim();
    const value = text === '' ? Number.NaN : Number(text);
    if (mode === 'percent') {
      return Number.isSafeInteger(value) && value >= 0 && value <= 100
        ? { lowBalanceCredits: null, lowBalancePercent: value, said: `${value} % of the plan's included credits` }
        : { refused: 'Enter a whole percentage from 0 to 100.' };
    }
    return Number.isSafeInteger(value) && value >= 0
      ? { lowBalanceCredits: value, lowBalancePercent: null, said: `${formatCredits(value)} credits` }
      : { refused: 'Enter a whole number of credits.' };
  }

  async function saveThreshold(event) {
    event.preventDefault();
    const asked = thresholdAsked();
    if (asked.refused) {
      fieldError(asked.refused);
      context.announce(asked.refused);
      $('alert-threshold').focus();
      return;
    }
    fieldError(undefined);
    const button = $('alert-save');
    button.disabled = true;
    try {
      // The rules are replaced whole, and another manager may have changed the others since this
      // page read them: the threshold is saved with the rules as they are now, not as loaded.
      const latest = (await context.api(NOTIFICATIONS, { workspaceId: workspaceId() })).creditAlertRules;
      rules = latest;
      // Saving what is already set would only write it again.
      if (
        rules &&
        rules.lowBalanceCredits === asked.lowBalanceCredits &&
        rules.lowBalancePercent === asked.lowBalancePercent
      ) {
        editing = false;
        renderRules(rules);
        context.announce('The low-balance alert is already set that way.');
        return;
      }
      const { configureCreditAlerts } = await context.api(CONFIGURE_CREDIT_ALERTS, {
        input: {
          workspaceId: workspaceId(),
          lowBalanceCredits: asked.lowBalanceCredits,
          lowBalancePercent: asked.lowBalancePercent,
          notifyLow: rules?.notifyLow ?? true,
          notifyDepleted: rules?.notifyDepleted ?? true,
          notifyRecovered: rules?.notifyRecovered ?? true,
          expiringSoonDays: rules ? rules.expiringSoonDays : 7,
        },
      });
      editing = false;
      renderRules(configureCreditAlerts);
      context.succeeded();
      context.announce(`Low-balance alert set to ${asked.said}.`);
    } catch (error) {
      context.handleError(error);
    } finally {
      button.disabled = false;
    }
  }

  function wire() {
    $('alert-form').addEventListener('submit', saveThreshold);
    $('alert-mode').addEventListener('change', () => {
      editing = true;
      showMode($('alert-mode').value);
    });
    // Typing a number over the default's means setting one's own.
    $('alert-threshold').addEventListener('input', () => {
      editing = true;
      fieldError(undefined);
      if ($('alert-mode').value === 'default') $('alert-mode').value = 'credits';
    });
    $('endpoints-refresh').addEventListener('click', async () => {
      try {
        await load();
        context.announce('Deliveries refreshed.');
      } catch (error) {
        context.handleError(error);
      }
    });
  }

  return { load, wire };
}
