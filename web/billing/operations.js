/**
 * Every GraphQL operation the Billing page sends. They are plain strings so that a frontend team
 * can copy them; test/browser/billing-operations.test.ts validates each against
 * schema/schema.graphql, so a schema change that breaks the page fails the build.
 */

const BALANCE_FIELDS = /* GraphQL */ `
  fragment BillingBalance on WorkspaceCredits {
    id
    workspaceId
    available
    held
    lowBalance
    lowBalanceThreshold
    periodStart
    periodEnd
    plan {
      id
      name
      includedCredits
    }
    included {
      granted
      consumed
      expired
      remaining
    }
    purchased {
      granted
      consumed
      refunded
      remaining
    }
    promotional {
      granted
      consumed
      expired
      remaining
    }
    grants {
      source
      remaining
      expiresAt
    }
  }
`;

/**
 * The first paint: the balance, what can be bought, whether this server can take the payment, and
 * what was bought. `withMoney` is false for a MEMBER or SERVICE, who may not read what was paid
 * (the server would answer FORBIDDEN for it).
 */
/** A page of purchases, newest first: the Billing page shows PURCHASES_SHOWN, then more on asking. */
const PURCHASES_PAGE = /* GraphQL */ `
  fragment PurchasesPage on CreditPurchaseConnection {
    edges {
      node {
        id
        purchaseId
        packageName
        credits
        creditsLeft
        amountPaid @include(if: $withMoney) {
          amount
          currency
        }
        status
        purchasedAt
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
`;

export const BILLING_OVERVIEW = /* GraphQL */ `
  query BillingOverview($workspaceId: ID!, $withMoney: Boolean!, $purchasesShown: Int!) {
    workspaceCredits(workspaceId: $workspaceId) {
      ...BillingBalance
    }
    paymentSettings {
      id
      enabled
    }
    creditPackages {
      id
      name
      credits
      price {
        amount
        currency
      }
    }
    creditPurchasesPage(workspaceId: $workspaceId, first: $purchasesShown) {
      ...PurchasesPage
    }
  }
  ${BALANCE_FIELDS}
  ${PURCHASES_PAGE}
`;

/** Only the purchases, a page of them: with `after`, the older ones past what is shown. */
export const CREDIT_PURCHASES = /* GraphQL */ `
  query BillingPurchases($workspaceId: ID!, $withMoney: Boolean!, $purchasesShown: Int!, $after: String) {
    creditPurchasesPage(workspaceId: $workspaceId, first: $purchasesShown, after: $after) {
      ...PurchasesPage
    }
  }
  ${PURCHASES_PAGE}
`;

/**
 * What a change of the balance may have changed at the top of the page, read again at once: the
 * balance and its breakdown with the newest purchases (after a live update, a reconnection, and the
 * checkout's safety-net refetch, so that "Available now" is never older than the purchase it follows).
 */
export const BILLING_REFRESH = /* GraphQL */ `
  query BillingRefresh($workspaceId: ID!, $withMoney: Boolean!, $purchasesShown: Int!) {
    workspaceCredits(workspaceId: $workspaceId) {
      ...BillingBalance
    }
    creditPurchasesPage(workspaceId: $workspaceId, first: $purchasesShown) {
      ...PurchasesPage
    }
  }
  ${BALANCE_FIELDS}
  ${PURCHASES_PAGE}
`;

/**
 * One page of the ledger, newest first; `after` is the previous page's endCursor. Each entry says
 * what it is about: the spend (its id is what refundCreditConsumption takes), the purchase and its
 * package, the refund and where it stands, the plan, and the reason. `withMoney` as for purchases.
 */
export const CREDIT_LEDGER = /* GraphQL */ `
  query BillingLedger($workspaceId: ID!, $first: Int!, $after: String, $withMoney: Boolean!) {
    creditLedger(workspaceId: $workspaceId, first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          type
          occurredAt
          credits
          balanceAfter
          action
          units
          actorId
          reference
          refundedCredits
          spentCredits
          consumptionId
          purchaseId
          packageName
          refundId
          refundStatus
          planName
          reason
          amount @include(if: $withMoney) {
            amount
            currency
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/**
 * The chart's data. creditUsage(groupBy: DAY) gives each day's total (net of refunded spends); the
 * split by action comes from the spends of the ledger in the same range (CONSUMPTION entries and the
 * real cost of settled holds, HOLD_SETTLED), paged.
 */
export const USAGE_BY_DAY = /* GraphQL */ `
  query BillingUsageByDay($workspaceId: ID!, $from: DateTime!, $to: DateTime!) {
    creditUsage(workspaceId: $workspaceId, from: $from, to: $to, groupBy: DAY) {
      day
      credits
      count
    }
  }
