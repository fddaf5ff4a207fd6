/**
 * The alerts read model: the rules in force, the alerts raised (newest first), and which workspaces
 * are due an expiry notice, asked together with the balance model's grants.
 */
import type { Database } from 'better-sqlite3';
import { CreditAlertsReader, creditAlertsProjection } from '../../projections/credit-alerts';
import { workspaceBalanceProjection } from '../../projections/workspace-balance';
import { DEFAULT_ALERT_RULES } from '../../src/domain/alert-rules';
import { configured, depleted, expiring, low, recovered, RULES } from '../domain/alert-builders';
import { at, consumed, DAY, draw, granted, purchased, WORKSPACE } from '../domain/builders';
import { webhookEndpointStreamName } from '../../src/events/webhook-endpoint-stream';
import { reserved } from '../domain/hold-builders';
import { by, inWorkspace, projection, recorded, type Given } from './spec';

const alerts = projection(workspaceBalanceProjection, creditAlertsProjection);
const reader = (db: Database) => new CreditAlertsReader(db);

describe('credit alerts: rules', () => {
  it('has the defaults for a workspace that never set any', () =>
    alerts.given().then((db) => reader(db).rules(WORKSPACE), {
      rules: DEFAULT_ALERT_RULES,
      configuredBy: undefined,
      configuredAt: undefined,
    }));

  it('has the last rules set, with who set them and when, per workspace', () =>
    alerts
      .given(
        configured({ lowBalanceCredits: 10 }, at(0)),
        configured({ lowBalancePercent: 30, expiringSoonDays: null }, at(DAY)),
        inWorkspace('ws-other', configured({ lowBalanceCredits: 99 })),
      )
      .then((db) => reader(db).rules(WORKSPACE), {
        rules: { ...RULES, lowBalancePercent: 30, expiringSoonDays: null },
        configuredBy: 'manager-1',
        configuredAt: at(DAY),
      }));
});

describe('credit alerts: history', () => {
  it('lists the alerts newest first, with what each says', () =>
    alerts
      .given(
        purchased({ credits: 150 }),
        by('user-1', consumed({ credits: 150, drawdown: [draw('purchase-1', 'PURCHASED', 150)], availableAfter: 0 })),
        depleted(100, at(DAY), false),
        low(0, 100, at(DAY)),
        recovered(500, 100, at(2 * DAY)),
        inWorkspace('ws-other', low(1, 100)),
      )
      .then(
        (db) =>
          reader(db)
            .recent(WORKSPACE, 10)
            .map(({ type, notify, available, threshold, occurredAt, position }) => ({
              type,
              notify,
              available,
              threshold,
              occurredAt,
              position,
            })),
        [
          {
            type: 'CreditsRecovered',
            notify: true,
            available: 500,
            threshold: 100,
            occurredAt: at(2 * DAY),
            position: 5n,
          },
          { type: 'CreditsLow', notify: true, available: 0, threshold: 100, occurredAt: at(DAY), position: 4n },
          {
            type: 'CreditsDepleted',
            notify: false,
            available: undefined,
            threshold: 100,
            occurredAt: at(DAY),
            position: 3n,
          },
        ],
      ));

  it('pages back from a position', () =>
    alerts.given(low(50, 100), recovered(200, 100), low(60, 100)).then(
      (db) =>
        reader(db)
          .recent(WORKSPACE, 1, 3n)
          .map((alert) => [alert.type, alert.position]),
      [['CreditsRecovered', 2n]],
    ));
});

