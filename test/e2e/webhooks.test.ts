/**
 * Outbound webhooks against the real server and a local receiver that verifies every signature
 * with the standardwebhooks library: one credits.low for a burst of spends, retries until the
 * endpoint answers, redelivery with the same webhook-id, secret rotation, giving up, disabling an
 * endpoint that keeps failing, redirects not followed, test messages, platform endpoints, and who may do
 * what.
 */
import {
  ConsumeCreditsDocument,
  CreateWebhookEndpointDocument,
  CreditAlertsDocument,
  DeleteWebhookEndpointDocument,
  DisableWebhookEndpointDocument,
  GrantCreditsDocument,
  LatestAttemptsDocument,
  PlatformWebhookEndpointsDocument,
  PurchaseCreditsDocument,
  RedeliverWebhookDocument,
  ReserveCreditsDocument,
  RotateWebhookSecretDocument,
  SendTestWebhookDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
} from '../generated/graphql';
import { execute, expectData, expectError } from '../support/graphql-client';
import { adminToken, startServer, tokenFor, type ServerProcess } from '../support/server-process';
import {
  messageOf,
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../support/webhook-receiver';

let server: ServerProcess;
let receiver: WebhookReceiver;
const RETRY_MS = 300;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  server = await startServer({
    env: {
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_SCHEDULE: `${RETRY_MS}ms,${RETRY_MS}ms,${RETRY_MS}ms`,
      WEBHOOK_DISABLE_AFTER: '2s',
      WEBHOOK_MAX_ENDPOINTS: '4',
    },
  });
});
afterAll(async () => {
  await server?.stop();
  await receiver?.close();
});

let counter = 0;
const newWorkspace = (): string => `ws-hooks-${process.pid}-${++counter}`;

/** An endpoint of the workspace at its own path of the receiver; answers its id and secret. */
async function endpoint(workspaceId: string | null, eventTypes: string[], token = adminToken()) {
  const path = `/hooks/${++counter}`;
  const created = await expectData(
    server.url,
    CreateWebhookEndpointDocument,
    { input: { workspaceId, url: `${receiver.url}${path}`, eventTypes, description: 'test receiver' } },
    token,
  );
  return { id: created.createWebhookEndpoint.id, secret: created.createWebhookEndpoint.secret, path };
}

const buy = (workspaceId: string) =>
  expectData(
    server.url,
    PurchaseCreditsDocument,
    { input: { workspaceId, packageId: 'credits-500', paymentReference: `INV-${++counter}` } },
    adminToken(),
  );

const deliveriesOf = async (endpointId: string) =>
  (await expectData(server.url, WebhookDeliveriesDocument, { endpointId }, adminToken())).webhookDeliveries;

