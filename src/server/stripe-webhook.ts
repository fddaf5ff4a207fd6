/**
 * POST /webhooks/stripe. The body is verified as the exact bytes Stripe sent; an unsigned or
 * altered request answers 400 and records nothing. A verified event is applied once however often
 * and in whatever order it arrives, and answered once the read models include what it recorded, so
 * that the buyer's return page shows it. An event the service will not take (ids or metadata that
 * break the API's rules, a refusal of the credits rules) is recorded with its Stripe event id and
 * acknowledged, since delivering it again would change nothing; any other failure answers 500, so
 * that Stripe delivers it again later.
 */
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { RefusedProviderEvent } from '../commands/provider-events';
import { isCreditsError, isRetryable } from '../domain/errors';
import { InvalidWebhookSignature, PaymentsNotConfigured, type PaymentEvent } from '../payments/payment-gateway';
import type { CreditsService } from './credits-service';
import { webhookDeliveries } from './metrics';

const counted = (outcome: 'applied' | 'ignored' | 'refused' | 'bad_signature' | 'failed'): void =>
  webhookDeliveries.inc({ provider: 'stripe', outcome });

export function stripeWebhookRouter(service: CreditsService, logger: Logger): Router {
  const router = express.Router();

  router.post('/webhooks/stripe', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let event: PaymentEvent;
    try {
      event = service.gateway.parseWebhook(body, req.header('stripe-signature'));
    } catch (error) {
      if (error instanceof PaymentsNotConfigured) {
        res.status(503).json({ error: error.message });
        return;
      }
      if (error instanceof InvalidWebhookSignature) {
        logger.warn({ reason: error.message }, 'stripe webhook refused: bad signature');
        counted('bad_signature');
        res.status(400).json({ error: error.message });
        return;
      }
      throw error;
    }
    try {
      const outcome = await service.providerEvents.apply(event);
      if (outcome.ignored) logger.info({ eventId: event.eventId, reason: outcome.ignored }, 'stripe webhook ignored');
      counted(outcome.ignored ? 'ignored' : 'applied');
      res.json({ received: true, ...(outcome.ignored && { ignored: outcome.ignored }) });
    } catch (error) {
      if (error instanceof RefusedProviderEvent || (isCreditsError(error) && !isRetryable(error))) {
        // Final: it would be refused on every delivery. Recorded for an operator, and acknowledged.
        // A command that only lost the race for its workspace (another replica writing) is not
        // final: it answers 500 below, and Stripe delivers the event again.
        const reason = error.message;
        logger.error({ eventId: event.eventId, kind: event.kind, reason }, 'stripe webhook refused');
        try {
          await service.providerEvents.recordRefusal(event, reason);
        } catch (recordError) {
          logger.error({ err: recordError, eventId: event.eventId }, 'could not record a refused webhook');
          counted('failed');
          res.status(500).json({ error: 'The event could not be recorded; it will be retried.' });
          return;
        }
        counted('refused');
        res.json({ received: true, applied: false, reason });
        return;
      }
      logger.error(
        { err: error, eventId: event.eventId, kind: event.kind },
        'stripe webhook failed; Stripe will retry',
      );
      counted('failed');
      res.status(500).json({ error: 'The event could not be applied; it will be retried.' });
    }
  });
  return router;
}