describe('credit alerts: which workspaces are due an expiry notice', () => {
  const dueAt = (now: Date) => (db: Database) => reader(db).workspacesWithExpiringCredits(now.getTime(), 100).sort();

  it('finds a grant with credits left inside the default notice period of 7 days', () =>
    alerts
      .given(
        granted({ credits: 100, expiresAt: at(10 * DAY) }),
        inWorkspace('ws-later', granted({ credits: 100, expiresAt: at(30 * DAY) })),
      )
      .then(dueAt(at(3 * DAY)), [WORKSPACE]));

  it('uses each workspace’s own notice period, and skips those that turned notices off', () =>
    alerts
      .given(
        granted({ credits: 100, expiresAt: at(30 * DAY) }),
        configured({ expiringSoonDays: 30 }),
        inWorkspace('ws-off', granted({ credits: 100, expiresAt: at(2 * DAY) })),
        inWorkspace('ws-off', configured({ expiringSoonDays: null })),
      )
      .then(dueAt(at(DAY)), [WORKSPACE]));

  it('finds a grant whose every credit left is held by a running action', () =>
    alerts
      .given(
        granted({ credits: 300, expiresAt: at(2 * DAY) }),
        reserved({ drawdown: [draw('promo-1', 'PROMOTIONAL', 300)], availableAfter: 0, expiresAt: at(3 * DAY) }),
      )
      .then(dueAt(at(DAY)), [WORKSPACE]));

  it('skips grants already noticed, spent, or expired', () =>
    alerts
      .given(
        granted({ credits: 100, expiresAt: at(10 * DAY) }),
        expiring('promo-1', 100, at(10 * DAY), at(3 * DAY)),
        inWorkspace('ws-spent', granted({ credits: 100, expiresAt: at(10 * DAY) })),
        inWorkspace(
          'ws-spent',
          consumed({ credits: 100, drawdown: [draw('promo-1', 'PROMOTIONAL', 100)], availableAfter: 0 }),
        ),
        inWorkspace('ws-past', granted({ credits: 100, expiresAt: at(2 * DAY) })),
      )
      .then(dueAt(at(5 * DAY)), []));
});

describe('credit alerts: webhook endpoints disabled for failing', () => {
  const endpointEvent = (endpointId: string, type: string, data: Record<string, unknown>): Given =>
    recorded(webhookEndpointStreamName(endpointId), type, { endpointId, ...data }, { recordedAt: at(DAY) });
  const created = (endpointId: string, workspaceId: string | null): Given =>
    endpointEvent(endpointId, 'WebhookEndpointCreated', {
      workspaceId,
      url: `https://hooks.example.com/${endpointId}?token=t`,
      eventTypes: ['credits.low'],
      description: '',
      secret: 'sealed',
      createdBy: 'owner-1',
      createdAt: at(0).toISOString(),
    });
  const disabled = (endpointId: string, reason: 'FAILING' | 'MANUAL'): Given =>
    endpointEvent(endpointId, 'WebhookEndpointDisabled', {
      reason,
      failingSince: reason === 'FAILING' ? at(0).toISOString() : null,
      disabledBy: reason === 'FAILING' ? 'webhooks-reaction' : 'owner-1',
      disabledAt: at(5 * DAY).toISOString(),
    });

  it('tells the workspace its endpoint was disabled for failing, always, and no other workspace', () =>
    alerts
      .given(
        created('we_a', WORKSPACE),
        created('we_b', 'ws-other'),
        created('we_p', null),
        disabled('we_a', 'FAILING'),
        disabled('we_b', 'MANUAL'),
        disabled('we_p', 'FAILING'),
      )
      .then(
        (db) => ({
          mine: reader(db)
            .recent(WORKSPACE, 10)
            .map(({ type, notify, endpointId, failingSince, occurredAt }) => ({
              type,
              notify,
              endpointId,
              failingSince,
              occurredAt,
            })),
          // Disabled by its owner: not an alert. A platform endpoint: no workspace to tell.
          other: reader(db).recent('ws-other', 10),
        }),
        {
          mine: [
            {
              type: 'WebhookEndpointDisabled',
              notify: true,
              endpointId: 'we_a',
              failingSince: at(0),
              occurredAt: at(5 * DAY),
            },
          ],
          other: [],
        },
      ));
});