`;

export const SPENDS_IN_RANGE = /* GraphQL */ `
  query BillingSpends($workspaceId: ID!, $from: DateTime!, $to: DateTime!, $first: Int!, $after: String) {
    creditLedger(
      workspaceId: $workspaceId
      from: $from
      to: $to
      first: $first
      after: $after
      types: [CONSUMPTION, HOLD_SETTLED]
    ) {
      edges {
        node {
          occurredAt
          action
          spentCredits
          refundedCredits
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/** Credits held by running actions right now (active holds), newest first. */
export const ACTIVE_HOLDS = /* GraphQL */ `
  query BillingActiveHolds($workspaceId: ID!, $first: Int!) {
    creditHolds(workspaceId: $workspaceId, status: ACTIVE, first: $first) {
      edges {
        node {
          id
          action
          units
          credits
          expiresAt
          reference
          createdAt
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`;

/** Opens Stripe Checkout; the page then navigates to `url`. */
export const START_CREDIT_PURCHASE = /* GraphQL */ `
  mutation BillingStartCreditPurchase($input: StartCreditPurchaseInput!) {
    startCreditPurchase(input: $input) {
      id
      url
    }
  }
`;

/** An admin gives a spend's credits back (the ledger's consumptionId); the answer is the new balance. */
export const REFUND_SPEND = /* GraphQL */ `
  mutation BillingRefundSpend($input: RefundCreditConsumptionInput!) {
    refundCreditConsumption(input: $input) {
      ...BillingBalance
    }
  }
  ${BALANCE_FIELDS}
`;

/** Over graphql-ws: the breakdown after every change of the balance. */
export const CREDITS_CHANGED = /* GraphQL */ `
  subscription BillingCreditsChanged($workspaceId: ID!) {
    workspaceCreditsChanged(workspaceId: $workspaceId) {
      ...BillingBalance
    }
  }
  ${BALANCE_FIELDS}
`;

/** Auto top-up (auto-top-up.js): settings, card, consent, this month and the latest top-ups. */
const AUTO_TOP_UP_FIELDS = /* GraphQL */ `
  fragment AutoTopUpFields on AutoTopUp {
    id
    enabled
    paused
    pauseReason
    thresholdCredits
    packageId
    packageName
    targetCredits
    monthlyLimit @include(if: $withMoney) {
      amount
      currency
    }
    chargedThisMonth @include(if: $withMoney) {
      amount
      currency
    }
    card @include(if: $withMoney) {
      id
      brand
      last4
      expMonth
      expYear
    }
    consent @include(if: $withMoney) {
      id
      acceptedBy
      acceptedAt
      terms
    }
    lastFailure {
      id
      reason
      message
      retryAt
      failedAt
    }
    recentTopUps {
      id
      status
      credits
      amount @include(if: $withMoney) {
        amount
        currency
      }
      requestedAt
    }
  }
`;

export const AUTO_TOP_UP = /* GraphQL */ `
  query BillingAutoTopUp($workspaceId: ID!, $withMoney: Boolean!) {
    workspaceCredits(workspaceId: $workspaceId) {
      id
      autoTopUp {
        ...AutoTopUpFields
      }
    }
  }
  ${AUTO_TOP_UP_FIELDS}
`;

export const AUTO_TOP_UP_TERMS = /* GraphQL */ `
  query BillingAutoTopUpTerms($input: AutoTopUpSettingsInput!) {
    autoTopUpTerms(input: $input) {
      id
      terms
    }
  }
`;

export const CONFIGURE_AUTO_TOP_UP = /* GraphQL */ `
  mutation BillingConfigureAutoTopUp($input: ConfigureAutoTopUpInput!, $withMoney: Boolean!) {
    configureAutoTopUp(input: $input) {
      ...AutoTopUpFields
    }
  }
  ${AUTO_TOP_UP_FIELDS}
`;

export const SAVE_PAYMENT_METHOD = /* GraphQL */ `
  mutation BillingSavePaymentMethod($input: SavePaymentMethodInput!) {
    savePaymentMethod(input: $input) {
      id
      url
    }
  }
`;

export const REMOVE_PAYMENT_METHOD = /* GraphQL */ `
  mutation BillingRemovePaymentMethod($input: RemovePaymentMethodInput!, $withMoney: Boolean!) {
    removePaymentMethod(input: $input) {
      ...AutoTopUpFields
    }
  }
  ${AUTO_TOP_UP_FIELDS}
`;

const ALERT_RULES_FIELDS = /* GraphQL */ `
  fragment AlertRulesFields on CreditAlertRules {
    id
    lowBalanceCredits
    lowBalancePercent
    lowBalanceThreshold
    recoveryThreshold
    notifyLow
    notifyDepleted
    notifyRecovered
    expiringSoonDays
  }
`;

/** The Notifications section: the alert rules and the workspace's webhook endpoints. */
export const NOTIFICATIONS = /* GraphQL */ `
  query BillingNotifications($workspaceId: ID!) {
    creditAlertRules(workspaceId: $workspaceId) {
      ...AlertRulesFields
    }
    webhookEndpoints(workspaceId: $workspaceId) {
      id
      url
      description
      eventTypes
      status
      disabledReason
      failingSince
    }
  }
  ${ALERT_RULES_FIELDS}
`;

/** An endpoint's latest deliveries. */
export const WEBHOOK_DELIVERIES = /* GraphQL */ `
  query BillingWebhookDeliveries($endpointId: ID!, $first: Int!) {
    webhookDeliveries(endpointId: $endpointId, first: $first) {
      id
      eventType
      status
      attempts
      lastStatusCode
      lastError
      nextAttemptAt
      createdAt
      deliveredAt
    }
  }
`;

/** A signed test message to one endpoint (webhook.test), to check the receiver. */
export const SEND_TEST_WEBHOOK = /* GraphQL */ `
  mutation BillingSendTestWebhook($input: WebhookEndpointIdInput!) {
    sendTestWebhook(input: $input) {
      id
    }
  }
`;

export const CONFIGURE_CREDIT_ALERTS = /* GraphQL */ `
  mutation BillingConfigureCreditAlerts($input: ConfigureCreditAlertsInput!) {
    configureCreditAlerts(input: $input) {
      ...AlertRulesFields
    }
  }
  ${ALERT_RULES_FIELDS}
`;
