/** The webhook endpoint's rules, decided from its own stream. */
import { at, attempted, command, created, DAY, decided, ENDPOINT, HOUR, recordAttempt, T0 } from './builders';
import type { WebhookEndpointEvent } from '../../../src/domain/webhooks/endpoint-events';
import { given } from './spec';

describe('creating an endpoint', () => {
  it('records its scope, URL, event types and sealed secret', () => {
    given()
      .when(
        command(
          'CreateWebhookEndpoint',
          {
            workspaceId: 'acme',
            url: 'https://hooks.example.com/credits',
            eventTypes: ['credits.low'],
            description: 'our backend',
            secret: 'sealed-1',
          },
          T0,
        ),
      )
      .then(created());
  });

  it('makes a platform endpoint when no workspace is named', () => {
    given()
      .when(
        command(
          'CreateWebhookEndpoint',
          {
            workspaceId: null,
            url: 'https://x.example',
            eventTypes: ['purchase.completed'],
            description: '',
            secret: 's',
          },
          T0,
        ),
      )
      .then(
        created({
          workspaceId: null,
          url: 'https://x.example',
          eventTypes: ['purchase.completed'],
          description: '',
          secret: 's',
        }),
      );
  });

  it('refuses an endpoint with no event type, and an id that exists', () => {
    given()
      .when(
        command('CreateWebhookEndpoint', {
          workspaceId: 'acme',
          url: 'https://x',
          eventTypes: [],
          description: '',
          secret: 's',
        }),
      )
      .thenThrows('BAD_USER_INPUT');
    given(created())
      .when(
        command('CreateWebhookEndpoint', {
          workspaceId: 'acme',
          url: 'https://x',
          eventTypes: ['credits.low'],
          description: '',
          secret: 's',
        }),
      )
      .thenThrows('CONFLICT');
  });
});

describe('changing an endpoint', () => {
  it('records the settings as they are after the change, and nothing when nothing changes', () => {
    given(created())
      .when(command('UpdateWebhookEndpoint', { eventTypes: ['credits.low', 'credits.depleted'] }))
      .then({
        type: 'WebhookEndpointUpdated',
        data: {
          endpointId: ENDPOINT,
          url: 'https://hooks.example.com/credits',
          eventTypes: ['credits.low', 'credits.depleted'],
          description: 'our backend',
          updatedBy: 'owner-1',
          updatedAt: at(HOUR),
        },
      });
    given(created())
      .when(command('UpdateWebhookEndpoint', { description: 'our backend' }))
      .thenNothing();
  });

  it('knows no endpoint that was never created, and changes no deleted one', () => {
    given().when(command('DisableWebhookEndpoint')).thenThrows('NOT_FOUND');
    const deleted = {
      type: 'WebhookEndpointDeleted',
      data: { endpointId: ENDPOINT, deletedBy: 'o', deletedAt: T0 },
    } as const;
    given(created(), deleted).when(command('EnableWebhookEndpoint')).thenThrows('CONFLICT');
    given(created(), deleted)
      .when(command('UpdateWebhookEndpoint', { url: 'https://y' }))
      .thenThrows('CONFLICT');
  });

  it('disables and enables once each', () => {
    const disabled = {
      type: 'WebhookEndpointDisabled',
      data: { endpointId: ENDPOINT, reason: 'MANUAL', failingSince: null, disabledBy: 'owner-1', disabledAt: at(HOUR) },
    } as const;
    given(created()).when(command('DisableWebhookEndpoint')).then(disabled);
    given(created(), disabled).when(command('DisableWebhookEndpoint')).thenNothing();
    given(created(), disabled)
      .when(command('EnableWebhookEndpoint'))
      .then({
        type: 'WebhookEndpointEnabled',
        data: { endpointId: ENDPOINT, enabledBy: 'owner-1', enabledAt: at(HOUR) },
      });
    given(created()).when(command('EnableWebhookEndpoint')).thenNothing();
  });
});

