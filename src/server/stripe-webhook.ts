/**
 * POST /webhooks/stripe. The body is verified as the exact bytes Stripe sent; an unsigned or
 * altered request answers 400 and records nothing. A verified event is applied once however often
 * it arrives (purchases and refunds are idempotent by their ids); if applying it fails the answer
 * is 500, so that Stripe delivers it again later.
 */
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { isCreditsError } from '../domain/errors';
import { InvalidWebhookSignature, PaymentsNotConfigured } from '../payments/payment-gateway';
import type { CreditsService } from './credits-service';

export function stripeWebhookRouter(service: CreditsService, logger: Logger): Router {
  const router = express.Router();
  router.post('/webhooks/stripe', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let event;
    try {
      event = service.gateway.parseWebhook(body, req.header('stripe-signature'));
    } catch (error) {
      if (error instanceof PaymentsNotConfigured) {
        res.status(503).json({ error: error.message });
        return;
      }
      if (error instanceof InvalidWebhookSignature) {
        logger.warn({ reason: error.message }, 'stripe webhook refused: bad signature');
        res.status(400).json({ error: error.message });
        return;
      }
      throw error;
    }
    try {
      await service.services.payments.handlePaymentEvent(event);
      // Whoever looks next (the buyer's return page, a refund) sees the effect.
      await service.services.waitForProjections(await service.store.headPosition());
      res.json({ received: true });
    } catch (error) {
      if (isCreditsError(error)) {
        // A refusal is final (it would be refused on every retry): acknowledge it and leave it to an operator.
        logger.error(
          { err: error, eventId: event.eventId, kind: event.kind },
          'stripe webhook refused by the credits rules',
        );
        res.json({ received: true, applied: false });
        return;
      }
      logger.error(
        { err: error, eventId: event.eventId, kind: event.kind },
        'stripe webhook failed; Stripe will retry',
      );
      res.status(500).json({ error: 'The event could not be applied; it will be retried.' });
    }
  });
  return router;
}
