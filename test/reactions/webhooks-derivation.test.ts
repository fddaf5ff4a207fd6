/**
 * The webhooks reaction's derivation: one delivery per message per subscribed endpoint, with the
 * balance the ledger shows at the event; rescheduled, completed or given up by the attempts the
 * endpoint's stream records; canceled when the endpoint is disabled; and the same from a replay.
 */
import type { Database } from 'better-sqlite3';
import { creditLedgerProjection } from '../../projections/credit-ledger';
import { reactionProjection } from '../../reactions/reaction-projection';
import { DELIVERY_RETENTION_MS, webhooksDerivation } from '../../reactions/webhooks/derivation';
import { WebhookReader } from '../../reactions/webhooks/reader';
import { deliveryIdOf, workKey } from '../../reactions/webhooks/work';
import { WorkReader } from '../../reactions/work-reader';
import { webhookEndpointStreamName } from '../../src/events/webhook-endpoint-stream';
import { low } from '../domain/alert-builders';
import { at, DAY, HOUR, purchased, WORKSPACE } from '../domain/builders';
import { projection, recorded, type Given } from '../projections/spec';

const webhooks = projection(creditLedgerProjection, reactionProjection(webhooksDerivation));
const WORK = "SELECT key, due_at, attempts FROM reaction_work WHERE reaction = 'webhooks' ORDER BY key";

const endpointEvent = (endpointId: string, type: string, data: Record<string, unknown>, when = at(0)): Given =>
  recorded(webhookEndpointStreamName(endpointId), type, { endpointId, ...data }, { recordedAt: when });

const created = (endpointId: string, workspaceId: string | null, eventTypes = ['credits.low']): Given =>
  endpointEvent(endpointId, 'WebhookEndpointCreated', {
    workspaceId,
    url: `https://hooks.example.com/${endpointId}`,
    eventTypes,
    description: '',
    secret: 'sealed',
    createdBy: 'owner-1',
    createdAt: at(0).toISOString(),
  });

const attempted = (
  endpointId: string,
  deliveryId: string,
  attempt: number,
  succeeded: boolean,
  next?: Date,
  attemptedAt = at(HOUR),
  resends?: Date,
): Given =>
  endpointEvent(endpointId, 'WebhookDeliveryAttempted', {
    deliveryId,
    eventType: 'credits.low',
    attempt,
    succeeded,
    statusCode: succeeded ? 200 : 503,
    error: succeeded ? null : 'HTTP 503',
    latencyMs: 5,
    nextAttemptAt: next?.toISOString() ?? null,
    attemptedAt: attemptedAt.toISOString(),
    ...(resends && { redeliveryRequestedAt: resends.toISOString() }),
  });

// The CreditsLow is the fourth event of every log below: its id is event-4 (spec.ts numbers them).
const lowAlert = low(80, 100, at(HOUR));
const base: Given[] = [created('we_a', WORKSPACE), created('we_p', null), purchased({ credits: 500 }), lowAlert];
const delivery = (endpointId: string) => deliveryIdOf(endpointId, 'event-4', 'credits.low');