describe('rotating the secret', () => {
  it('keeps the previous secret signing until the overlap ends', () => {
    given(created())
      .when(command('RotateWebhookSecret', { secret: 'sealed-2', overlapMs: DAY }))
      .then({
        type: 'WebhookSecretRotated',
        data: {
          endpointId: ENDPOINT,
          secret: 'sealed-2',
          previousSecretExpiresAt: at(HOUR + DAY),
          rotatedBy: 'owner-1',
          rotatedAt: at(HOUR),
        },
      });
  });

  describe('with an idempotency key', () => {
    const rotated = (secret: string, idempotencyKey: string, when = HOUR, by = 'owner-1') =>
      ({
        type: 'WebhookSecretRotated',
        data: {
          endpointId: ENDPOINT,
          secret,
          previousSecretExpiresAt: at(when + DAY),
          rotatedBy: by,
          rotatedAt: at(when),
          idempotencyKey,
        },
      }) as const;
    const rotate = (secret: string, idempotencyKey: string, overlapMs = DAY) =>
      command('RotateWebhookSecret', { secret, overlapMs, idempotencyKey });

    it('records the key with the rotation', () => {
      given(created()).when(rotate('sealed-2', 'rot-1')).then(rotated('sealed-2', 'rot-1'));
    });

    it('rotates nothing again for a retry of the last rotation (its answer was lost)', () => {
      given(created(), rotated('sealed-2', 'rot-1')).when(rotate('sealed-3', 'rot-1')).thenNothing();
    });

    it('refuses the key with another overlap, or from another caller', () => {
      given(created(), rotated('sealed-2', 'rot-1'))
        .when(rotate('sealed-3', 'rot-1', 2 * DAY))
        .thenThrows('IDEMPOTENCY_KEY_REUSED');
      given(created(), rotated('sealed-2', 'rot-1', HOUR, 'admin-1'))
        .when(rotate('sealed-3', 'rot-1'))
        .thenThrows('IDEMPOTENCY_KEY_REUSED');
    });

    it('refuses the key of a rotation another rotation came after, and rotates for a new key', () => {
      const twice = [created(), rotated('sealed-2', 'rot-1'), rotated('sealed-3', 'rot-2', 2 * HOUR)];
      given(...twice)
        .when(rotate('sealed-4', 'rot-1'))
        .thenThrows('CONFLICT');
      given(...twice)
        .when(rotate('sealed-4', 'rot-3'))
        .then(rotated('sealed-4', 'rot-3'));
    });
  });

  it('refuses an overlap longer than a week', () => {
    given(created())
      .when(command('RotateWebhookSecret', { secret: 's', overlapMs: 8 * DAY }))
      .thenThrows('BAD_USER_INPUT');
  });
});

/** The endpoint disabled by the webhooks reaction at `disabledAt`, failing since `failingSince` (offsets). */
const disabledForFailing = (failingSince: number, disabledAt: number): WebhookEndpointEvent => ({
  type: 'WebhookEndpointDisabled',
  data: {
    endpointId: ENDPOINT,
    reason: 'FAILING',
    failingSince: at(failingSince),
    disabledBy: 'webhooks-reaction',
    disabledAt: at(disabledAt),
  },
});

describe('delivery attempts', () => {
  it('are recorded whatever the endpoint is, even deleted', () => {
    const deleted = {
      type: 'WebhookEndpointDeleted',
      data: { endpointId: ENDPOINT, deletedBy: 'o', deletedAt: T0 },
    } as const;
    given(created(), deleted)
      .when(recordAttempt(HOUR, true))
      .then(decided(HOUR, true, null));
  });

  it('disable the endpoint once every attempt failed for the allowed time, counted from the first failure since a success', () => {
    const failing = [created(), attempted(HOUR, true), attempted(2 * HOUR, false), attempted(3 * DAY, false)];
    given(...failing)
      .when(recordAttempt(2 * HOUR + 5 * DAY - 1, false))
      .then(decided(2 * HOUR + 5 * DAY - 1, false, 2 * HOUR));
    given(...failing)
      .when(recordAttempt(2 * HOUR + 5 * DAY, false))
      .then(decided(2 * HOUR + 5 * DAY, false, 2 * HOUR), disabledForFailing(2 * HOUR, 2 * HOUR + 5 * DAY));
  });

  it('start counting again after a success, and after the endpoint is enabled again', () => {
    given(created(), attempted(HOUR, false), attempted(2 * DAY, true))
      .when(recordAttempt(6 * DAY, false))
      .then(decided(6 * DAY, false, 6 * DAY));
    const enabled = {
      type: 'WebhookEndpointEnabled',
      data: { endpointId: ENDPOINT, enabledBy: 'o', enabledAt: at(5 * DAY) },
    } as const;
    const disabled = {
      type: 'WebhookEndpointDisabled',
      data: {
        endpointId: ENDPOINT,
        reason: 'FAILING',
        failingSince: at(HOUR),
        disabledBy: 'r',
        disabledAt: at(5 * DAY),
      },
    } as const;
    given(created(), attempted(HOUR, false), disabled, enabled)
      .when(recordAttempt(6 * DAY, false))
      .then(decided(6 * DAY, false, 6 * DAY));
  });

  it('start counting again after a quiet time with no attempt: a failure days after the last is not days of failing', () => {
    const quiet = 13 * HOUR;
    // Failed on day 0, nothing sent since, fails again on day 5: failing since now, not disabled.
    given(created(), attempted(HOUR, true), attempted(2 * HOUR, false))
      .when(recordAttempt(2 * HOUR + 5 * DAY, false, 5 * DAY, quiet))
      .then(decided(2 * HOUR + 5 * DAY, false, 2 * HOUR + 5 * DAY));
    // Failing at least every 12 hours (the retries of its messages) for 5 days: disabled.
    const everyTwelveHours = Array.from({ length: 10 }, (_, i) => attempted(2 * HOUR + i * 12 * HOUR, false));
    given(created(), ...everyTwelveHours)
      .when(recordAttempt(2 * HOUR + 5 * DAY, false, 5 * DAY, quiet))
      .then(decided(2 * HOUR + 5 * DAY, false, 2 * HOUR), disabledForFailing(2 * HOUR, 2 * HOUR + 5 * DAY));
    // The period a decision recorded is the endpoint's from then on.
    given(created(), attempted(2 * HOUR, false), decided(3 * DAY, false, 3 * DAY))
      .when(recordAttempt(3 * DAY + 10 * HOUR, false, 5 * DAY, quiet))
      .then(decided(3 * DAY + 10 * HOUR, false, 3 * DAY));
  });
});

