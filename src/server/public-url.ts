/**
 * The URL browsers reach this server at, which the pages Stripe Checkout sends a buyer back to are
 * built from: `PUBLIC_URL`, or else this machine on the port the server listens on. With `PORT=0`
 * that port is only known once the server listens, so the URLs are read when a checkout is opened,
 * not when the service is wired.
 */
import type { CheckoutUrls } from '../../reactions/payments/performer';
import type { Config } from './config';

/** Addresses that mean "this machine" to a browser on it: the wildcard and loopback interfaces. */
const LOCAL_HOSTS = new Set(['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost']);

export class PublicUrl {
  private port: number | undefined;

  constructor(private readonly config: Pick<Config, 'publicUrl' | 'host' | 'port'>) {
    this.port = config.port === 0 ? undefined : config.port;
  }

  /** Called once the server listens: the port `PORT=0` was given. */
  listeningOn(port: number): void {
    this.port = port;
  }

  /** No trailing slash: pages are `${url}/billing`. */
  get url(): string {
    if (this.config.publicUrl !== undefined) return this.config.publicUrl;
    if (this.port === undefined) throw new Error('The public URL is not known until the server listens (PORT=0).');
    const host = LOCAL_HOSTS.has(this.config.host) ? 'localhost' : this.config.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }
}

/** CHECKOUT_SUCCESS_URL and CHECKOUT_CANCEL_URL when set; otherwise the Billing page at the public URL. */
export function checkoutUrls(
  config: Pick<Config, 'checkoutSuccessUrl' | 'checkoutCancelUrl'>,
  publicUrl: PublicUrl,
): CheckoutUrls {
  return {
    successUrl:
      config.checkoutSuccessUrl ?? `${publicUrl.url}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
    cancelUrl: config.checkoutCancelUrl ?? `${publicUrl.url}/billing?checkout=cancelled`,
  };
}