describe('the webhooks derivation', () => {
  it('makes one delivery per subscribed endpoint, the workspace’s and the platform’s, with the ledger’s balance', () => {
    webhooks
      .given(...base, created('we_other', 'ws-other'), created('we_spends', WORKSPACE, ['purchase.completed']))
      .then(
        (db) => {
          const reader = new WebhookReader(db);
          const mine = reader.deliveries('we_a', 10);
          return {
            work: db.prepare(WORK).all(),
            body: JSON.parse(mine[0]?.body ?? '{}') as unknown,
            others: [reader.deliveries('we_other', 10).length, reader.deliveries('we_spends', 10).length],
          };
        },
        {
          work: [
            { key: workKey('we_a', delivery('we_a')), due_at: at(HOUR).getTime(), attempts: 0 },
            { key: workKey('we_p', delivery('we_p')), due_at: at(HOUR).getTime(), attempts: 0 },
          ],
          body: {
            type: 'credits.low',
            timestamp: at(HOUR).toISOString(),
            data: {
              schemaVersion: 1,
              workspaceId: WORKSPACE,
              position: '4',
              balanceAfter: 500, // the ledger's: a crossing before CROSSING_BALANCE_SINCE
              available: 80,
              threshold: 100,
            },
          },
          others: [0, 0],
        },
      );
  });

  it('reschedules a failed attempt at its next attempt, completes a delivered one, and gives up when told', () => {
    const next = new Date(at(HOUR).getTime() + 5_000);
    webhooks
      .given(
        ...base,
        attempted('we_a', delivery('we_a'), 1, false, next),
        attempted('we_p', delivery('we_p'), 1, false),
      )
      .then(
        (db) => ({
          work: db.prepare(WORK).all(),
          statuses: [
            new WebhookReader(db).delivery(delivery('we_a'))?.status,
            new WebhookReader(db).delivery(delivery('we_p'))?.status,
          ],
        }),
        {
          work: [{ key: workKey('we_a', delivery('we_a')), due_at: next.getTime(), attempts: 1 }],
          statuses: ['PENDING', 'FAILED'],
        },
      );
    webhooks
      .given(...base, attempted('we_a', delivery('we_a'), 1, false, next), attempted('we_a', delivery('we_a'), 2, true))
      .then(
        (db) => ({
          work: db.prepare(WORK).all().length,
          status: new WebhookReader(db).delivery(delivery('we_a'))?.status,
          attempts: new WebhookReader(db)
            .attempts(delivery('we_a'), 100)
            .map((attempt) => [attempt.attempt, attempt.succeeded]),
        }),
        {
          work: 1,
          status: 'SUCCEEDED',
          attempts: [
            [2, true],
            [1, false],
          ],
        },
      );
  });

  it('keeps a delivery delivered when another replica’s send of the same attempt fails, in either order', () => {
    // Two replicas sent attempt 1 (one's lease lapsed while its attempt was in flight): one got
    // through, the other timed out, and their answers are recorded in either order.
    const next = new Date(at(HOUR).getTime() + 5_000);
    const through = attempted('we_a', delivery('we_a'), 1, true);
    const timedOut = attempted('we_a', delivery('we_a'), 1, false, next, new Date(at(HOUR).getTime() + 10_000));
    const outcome = (db: Database) => {
      const reader = new WebhookReader(db);
      return {
        work: db
          .prepare(WORK)
          .all()
          .filter((row) => (row as { key: string }).key.startsWith('we_a/')).length,
        delivery: (({ status, attempts, nextAttemptAt, lastStatusCode }) => ({
          status,
          attempts,
          nextAttemptAt,
          lastStatusCode,
        }))(reader.delivery(delivery('we_a')) ?? ({} as never)),
        attempts: reader.attempts(delivery('we_a'), 100).map((attempt) => [attempt.attempt, attempt.succeeded]),
      };
    };
    const delivered = {
      work: 0,
      delivery: { status: 'SUCCEEDED' as const, attempts: 1, nextAttemptAt: undefined, lastStatusCode: 200 },
      attempts: [[1, true]],
    };
    webhooks.given(...base, through, timedOut).then(outcome, delivered);
    webhooks.given(...base, timedOut, through).then(outcome, delivered);
  });

  it('sends a test to the one endpoint asked, with its own webhook-id, and none to a disabled one', () => {
    const test = (endpointId: string, deliveryId: string, when = at(2 * HOUR)) =>
      endpointEvent(
        endpointId,
        'WebhookTestRequested',
        { deliveryId, requestedBy: 'owner-1', requestedAt: when.toISOString() },
        when,
      );
    const disabled = endpointEvent('we_off', 'WebhookEndpointDisabled', {
      reason: 'MANUAL',
      failingSince: null,
      disabledBy: 'owner-1',
      disabledAt: at(HOUR).toISOString(),
    });
    webhooks
      .given(
        ...base,
        created('we_off', WORKSPACE),
        disabled,
        test('we_a', 'msg_test_a'),
        test('we_p', 'msg_test_p'),
        test('we_off', 'msg_test_off'),
      )
      .then(
        (db) => {
          const reader = new WebhookReader(db);
          const tested = (endpointId: string) =>
            reader.deliveries(endpointId, 10).filter((sent) => sent.eventType === 'webhook.test');
          const [mine] = tested('we_a');
          const [platform] = tested('we_p');
          return {
            work: db
              .prepare(WORK)
              .all()
              .map((row) => (row as { key: string }).key),
            mine: mine && {
              id: mine.deliveryId,
              workspaceId: mine.workspaceId,
              body: JSON.parse(mine.body) as unknown,
            },
            platform: platform && { workspaceId: platform.workspaceId, body: JSON.parse(platform.body) as unknown },
            off: tested('we_off').length,
          };
        },
        {
          work: [
            workKey('we_a', delivery('we_a')),
            workKey('we_a', 'msg_test_a'),
            workKey('we_p', delivery('we_p')),
            workKey('we_p', 'msg_test_p'),
          ].sort(),
          mine: {
            id: 'msg_test_a',
            workspaceId: WORKSPACE,
            body: {
              type: 'webhook.test',
              timestamp: at(2 * HOUR).toISOString(),
              data: {
                schemaVersion: 1,
                workspaceId: WORKSPACE,
                position: '7',
                balanceAfter: 500,
                endpointId: 'we_a',
              },
            },
          },
          platform: {
            workspaceId: null,
            body: {
              type: 'webhook.test',
              timestamp: at(2 * HOUR).toISOString(),
              data: {
                schemaVersion: 1,
                workspaceId: null,
                position: '8',
                balanceAfter: null,
                endpointId: 'we_p',
              },
            },
          },
          off: 0,
        },
      );
  });

  it('forgets finished deliveries and their attempts 30 days after they were made, in the log’s time', () => {
    const month = DELIVERY_RETENTION_MS;
    const rows = (given: Given[], expected: { deliveries: string[][]; attempts: (string | number)[][] }) =>
      webhooks.given(...given).then(
        (db) => ({
          deliveries: db
            .prepare<[], { delivery_id: string; status: string }>(
              'SELECT delivery_id, status FROM webhook_deliveries ORDER BY rowid',
            )
            .all()
            .map((row) => [row.delivery_id, row.status]),
          attempts: db
            .prepare<[], { delivery_id: string; attempt: number }>(
              'SELECT delivery_id, attempt FROM webhook_attempts ORDER BY delivery_id, attempt',
            )
            .all()
            .map((row) => [row.delivery_id, row.attempt]),
        }),
        expected,
      );
    /** Any event of the log at `when`: the time the derivation forgets by. */
    const laterEvent = (when: Date) =>
      purchased({ credits: 10, grantId: 'purchase-later', purchaseId: 'purchase-later', purchasedAt: when });
    // we_a delivered, we_p given up; a later alert (event-7) still pending.
    const finished: Given[] = [
      ...base,
      attempted('we_a', delivery('we_a'), 1, true),
      attempted('we_p', delivery('we_p'), 1, false),
      low(60, 100, at(2 * HOUR)),
    ];
    const later = (endpointId: string) => deliveryIdOf(endpointId, 'event-7', 'credits.low');
    const pendingLater = [
      [later('we_a'), 'PENDING'],
      [later('we_p'), 'PENDING'],
    ];
    // Within 30 days of the first alert: everything kept.
    rows([...finished, laterEvent(at(HOUR + month - 1))], {
      deliveries: [[delivery('we_a'), 'SUCCEEDED'], [delivery('we_p'), 'FAILED'], ...pendingLater],
      attempts: [
        [delivery('we_a'), 1],
        [delivery('we_p'), 1],
      ].sort(),
    });
    // Past 30 days: the finished ones are forgotten with their attempts; the ones still pending stay.
    rows([...finished, laterEvent(at(2 * HOUR + month + 1))], { deliveries: pendingLater, attempts: [] });
    // A finished delivery resent since is kept until it is finished again.
    rows(
      [
        ...base,
        attempted('we_a', delivery('we_a'), 1, false),
        attempted('we_p', delivery('we_p'), 1, true),
        endpointEvent(
          'we_a',
          'WebhookRedeliveryRequested',
          { deliveryId: delivery('we_a'), requestedBy: 'owner-1', requestedAt: at(month).toISOString() },
          at(month),
        ),
        laterEvent(at(2 * HOUR + month)),
      ],
      { deliveries: [[delivery('we_a'), 'PENDING']], attempts: [[delivery('we_a'), 1]] },
    );
    // A resend asked for just past the 30 days: its own event does not forget it first.
    const lateAsk = at(HOUR + month + 1);
    const asked = endpointEvent(
      'we_a',
      'WebhookRedeliveryRequested',
      { deliveryId: delivery('we_a'), requestedBy: 'owner-1', requestedAt: lateAsk.toISOString() },
      lateAsk,
    );
    const bothDelivered = [
      ...base,
      attempted('we_a', delivery('we_a'), 1, true),
      attempted('we_p', delivery('we_p'), 1, true),
    ];
    rows([...bothDelivered, asked], { deliveries: [[delivery('we_a'), 'PENDING']], attempts: [[delivery('we_a'), 1]] });
    // An answer that comes for a delivery forgotten since leaves no attempt behind.
    rows(
      [
        ...bothDelivered,
        laterEvent(at(2 * HOUR + month + 1)),
        attempted('we_a', delivery('we_a'), 2, true, undefined, at(2 * HOUR + month + 2)),
      ],
      { deliveries: [], attempts: [] },
    );
  });

  it('keeps the endpoint failing since when its attempts say, a failure after a quiet time starting afresh', () => {
    const failed = (when: Date, failingSince: Date | null | undefined) =>
      endpointEvent(
        'we_a',
        'WebhookDeliveryAttempted',
        {
          deliveryId: delivery('we_a'),
          eventType: 'credits.low',
          attempt: 1,
          succeeded: failingSince === null,
          statusCode: failingSince === null ? 200 : 503,
          error: failingSince === null ? null : 'HTTP 503',
          latencyMs: 5,
          nextAttemptAt: null,
          attemptedAt: when.toISOString(),
          ...(failingSince !== undefined && { failingSince: failingSince?.toISOString() ?? null }),
        },
        when,
      );
    const failingSince = 'SELECT failing_since FROM webhook_endpoints WHERE endpoint_id = ?';
    const read = (db: Database) =>
      (db.prepare(failingSince).get('we_a') as { failing_since: number | null }).failing_since;
    // Recorded before attempts said (the first failure since a success), then as they say.
    webhooks
      .given(...base, failed(at(HOUR), undefined), failed(at(2 * HOUR), undefined))
      .then(read, at(HOUR).getTime());
    webhooks
      .given(...base, failed(at(HOUR), at(HOUR)), failed(at(5 * DAY), at(5 * DAY)))
      .then(read, at(5 * DAY).getTime());
    webhooks.given(...base, failed(at(HOUR), at(HOUR)), failed(at(2 * HOUR), null)).then(read, null);
  });

  it('sends again with the same webhook-id when asked, counting attempts on', () => {
    webhooks
      .given(
        ...base,
        attempted('we_a', delivery('we_a'), 1, true),
        endpointEvent('we_a', 'WebhookRedeliveryRequested', {
          deliveryId: delivery('we_a'),
          requestedBy: 'o',
          requestedAt: at(DAY).toISOString(),
        }),
      )
      .then(
        (db) =>
          db
            .prepare("SELECT key, payload, due_at, attempts FROM reaction_work WHERE key LIKE 'we_a/%'")
            .all()
            .map((row) => {
              const { payload, ...rest } = row as { payload: string; key: string; due_at: number; attempts: number };
              return { ...rest, firstAttempt: (JSON.parse(payload) as { firstAttempt: number }).firstAttempt };
            }),
        [{ key: workKey('we_a', delivery('we_a')), due_at: at(DAY).getTime(), attempts: 0, firstAttempt: 2 }],
      );
  });

  it('still resends when asked while an attempt was in flight, whatever that attempt came to', () => {
    const asked = endpointEvent('we_a', 'WebhookRedeliveryRequested', {
      deliveryId: delivery('we_a'),
      requestedBy: 'o',
      requestedAt: at(DAY).toISOString(),
    });
    const later = new Date(at(DAY).getTime() + 60_000);
    const view = (db: Parameters<Parameters<ReturnType<typeof webhooks.given>['then']>[0]>[0]) => ({
      work: db
        .prepare("SELECT payload, due_at, attempts FROM reaction_work WHERE key LIKE 'we_a/%'")
        .all()
        .map((row) => {
          const { payload, ...rest } = row as { payload: string; due_at: number; attempts: number };
          return { ...rest, firstAttempt: (JSON.parse(payload) as { firstAttempt: number }).firstAttempt };
        }),
      status: new WebhookReader(db).delivery(delivery('we_a'))?.status,
      attempts: new WebhookReader(db).attempts(delivery('we_a'), 100).map((attempt) => attempt.attempt),
    });
    // Attempt 1 failed; attempt 2 was sent (at HOUR + 1 s) and, while it hung, the redelivery was
    // asked for at DAY. Whatever attempt 2 then came to (a failure with its own next time, a
    // success, the end of the schedule), the resend stays due at DAY, as attempt 3.
    const hanging = new Date(at(HOUR).getTime() + 1_000);
    const inFlightWhenAsked = (...then: Given[]) =>
      webhooks.given(...base, attempted('we_a', delivery('we_a'), 1, false, hanging), asked, ...then);
    const resendDue = {
      work: [{ due_at: at(DAY).getTime(), attempts: 0, firstAttempt: 3 }],
      status: 'PENDING' as const,
    };
    for (const [succeeded, next] of [
      [false, later],
      [true, undefined],
      [false, undefined],
    ] as const) {
      inFlightWhenAsked(attempted('we_a', delivery('we_a'), 2, succeeded, next, hanging)).then(view, {
        ...resendDue,
        attempts: [2, 1],
      });
    }
    // The resend (attempt 3, naming the redelivery it resends) is an attempt like any other, even
    // dated before the request by a sender whose clock is behind the requester's.
    for (const sentAt of [later, hanging]) {
      inFlightWhenAsked(
        attempted('we_a', delivery('we_a'), 2, false, later, hanging),
        attempted('we_a', delivery('we_a'), 3, true, undefined, sentAt, at(DAY)),
      ).then(view, { work: [], status: 'SUCCEEDED', attempts: [3, 2, 1] });
    }
    // Recorded before attempts named their resend: told apart by time.
    inFlightWhenAsked(
      attempted('we_a', delivery('we_a'), 2, false, later, hanging),
      attempted('we_a', delivery('we_a'), 3, true, undefined, later),
    ).then(view, { work: [], status: 'SUCCEEDED', attempts: [3, 2, 1] });
    // An attempt of an earlier resend, in flight when another was asked for, is history too.
    inFlightWhenAsked(attempted('we_a', delivery('we_a'), 2, false, later, later, at(HOUR))).then(view, {
      ...resendDue,
      attempts: [2, 1],
    });
  });

  it('cancels what a disabled endpoint was owed and owes it nothing new until enabled', () => {
    webhooks
      .given(
        created('we_a', WORKSPACE),
        purchased({ credits: 500 }),
        lowAlert,
        endpointEvent('we_a', 'WebhookEndpointDisabled', {
          reason: 'FAILING',
          failingSince: at(0).toISOString(),
          disabledBy: 'r',
          disabledAt: at(DAY).toISOString(),
        }),
        low(70, 100, at(2 * DAY)),
      )
      .then(
        (db) => ({
          work: db.prepare(WORK).all(),
          deliveries: new WebhookReader(db).deliveries('we_a', 10).map((d) => d.status),
          endpoint: new WebhookReader(db).endpoint('we_a')?.disabledReason,
        }),
        {
          work: [],
          deliveries: ['CANCELED'],
          endpoint: 'FAILING',
        },
      );
  });

  it('cancels what an endpoint is owed of types it no longer subscribes to, and keeps the rest', () => {
    const both = ['credits.low', 'purchase.completed'];
    const updated = (eventTypes: string[]) =>
      endpointEvent('we_a', 'WebhookEndpointUpdated', {
        url: 'https://hooks.example.com/moved',
        eventTypes,
        description: '',
        updatedBy: 'owner-1',
        updatedAt: at(2 * HOUR).toISOString(),
      });
    const statuses = (db: Database) => ({
      work: db.prepare(WORK).all().length,
      deliveries: new WebhookReader(db)
        .deliveries('we_a', 10)
        .map((d) => [d.eventType, d.status])
        .sort(),
    });
    // purchase.completed (event-2) and credits.low (event-3) pending; then only credits.low wanted.
    webhooks
      .given(created('we_a', WORKSPACE, both), purchased({ credits: 500 }), lowAlert, updated(['credits.low']))
      .then(statuses, {
        work: 1,
        deliveries: [
          ['credits.low', 'PENDING'],
          ['purchase.completed', 'CANCELED'],
        ],
      });
    // A URL change alone cancels nothing.
    webhooks
      .given(created('we_a', WORKSPACE, both), purchased({ credits: 500 }), lowAlert, updated(both))
      .then(statuses, {
        work: 2,
        deliveries: [
          ['credits.low', 'PENDING'],
          ['purchase.completed', 'PENDING'],
        ],
      });
  });

  it('alerts the workspace’s other endpoints and the platform’s when one is disabled for failing', () => {
    const disabled = (reason: string) =>
      endpointEvent(
        'we_a',
        'WebhookEndpointDisabled',
        { reason, failingSince: at(0).toISOString(), disabledBy: 'r', disabledAt: at(DAY).toISOString() },
        at(DAY),
      );
    const alertTo = (endpointId: string) => deliveryIdOf(endpointId, 'event-6', 'webhook_endpoint.disabled');
    const given = [
      created('we_a', WORKSPACE),
      created('we_b', WORKSPACE, ['webhook_endpoint.disabled']),
      created('we_p', null, ['webhook_endpoint.disabled']),
      created('we_low', WORKSPACE, ['credits.low']),
      purchased({ credits: 500 }),
    ];
    webhooks.given(...given, disabled('FAILING')).then(
      (db) => {
        const reader = new WebhookReader(db);
        return {
          work: db.prepare(WORK).all(),
          body: JSON.parse(reader.deliveries('we_p', 10)[0]?.body ?? '{}') as unknown,
        };
      },
      {
        work: [
          { key: workKey('we_b', alertTo('we_b')), due_at: at(DAY).getTime(), attempts: 0 },
          { key: workKey('we_p', alertTo('we_p')), due_at: at(DAY).getTime(), attempts: 0 },
        ],
        body: {
          type: 'webhook_endpoint.disabled',
          timestamp: at(DAY).toISOString(),
          data: {
            schemaVersion: 1,
            workspaceId: WORKSPACE,
            position: '6',
            balanceAfter: 500,
            endpointId: 'we_a',
            url: 'https://hooks.example.com',
            reason: 'FAILING',
            failingSince: at(0).toISOString(),
          },
        },
      },
    );
    // Disabled by someone: they know.
    webhooks.given(...given, disabled('MANUAL')).then((db) => db.prepare(WORK).all(), []);
  });

  it('alerts the platform’s other endpoints when a platform endpoint is disabled for failing, from the rule’s start on', () => {
    const when = (instant: string) => new Date(instant);
    const disabled = (instant: string) =>
      endpointEvent(
        'we_p',
        'WebhookEndpointDisabled',
        { reason: 'FAILING', failingSince: at(0).toISOString(), disabledBy: 'r', disabledAt: instant },
        when(instant),
      );
    const given = [
      created('we_p', null),
      created('we_q', null, ['webhook_endpoint.disabled']),
      created('we_ws', WORKSPACE, ['webhook_endpoint.disabled']),
    ];
    const alertTo = (endpointId: string) => deliveryIdOf(endpointId, 'event-4', 'webhook_endpoint.disabled');
    webhooks.given(...given, disabled('2026-12-04T00:00:00.000Z')).then(
      (db) => ({
        work: db.prepare(WORK).all(),
        body: JSON.parse(new WebhookReader(db).deliveries('we_q', 10)[0]?.body ?? '{}') as unknown,
      }),
      {
        // The platform's other endpoint only: no workspace's endpoint hears of the platform's.
        work: [{ key: workKey('we_q', alertTo('we_q')), due_at: Date.parse('2026-12-04T00:00:00.000Z'), attempts: 0 }],
        body: {
          type: 'webhook_endpoint.disabled',
          timestamp: '2026-12-04T00:00:00.000Z',
          data: {
            schemaVersion: 1,
            workspaceId: null,
            position: '4',
            balanceAfter: null,
            endpointId: 'we_p',
            url: 'https://hooks.example.com',
            reason: 'FAILING',
            failingSince: at(0).toISOString(),
          },
        },
      },
    );
    // Disabled before the rule began: a rebuild of the deliveries sends nothing that was never owed.
    webhooks.given(...given, disabled('2026-12-02T00:00:00.000Z')).then((db) => db.prepare(WORK).all(), []);
  });

  it('keeps each endpoint’s work apart, the most overdue first, for the executor’s bound per endpoint', () => {
    const both = ['credits.low', 'purchase.completed'];
    const given = [
      created('we_a', WORKSPACE, both),
      created('we_b', WORKSPACE, both),
      purchased({ credits: 500 }), // event-3
      low(80, 100, at(HOUR)), // event-4
      low(70, 100, at(2 * HOUR)), // event-5
    ];
    const id = (endpointId: string, event: number) =>
      workKey(
        endpointId,
        deliveryIdOf(endpointId, `event-${event}`, event === 3 ? 'purchase.completed' : 'credits.low'),
      );
    webhooks.given(...given).then(
      (db) => {
        const reader = new WorkReader(db);
        const now = at(DAY).getTime();
        return {
          partitions: reader.partitions('webhooks'),
          a: reader.dueIn('webhooks', 'we_a', now, 2).map((item) => item.key),
          b: reader.dueIn('webhooks', 'we_b', now, 10).map((item) => item.key),
          none: reader.dueIn('webhooks', 'we_other', now, 10),
        };
      },
      {
        partitions: ['we_a', 'we_b'],
        a: [id('we_a', 3), id('we_a', 4)],
        b: [id('we_b', 3), id('we_b', 4), id('we_b', 5)],
        none: [],
      },
    );
  });
});
