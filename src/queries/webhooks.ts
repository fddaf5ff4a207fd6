/** What the read side says about outbound webhooks: endpoints, deliveries and attempts (reactions/webhooks). */
export { WebhookReader } from '../../reactions/webhooks/reader';
export type {
  DeliveryStatus,
  EndpointStatus,
  WebhookAttemptView,
  WebhookDeliveryView,
  WebhookEndpointView,
} from '../../reactions/webhooks/reader';
