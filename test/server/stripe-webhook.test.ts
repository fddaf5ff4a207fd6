/**
 * POST /webhooks/stripe's answer to an event the command side could not apply: a refusal of the
 * rules is final (recorded, acknowledged), a command that only lost the race for its workspace is
 * not (500, so that Stripe delivers the event again and the credits are not lost).
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { conflict, keptChanging } from '../../src/domain/errors';
import type { PaymentEvent } from '../../src/payments/payment-gateway';
import type { CreditsService } from '../../src/server/credits-service';
import { stripeWebhookRouter } from '../../src/server/stripe-webhook';

const event = { eventId: 'evt_1', kind: 'checkout.completed' } as unknown as PaymentEvent;

async function post(failure: Error): Promise<{ status: number; body: unknown; refusals: string[] }> {
  const refusals: string[] = [];
  const service = {
    gateway: { parseWebhook: () => event },
    providerEvents: {
      apply: () => Promise.reject(failure),
      recordRefusal: (_event: PaymentEvent, reason: string) => {
        refusals.push(reason);
        return Promise.resolve();
      },
    },
  } as unknown as CreditsService;
  const app = express().use(stripeWebhookRouter(service, pino({ level: 'silent' })));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'stripe-signature': 't=1,v1=x' },
      body: '{}',
    });
    return { status: response.status, body: await response.json(), refusals };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('POST /webhooks/stripe when the event cannot be applied', () => {
  it('answers 500 and records no refusal when the workspace kept changing (Stripe delivers it again)', async () => {
    const answer = await post(keptChanging('The workspace kept changing under this command; try again.'));
    expect(answer.status).toBe(500);
    expect(answer.refusals).toEqual([]);
  });

  it('records a refusal of the rules and acknowledges it: delivering it again would change nothing', async () => {
    const answer = await post(conflict('Purchase p1 has no unspent credits left to refund.'));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      received: true,
      applied: false,
      reason: 'Purchase p1 has no unspent credits left to refund.',
    });
    expect(answer.refusals).toEqual(['Purchase p1 has no unspent credits left to refund.']);
  });
});