const at = (path: string) => (request: ReceivedWebhook) => request.path === path;

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('deliveries', () => {
  it('send exactly one signed credits.low for a burst of concurrent spends that crosses the threshold', async () => {
    const workspaceId = newWorkspace();
    const hook = await endpoint(workspaceId, ['credits.low'], tokenFor(workspaceId, 'BILLING_MANAGER'));
    await buy(workspaceId); // 500 credits; the catalog's threshold is 100
    const member = tokenFor(workspaceId, 'MEMBER');
    const spends = Array.from({ length: 40 }, (_, i) =>
      execute(
        server.url,
        ConsumeCreditsDocument,
        { input: { workspaceId, action: 'BUYING_COMMITTEE_MAPPING', units: 1, idempotencyKey: `burst-${i}` } },
        member,
      ),
    );
    expect((await Promise.all(spends)).filter((answer) => !answer.errors)).toHaveLength(23);
    const [low] = await receiver.waitFor(at(hook.path));
    await new Promise((resolve) => setTimeout(resolve, 500)); // anything else would have come by now
    const received = receiver.received.filter(at(hook.path));
    expect(received).toHaveLength(1);
    expect(receiver.verifiedBy(hook.secret).filter(at(hook.path))).toHaveLength(1);
    const message = messageOf(low as ReceivedWebhook);
    expect(message).toMatchObject({
      type: 'credits.low',
      data: { schemaVersion: 1, workspaceId, threshold: 100, available: expect.any(Number) as number },
    });
    expect(message.data.balanceAfter).toBe(message.data.available);
    expect(Number(message.data.position)).toBeGreaterThan(0);
    const [delivery] = await until(
      () => deliveriesOf(hook.id),
      (list) => list[0]?.status === 'SUCCEEDED',
    );
    expect(delivery).toMatchObject({ id: low?.headers['webhook-id'], eventType: 'credits.low', attempts: 1 });
    expect(delivery?.attemptHistory.map((attempt) => [attempt.attempt, attempt.succeeded, attempt.statusCode])).toEqual(
      [[1, true, 204]],
    );
  });

  it('tell of a hold that expired unsettled once the hold-expiry reaction writes it', async () => {
    const workspaceId = newWorkspace();
    const hook = await endpoint(workspaceId, ['hold.expired']);
    await buy(workspaceId);
    const reserved = await expectData(
      server.url,
      ReserveCreditsDocument,
      {
        input: {
          workspaceId,
          action: 'ORG_CHART_GENERATION',
          units: 2,
          idempotencyKey: 'run-1',
          expiresAt: new Date(Date.now() + 1_500).toISOString(),
        },
      },
      tokenFor(workspaceId, 'MEMBER'),
    );
    const [expired] = await receiver.waitFor(at(hook.path), 1, 15_000);
    expect(messageOf(expired as ReceivedWebhook)).toMatchObject({
      type: 'hold.expired',
      data: {
        workspaceId,
        holdId: reserved.reserveCredits.id,
        credits: reserved.reserveCredits.credits,
        balanceAfter: 500,
      },
    });
  });

  it('retry a failing endpoint on the schedule, with the same webhook-id, until it answers', async () => {
    const workspaceId = newWorkspace();
    const hook = await endpoint(workspaceId, ['purchase.completed']);
    let calls = 0;
    receiver.answer = ({ path }) => (path === hook.path && ++calls <= 2 ? { status: 503 } : { status: 204 });
    await buy(workspaceId);
    const attempts = await receiver.waitFor(at(hook.path), 3);
    expect(new Set(attempts.map((request) => request.headers['webhook-id'])).size).toBe(1);
    expect(attempts.map((request) => request.status)).toEqual([503, 503, 204]);
    expect(
      (attempts[1] as ReceivedWebhook).receivedAt - (attempts[0] as ReceivedWebhook).receivedAt,
    ).toBeGreaterThanOrEqual(RETRY_MS - 20);
    const [delivery] = await until(
      () => deliveriesOf(hook.id),
      (list) => list[0]?.status === 'SUCCEEDED',
    );
    expect(delivery?.attemptHistory.map((attempt) => attempt.statusCode)).toEqual([204, 503, 503]);
    expect(delivery?.attemptHistory[1]?.nextAttemptAt).not.toBeNull();
    expect(messageOf(attempts[2] as ReceivedWebhook)).toMatchObject({
      type: 'purchase.completed',
      data: { workspaceId, credits: 500, balanceAfter: 500, price: { amount: 5000, currency: 'USD' } },
    });

    // Sent again on request: the same webhook-id and body, a new attempt.
    const again = await expectData(
      server.url,
      RedeliverWebhookDocument,
      { input: { deliveryId: delivery?.id as string } },
      tokenFor(workspaceId, 'OWNER'),
    );
    expect(again.redeliverWebhook).toMatchObject({ id: delivery?.id, status: 'PENDING' });
    const all = await receiver.waitFor(at(hook.path), 4);
    expect((all[3] as ReceivedWebhook).headers['webhook-id']).toBe(delivery?.id);
    expect((all[3] as ReceivedWebhook).body).toBe((all[2] as ReceivedWebhook).body);
    const [redelivered] = await until(
      () => deliveriesOf(hook.id),
      (list) => list[0]?.attempts === 4 && list[0].status === 'SUCCEEDED',
    );
    expect(redelivered?.attemptHistory[0]?.attempt).toBe(4);
    // Asked again at once: refused, nothing sent (a loop of resends must flood no receiver).
    const tooSoon = await expectError(
      server.url,
      RedeliverWebhookDocument,
      { input: { deliveryId: delivery?.id as string } },
      tokenFor(workspaceId, 'OWNER'),
    );
    expect(tooSoon.code).toBe('CONFLICT');
    expect(tooSoon.message).toContain('less than 10 seconds ago');
    // The history is paged like everything else: the latest `first` attempts.
    const latest = await expectData(
      server.url,
      LatestAttemptsDocument,
      { endpointId: hook.id, attempts: 2 },
      adminToken(),
    );
    expect(latest.webhookDeliveries[0]?.attemptHistory.map((attempt) => attempt.attempt)).toEqual([4, 3]);
    const tooMany = await expectError(
      server.url,
      LatestAttemptsDocument,
      { endpointId: hook.id, attempts: 101 },
      adminToken(),
    );
    expect(tooMany.code).toBe('BAD_USER_INPUT');
  });

  it('give up after the schedule, and disable an endpoint whose every attempt failed for too long', async () => {
    const workspaceId = newWorkspace();
    const hook = await endpoint(workspaceId, ['purchase.completed']);
    receiver.answer = ({ path }) => (path === hook.path ? { status: 500 } : { status: 204 });
    await buy(workspaceId);
    await receiver.waitFor(at(hook.path), 4);
    const [failed] = await until(
      () => deliveriesOf(hook.id),
      (list) => list[0]?.status === 'FAILED',
    );
    expect(failed).toMatchObject({ attempts: 4, lastStatusCode: 500, nextAttemptAt: null });
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // WEBHOOK_DISABLE_AFTER since the first failure
    await buy(workspaceId);
    const endpoints = await until(
      async () =>
        (await expectData(server.url, WebhookEndpointsDocument, { workspaceId }, tokenFor(workspaceId, 'OWNER')))
          .webhookEndpoints,
      (list) => list[0]?.status === 'DISABLED',
    );
    expect(endpoints[0]).toMatchObject({ status: 'DISABLED', disabledReason: 'FAILING' });
    expect(endpoints[0]?.failingSince).not.toBeNull();
    // The workspace is told too, in its alerts: which endpoint, and since when, to its billing
    // managers; that one was disabled, to any member.
    const alertsFor = async (role: 'BILLING_MANAGER' | 'MEMBER') =>
      (await expectData(server.url, CreditAlertsDocument, { workspaceId }, tokenFor(workspaceId, role))).creditAlerts;
    expect(await alertsFor('BILLING_MANAGER')).toContainEqual(
      expect.objectContaining({
        type: 'WEBHOOK_ENDPOINT_DISABLED',
        notified: true,
        endpointId: hook.id,
        failingSince: endpoints[0]?.failingSince,
      }),
    );
    expect(await alertsFor('MEMBER')).toContainEqual(
      expect.objectContaining({ type: 'WEBHOOK_ENDPOINT_DISABLED', endpointId: null, failingSince: null }),
    );
    const [second] = await deliveriesOf(hook.id);
    expect(second?.status).toBe('CANCELED');
    // Its failed attempt had planned a next one; canceled, the history no longer promises it.
    expect(second?.attempts).toBeGreaterThan(0);
    expect(second?.nextAttemptAt).toBeNull();
    expect(second?.attemptHistory[0]).toMatchObject({ attempt: second?.attempts, nextAttemptAt: null });
    const before = receiver.received.filter(at(hook.path)).length;
    await buy(workspaceId);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received.filter(at(hook.path))).toHaveLength(before);
    receiver.answer = () => ({ status: 204 });
  });

  it('do not follow redirects: a 3xx is a failed attempt', async () => {
    const workspaceId = newWorkspace();
    const hook = await endpoint(workspaceId, ['purchase.completed']);
    receiver.answer = ({ path }) =>
      path === hook.path ? { status: 302, location: `${receiver.url}/elsewhere` } : { status: 204 };
    await buy(workspaceId);
    await receiver.waitFor(at(hook.path), 2);
    const [delivery] = await deliveriesOf(hook.id);
    expect(delivery?.attemptHistory.at(-1)).toMatchObject({ succeeded: false, statusCode: 302 });
    expect(delivery?.attemptHistory.at(-1)?.error).toMatch(/redirects are not followed/);
    expect(receiver.received.filter(at('/elsewhere'))).toHaveLength(0);
    receiver.answer = () => ({ status: 204 });
  });
});

