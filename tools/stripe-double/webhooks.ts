/**
 * The double's webhook events, sent as Stripe sends them: each built once as a snapshot, signed
 * with the SDK's own test helper, POSTed to the endpoint (or held back for a test to release in any
 * order, or send again), the ones Stripe sends by itself only after the request that caused them
 * was answered, and an event the endpoint did not acknowledge posted again when asked, as Stripe
 * retries it.
 */
import Stripe from 'stripe';
import { newId, now } from './ids';
import type { DeliverOption, DoubleEvent, StripeDoubleOptions, WebhookDelivery } from './types';

export function webhookDeliveries(options: Pick<StripeDoubleOptions, 'webhookSecret' | 'webhookUrl'>) {
  /** Every event built, in order, delivered or not. */
  const events: WebhookDelivery[] = [];
  /** Events whose deliveries have all failed so far. */
  const failed = new Set<string>();
  let held: WebhookDelivery[] | undefined;
  /** Events Stripe sends by itself after answering a request: sent after the answer, never awaited by it. */
  const background = new Set<Promise<unknown>>();

  const sign = (payload: string, signOptions: { timestamp?: number; secret?: string } = {}): string =>
    Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: signOptions.secret ?? options.webhookSecret,
      ...(signOptions.timestamp !== undefined && { timestamp: signOptions.timestamp }),
    });

  const failureOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

  async function post(delivery: WebhookDelivery, signature: string): Promise<WebhookDelivery> {
    if (!options.webhookUrl) throw new Error('The Stripe double was started without a webhookUrl to deliver to.');
    const eventId = delivery.event.id;
    let response: Response;
    try {
      response = await fetch(options.webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': signature,
        },
        body: delivery.payload,
      });
    } catch (error) {
      failed.add(eventId);
      throw error;
    }
    if (response.ok) failed.delete(eventId);
    else failed.add(eventId);
    const sent: WebhookDelivery = {
      ...delivery,
      signature,
      status: response.status,
      responseBody: await response.text(),
    };
    delete sent.failure; // it reached the endpoint this time
    return sent;
  }

  async function emit(
    type: string,
    object: DoubleEvent['data']['object'],
    deliverOption: DeliverOption = {},
  ): Promise<WebhookDelivery> {
    const event: DoubleEvent = {
      id: newId('evt'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: now(),
      // A snapshot: later changes to the stored object must not alter an event already built.
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: options.webhookUrl ? 1 : 0,
      request: { id: null, idempotency_key: null },
      type,
    };
    const payload = JSON.stringify(event, null, 2);
    let delivery: WebhookDelivery = { event, payload, signature: sign(payload) };
    const deliver = deliverOption.deliver ?? options.webhookUrl !== undefined;
    if (deliver && held) held.push(delivery);
    else if (deliver) {
      try {
        delivery = await post(delivery, delivery.signature);
      } catch (error) {
        // Kept, so that a test (or `retryFailed`) can send it once the endpoint is back.
        events.push({ ...delivery, failure: failureOf(error) });
        throw error;
      }
    }
    events.push(delivery);
    return delivery;
  }

  /** Runs `send` after the current request has been answered, as Stripe sends its events. */
  function later(send: () => Promise<unknown>): void {
    const sending: Promise<unknown> = new Promise((resolve) => setImmediate(resolve))
      .then(send)
      .catch(() => undefined) // an endpoint that is down misses it, as with Stripe: see retryFailed
      .finally(() => background.delete(sending));
    background.add(sending);
  }

  async function release(order: (held: WebhookDelivery[]) => WebhookDelivery[]): Promise<WebhookDelivery[]> {
    const waiting = order(held ?? []);
    held = undefined;
    const delivered: WebhookDelivery[] = [];
    for (const delivery of waiting) delivered.push(await post(delivery, delivery.signature));
    return delivered;
  }

  /** Posts again, in order, every event not acknowledged yet; one still failing says why. */
  async function retryFailed(): Promise<WebhookDelivery[]> {
    const due = new Map(events.filter((each) => failed.has(each.event.id)).map((each) => [each.event.id, each]));
    const retried: WebhookDelivery[] = [];
    for (const delivery of due.values()) {
      retried.push(
        await post(delivery, delivery.signature).catch((error: unknown) => ({
          ...delivery,
          status: undefined,
          failure: failureOf(error),
        })),
      );
    }
    return retried;
  }

  return {
    events,
    sign,
    emit,
    later,
    release,
    retryFailed,
    redeliver: post,
    hold: (): void => {
      held ??= [];
    },
    /** Until the events sent in the background are sent. */
    settled: async (): Promise<void> => {
      await Promise.all(background);
    },
  };
}
