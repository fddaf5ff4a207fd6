/**
 * What the webhook endpoints' command side and the delivery reaction ask of the outside world, as
 * ports the composition root wires to the adapters beside this file: signing secrets (made, sealed
 * for the event store, opened to sign), the rule of which URLs may receive webhooks, and the HTTP
 * POST itself.
 */

export interface WebhookSecrets {
  /** A new signing secret: `whsec_` and base64 of random bytes (Standard Webhooks' form). */
  generate(): string;
  /** The secret encrypted with the service's key, as events store it. */
  seal(secret: string): string;
  open(sealed: string): string;
}

/** How long a webhook URL may be (the API's input rule and the URL policy's). */
export const MAX_URL_LENGTH = 2048;

/** A URL that may not receive webhooks (not https, or reaching a private address). */
export class UnsafeWebhookUrl extends Error {
  readonly code = 'BAD_USER_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeWebhookUrl';
  }
}

export interface WebhookUrlPolicy {
  /** Resolves to the URL as WHATWG parsing writes it (what is stored and shown) when `url` may receive webhooks; rejects with UnsafeWebhookUrl otherwise. */
  check(url: string): Promise<string>;
}

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface WebhookTransport {
  /**
   * POSTs the request and resolves with the receiver's status code (a redirect is answered as it
   * is, not followed); rejects when no answer came in time, or the address is refused.
   */
  post(request: WebhookRequest): Promise<{ statusCode: number }>;
  close(): Promise<void>;
}