describe('test messages', () => {
  it('are recorded for an enabled endpoint, with the webhook-id made with the request, and refused for a disabled one', () => {
    given(created())
      .when(command('SendWebhookTest', { deliveryId: 'msg_test' }))
      .then({
        type: 'WebhookTestRequested',
        data: { endpointId: ENDPOINT, deliveryId: 'msg_test', requestedBy: 'owner-1', requestedAt: at(HOUR) },
      });
    const disabled = {
      type: 'WebhookEndpointDisabled',
      data: { endpointId: ENDPOINT, reason: 'FAILING', failingSince: T0, disabledBy: 'o', disabledAt: T0 },
    } as const;
    given(created(), disabled)
      .when(command('SendWebhookTest', { deliveryId: 'msg_test' }))
      .thenThrows('CONFLICT');
  });

  it('are one per endpoint every ten seconds', () => {
    const tested = (requestedAt: string) =>
      ({
        type: 'WebhookTestRequested',
        data: { endpointId: ENDPOINT, deliveryId: 'msg_first', requestedBy: 'owner-1', requestedAt },
      }) as const;
    given(created(), tested(at(HOUR - 9_999)))
      .when(command('SendWebhookTest', { deliveryId: 'msg_test' }))
      .thenThrows('CONFLICT');
    given(created(), tested(at(HOUR - 10_000)))
      .when(command('SendWebhookTest', { deliveryId: 'msg_test' }))
      .then({
        type: 'WebhookTestRequested',
        data: { endpointId: ENDPOINT, deliveryId: 'msg_test', requestedBy: 'owner-1', requestedAt: at(HOUR) },
      });
  });
});

describe('redelivery', () => {
  it('is recorded for an enabled endpoint and refused for a disabled one', () => {
    given(created())
      .when(command('RequestWebhookRedelivery', { deliveryId: 'msg_1' }))
      .then({
        type: 'WebhookRedeliveryRequested',
        data: { endpointId: ENDPOINT, deliveryId: 'msg_1', requestedBy: 'owner-1', requestedAt: at(HOUR) },
      });
    const disabled = {
      type: 'WebhookEndpointDisabled',
      data: { endpointId: ENDPOINT, reason: 'MANUAL', failingSince: null, disabledBy: 'o', disabledAt: T0 },
    } as const;
    given(created(), disabled)
      .when(command('RequestWebhookRedelivery', { deliveryId: 'msg_1' }))
      .thenThrows('CONFLICT');
  });

  it('is one per delivery every ten seconds, and sixty per endpoint a minute: resends flood no receiver', () => {
    const resent = (deliveryId: string, requestedAt: string) =>
      ({
        type: 'WebhookRedeliveryRequested',
        data: { endpointId: ENDPOINT, deliveryId, requestedBy: 'owner-1', requestedAt },
      }) as const;
    const again = command('RequestWebhookRedelivery', { deliveryId: 'msg_1' });
    given(created(), resent('msg_1', at(HOUR - 9_999)))
      .when(again)
      .thenThrows('CONFLICT');
    given(created(), resent('msg_1', at(HOUR - 10_000)))
      .when(again)
      .then(resent('msg_1', at(HOUR)));
    // Another delivery of the same endpoint may be resent at once.
    given(created(), resent('msg_2', at(HOUR - 1)))
      .when(again)
      .then(resent('msg_1', at(HOUR)));
    const sixty = (lastAt: number) =>
      Array.from({ length: 60 }, (_, i) => resent(`msg_b${i}`, at(lastAt - (59 - i) * 100)));
    // Sixty others within the minute: refused; the oldest of them a minute ago: accepted.
    given(created(), ...sixty(HOUR - 1))
      .when(again)
      .thenThrows('CONFLICT');
    given(created(), ...sixty(HOUR - 60_000 + 5_900))
      .when(again)
      .then(resent('msg_1', at(HOUR)));
  });
});