describe('secret rotation', () => {
  it('signs with the old and the new secret during the overlap, and with the new one only after', async () => {
    const workspaceId = newWorkspace();
    const hook = await endpoint(workspaceId, ['purchase.completed']);
    const owner = tokenFor(workspaceId, 'OWNER');
    const rotated = await expectData(
      server.url,
      RotateWebhookSecretDocument,
      { input: { endpointId: hook.id, overlapHours: 24 } },
      owner,
    );
    const second = rotated.rotateWebhookSecret.secret;
    expect(second).not.toBe(hook.secret);
    expect(rotated.rotateWebhookSecret.endpoint.previousSecretExpiresAt).not.toBeNull();
    await buy(workspaceId);
    const [during] = await receiver.waitFor(at(hook.path));
    expect(during?.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(receiver.verifiedBy(hook.secret).filter(at(hook.path))).toHaveLength(1);
    expect(receiver.verifiedBy(second).filter(at(hook.path))).toHaveLength(1);

    const third = (
      await expectData(
        server.url,
        RotateWebhookSecretDocument,
        { input: { endpointId: hook.id, overlapHours: 0 } },
        owner,
      )
    ).rotateWebhookSecret.secret;
    await buy(workspaceId);
    const [, after] = await receiver.waitFor(at(hook.path), 2);
    expect(after?.headers['webhook-signature']?.split(' ')).toHaveLength(1);
    expect(receiver.verifiedBy(third).filter(at(hook.path))).toEqual([after]);
    expect(receiver.verifiedBy(second).filter(at(hook.path))).toEqual([during]);
    expect(server.logs.some((line) => JSON.stringify(line).includes(third.slice(6)))).toBe(false);
  });
});

describe('secret rotation retried', () => {
  it('answers a retry with the same key the secret it made, and the receiver’s secret keeps signing', async () => {
    const workspaceId = newWorkspace();
    const hook = await endpoint(workspaceId, ['purchase.completed']);
    const owner = tokenFor(workspaceId, 'OWNER');
    const rotate = (overlapHours: number, token = owner) =>
      execute(
        server.url,
        RotateWebhookSecretDocument,
        { input: { endpointId: hook.id, overlapHours, idempotencyKey: 'rotate-1' } },
        token,
      );
    const first = (await rotate(24)).data?.rotateWebhookSecret; // the client never read this answer
    const retried = (await rotate(24)).data?.rotateWebhookSecret;
    expect(retried?.secret).toBe(first?.secret);
    expect(retried?.endpoint.secretRotatedAt).toBe(first?.endpoint.secretRotatedAt);
    expect((await rotate(48)).errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // The secret the receiver still has signs, beside the new one.
    await buy(workspaceId);
    const [delivered] = await receiver.waitFor(at(hook.path));
    expect(delivered?.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(receiver.verifiedBy(hook.secret).filter(at(hook.path))).toEqual([delivered]);
    expect(receiver.verifiedBy(first?.secret ?? '?').filter(at(hook.path))).toEqual([delivered]);
  });
});

describe('test messages', () => {
  it('send a signed webhook.test to the one endpoint asked, whatever it subscribes to', async () => {
    const workspaceId = newWorkspace();
    await buy(workspaceId);
    const hook = await endpoint(workspaceId, ['credits.low']);
    const beside = await endpoint(workspaceId, ['credits.low', 'purchase.completed']);
    const { sendTestWebhook: sent } = await expectData(
      server.url,
      SendTestWebhookDocument,
      { input: { endpointId: hook.id } },
      tokenFor(workspaceId, 'BILLING_MANAGER'),
    );
    expect(sent).toMatchObject({ workspaceId, eventType: 'webhook.test', status: 'PENDING' });
    const [received] = await receiver.waitFor(at(hook.path), 1);
    expect((received as ReceivedWebhook).headers['webhook-id']).toBe(sent.id);
    expect(receiver.verifiedBy(hook.secret).filter(at(hook.path))).toHaveLength(1);
    expect(messageOf(received as ReceivedWebhook)).toEqual({
      type: 'webhook.test',
      timestamp: expect.any(String) as string,
      data: {
        schemaVersion: 1,
        workspaceId,
        position: expect.stringMatching(/^\d+$/) as string,
        balanceAfter: 500,
        endpointId: hook.id,
      },
    });
    expect((received as ReceivedWebhook).body).toBe(sent.payload);
    const [delivered] = await until(
      () => deliveriesOf(hook.id),
      (list) => list[0]?.status === 'SUCCEEDED',
    );
    expect(delivered?.id).toBe(sent.id);
    // One test per endpoint every ten seconds: asking in a loop floods no one.
    const again = await expectError(
      server.url,
      SendTestWebhookDocument,
      { input: { endpointId: hook.id } },
      tokenFor(workspaceId, 'OWNER'),
    );
    expect(again.code).toBe('CONFLICT');
    // Only the endpoint asked: the other endpoint of the workspace got nothing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received.filter(at(beside.path))).toEqual([]);
  });

  it('test a platform endpoint for admins only, and refuse members and disabled endpoints', async () => {
    const workspaceId = newWorkspace();
    const platform = await endpoint(null, ['purchase.completed']);
    const refusedOwner = await expectError(
      server.url,
      SendTestWebhookDocument,
      { input: { endpointId: platform.id } },
      tokenFor(workspaceId, 'OWNER'),
    );
    expect(refusedOwner.code).toBe('FORBIDDEN');
    const { sendTestWebhook: sent } = await expectData(
      server.url,
      SendTestWebhookDocument,
      { input: { endpointId: platform.id } },
      adminToken(),
    );
    expect(sent.workspaceId).toBeNull();
    const [received] = await receiver.waitFor(at(platform.path), 1);
    expect(messageOf(received as ReceivedWebhook).data).toMatchObject({
      workspaceId: null,
      balanceAfter: null,
      endpointId: platform.id,
    });

    const hook = await endpoint(workspaceId, ['credits.low']);
    const member = await expectError(
      server.url,
      SendTestWebhookDocument,
      { input: { endpointId: hook.id } },
      tokenFor(workspaceId, 'MEMBER'),
    );
    expect(member.code).toBe('FORBIDDEN');
    await expectData(server.url, DisableWebhookEndpointDocument, { input: { endpointId: hook.id } }, adminToken());
    const disabled = await expectError(
      server.url,
      SendTestWebhookDocument,
      { input: { endpointId: hook.id } },
      tokenFor(workspaceId, 'OWNER'),
    );
    expect(disabled.code).toBe('CONFLICT');
    expect(await deliveriesOf(hook.id)).toEqual([]);
    const unknown = await expectError(
      server.url,
      SendTestWebhookDocument,
      { input: { endpointId: 'we_no_such_endpoint' } },
      adminToken(),
    );
    expect(unknown.code).toBe('NOT_FOUND');
  });
});

describe('platform endpoints', () => {
  it("receive every workspace's events, and only admins see them", async () => {
    const hook = await endpoint(null, ['purchase.completed']);
    const [first, second] = [newWorkspace(), newWorkspace()];
    await buy(first);
    await buy(second);
    const received = await receiver.waitFor(at(hook.path), 2);
    expect(received.map((request) => messageOf(request).data.workspaceId).sort()).toEqual([first, second].sort());
    expect(receiver.verifiedBy(hook.secret).filter(at(hook.path))).toHaveLength(2);
    const listed = await expectData(server.url, PlatformWebhookEndpointsDocument, {}, adminToken());
    expect(listed.platformWebhookEndpoints.map((endpoint) => endpoint.id)).toContain(hook.id);
    const refused = await expectError(server.url, PlatformWebhookEndpointsDocument, {}, tokenFor(first, 'OWNER'));
    expect(refused.code).toBe('FORBIDDEN');
  });
});

describe('managing endpoints', () => {
  it('is for owners, billing managers and admins; members and other workspaces are refused', async () => {
    const workspaceId = newWorkspace();
    const input = { workspaceId, url: `${receiver.url}/x`, eventTypes: ['credits.low'] };
    for (const token of [
      tokenFor(workspaceId, 'MEMBER'),
      tokenFor(workspaceId, 'SERVICE'),
      tokenFor('elsewhere', 'OWNER'),
    ]) {
      expect((await expectError(server.url, CreateWebhookEndpointDocument, { input }, token)).code).toBe('FORBIDDEN');
    }
    const platform = { ...input, workspaceId: null };
    const manager = tokenFor(workspaceId, 'BILLING_MANAGER');
    expect((await expectError(server.url, CreateWebhookEndpointDocument, { input: platform }, manager)).code).toBe(
      'FORBIDDEN',
    );
    const hook = await endpoint(workspaceId, ['credits.low'], manager);
    const refused = await expectError(
      server.url,
      WebhookDeliveriesDocument,
      { endpointId: hook.id },
      tokenFor('elsewhere', 'OWNER'),
    );
    expect(refused.code).toBe('FORBIDDEN');
    expect(refused.message).not.toContain(workspaceId); // the id does not tell an outsider whose it is
  });

  it('pages deliveries newest first with after, and refuses a cursor that is not one of the endpoint’s', async () => {
    const workspaceId = newWorkspace();
    const hook = await endpoint(workspaceId, ['purchase.completed']);
    const other = await endpoint(workspaceId, ['purchase.completed']);
    for (let i = 0; i < 3; i++) await buy(workspaceId);
    const all = await until(
      () => deliveriesOf(hook.id),
      (found) => found.length === 3,
    );
    await until(
      () => deliveriesOf(other.id),
      (found) => found.length === 3,
    );
    const page = async (after?: string) =>
      (await expectData(server.url, WebhookDeliveriesDocument, { endpointId: hook.id, first: 2, after }, adminToken()))
        .webhookDeliveries;
    const first = await page();
    expect(first.map((delivery) => delivery.id)).toEqual(all.slice(0, 2).map((delivery) => delivery.id));
    const second = await page(first[1]?.id);
    expect(second.map((delivery) => delivery.id)).toEqual([all[2]?.id]);
    expect(await page(second[0]?.id)).toEqual([]);
    const [othersDelivery] = await deliveriesOf(other.id);
    for (const after of ['msg_unknown', othersDelivery?.id ?? '']) {
      const refused = await expectError(
        server.url,
        WebhookDeliveriesDocument,
        { endpointId: hook.id, first: 2, after },
        adminToken(),
      );
      expect(refused.code).toBe('BAD_USER_INPUT');
    }
  });

  it('refuses unknown event types, no event type and URLs that are not URLs, with BAD_USER_INPUT', async () => {
    const workspaceId = newWorkspace();
    const owner = tokenFor(workspaceId, 'OWNER');
    for (const [eventTypes, url, said] of [
      [['credits.low', 'credits.stolen'], `${receiver.url}/x`, /each event type must be one of credits\.low/],
      [[], `${receiver.url}/x`, /at least one event type/],
      [['credits.low'], 'not a url', /not a URL/],
      [['credits.low'], 'ftp://127.0.0.1/x', /https/],
    ] as const) {
      const error = await expectError(
        server.url,
        CreateWebhookEndpointDocument,
        { input: { workspaceId, url, eventTypes: [...eventTypes] } },
        owner,
      );
      expect(error.code).toBe('BAD_USER_INPUT');
      expect(error.message).toMatch(said);
    }
    const description = await expectError(
      server.url,
      CreateWebhookEndpointDocument,
      { input: { workspaceId, url: `${receiver.url}/x`, eventTypes: ['credits.low'], description: 'a\u0000b' } },
      owner,
    );
    expect(description.code).toBe('BAD_USER_INPUT');
    expect(description.message).toMatch(/must not contain control or text-direction characters/);
    const longId = 'we_'.padEnd(100_000, 'y');
    const unknown = await expectError(server.url, WebhookDeliveriesDocument, { endpointId: longId }, owner);
    expect(unknown.code).toBe('BAD_USER_INPUT');
    expect(unknown.message.length).toBeLessThan(1_000);
    const listed = await expectData(server.url, WebhookEndpointsDocument, { workspaceId }, owner);
    expect(listed.webhookEndpoints).toEqual([]);
  });

  it('caps the endpoints of a workspace (LIMIT_EXCEEDED), even for a burst, and a delete frees a place', async () => {
    const workspaceId = newWorkspace();
    const owner = tokenFor(workspaceId, 'OWNER');
    const create = (i: number) =>
      execute(
        server.url,
        CreateWebhookEndpointDocument,
        { input: { workspaceId, url: `${receiver.url}/capped/${i}`, eventTypes: ['credits.low'] } },
        owner,
      );
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => create(i)));
    const created = answers.flatMap((answer) => (answer.data ? [answer.data.createWebhookEndpoint.id] : []));
    expect(created).toHaveLength(4);
    const refusals = answers.flatMap((answer) => answer.errors ?? []);
    expect(refusals.map((error) => error.extensions?.code)).toEqual(Array(6).fill('LIMIT_EXCEEDED'));
    expect(refusals[0]?.message).toMatch(/at most 4 webhook endpoints; delete one first/);
    expect(
      (await expectData(server.url, WebhookEndpointsDocument, { workspaceId }, owner)).webhookEndpoints,
    ).toHaveLength(4);
    await expectData(server.url, DeleteWebhookEndpointDocument, { input: { endpointId: created[0] ?? '' } }, owner);
    expect((await create(10)).data?.createWebhookEndpoint.id).toBeDefined();
    expect((await create(11)).errors?.[0]?.extensions?.code).toBe('LIMIT_EXCEEDED');
  });

  it('answers a create retried with its idempotencyKey with the same endpoint and secret, and makes no second one', async () => {
    const workspaceId = newWorkspace();
    const owner = tokenFor(workspaceId, 'OWNER');
    const input = {
      workspaceId,
      url: `${receiver.url}/once`,
      eventTypes: ['credits.low'],
      idempotencyKey: 'create-once',
    };
    const [first, ...others] = await Promise.all(
      Array.from({ length: 5 }, () => expectData(server.url, CreateWebhookEndpointDocument, { input }, owner)),
    );
    for (const other of others) {
      expect(other.createWebhookEndpoint.id).toBe(first?.createWebhookEndpoint.id);
      expect(other.createWebhookEndpoint.secret).toBe(first?.createWebhookEndpoint.secret);
      expect(other.createWebhookEndpoint.endpoint.url).toBe(`${receiver.url}/once`);
    }
    const listed = await expectData(server.url, WebhookEndpointsDocument, { workspaceId }, owner);
    expect(listed.webhookEndpoints.map((each) => each.id)).toEqual([first?.createWebhookEndpoint.id]);
    const reused = await expectError(
      server.url,
      CreateWebhookEndpointDocument,
      { input: { ...input, url: `${receiver.url}/elsewhere` } },
      owner,
    );
    expect(reused.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const blank = await expectError(
      server.url,
      CreateWebhookEndpointDocument,
      { input: { ...input, idempotencyKey: '  ' } },
      owner,
    );
    expect(blank.code).toBe('BAD_USER_INPUT');
  });

  it('keeps a URL as it will be sent to, however it was typed', async () => {
    const workspaceId = newWorkspace();
    const owner = tokenFor(workspaceId, 'OWNER');
    const typed = ` ${receiver.url.replace('http://', 'HTTP://')}/a b `;
    await expectData(
      server.url,
      CreateWebhookEndpointDocument,
      { input: { workspaceId, url: typed, eventTypes: ['credits.low'] } },
      owner,
    );
    const listed = await expectData(server.url, WebhookEndpointsDocument, { workspaceId }, owner);
    expect(listed.webhookEndpoints.map((each) => each.url)).toEqual([`${receiver.url}/a%20b`]);
  });

  it('tells a spend nothing and slows no spend when an endpoint hangs', async () => {
    const workspaceId = newWorkspace();
    const hook = await endpoint(workspaceId, ['credits.low', 'purchase.completed']);
    receiver.answer = ({ path }) => (path === hook.path ? { status: 204, delayMs: 3_000 } : { status: 204 });
    await buy(workspaceId);
    await expectData(
      server.url,
      GrantCreditsDocument,
      { input: { workspaceId, credits: 10, reason: 'x', idempotencyKey: `g-${workspaceId}` } },
      adminToken(),
    );
    const started = performance.now();
    await expectData(
      server.url,
      ConsumeCreditsDocument,
      { input: { workspaceId, action: 'ACTION_PLAN_GENERATION', units: 1, idempotencyKey: 'quick' } },
      tokenFor(workspaceId, 'MEMBER'),
    );
    expect(performance.now() - started).toBeLessThan(1_000);
    receiver.answer = () => ({ status: 204 });
  });
});
