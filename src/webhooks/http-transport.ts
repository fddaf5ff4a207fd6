/**
 * POSTs webhooks with undici's dispatcher (no response stream, no AbortSignal per request). Each
 * request has a deadline for the whole exchange (one timer serves them all); the answer's body
 * is read up to a small limit and dropped; a redirect is never followed (the receiver's 3xx is the
 * attempt's answer, and a failure). Unless private URLs are allowed, the connection is made only to
 * an address checked at that moment: the host is resolved by the transport's own lookup, which
 * hands the socket a public address or fails, so a name that resolved to a public address when the
 * endpoint was created cannot be pointed at an internal one later (DNS rebinding).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { isPublicAddress, unbracket } from './address-policy';
import { UnsafeWebhookUrl, type WebhookTransport } from './port';

export interface HttpTransportOptions {
  allowPrivate: boolean;
  /**
   * Deadline of one attempt, from when it is dispatched (connecting included): a status must come
   * by then; a status that came is the answer, whatever becomes of the rest of the body.
   */
  timeoutMs: number;
  /** Connections kept per receiving origin (the performer bounds requests per endpoint too). */
  connectionsPerOrigin: number;
  /** For tests: how host names resolve. Default: the system's resolver. */
  lookup?: typeof dnsLookup;
  /** Told why a host did not resolve (for the operator's log; the attempt's error does not say). */
  onLookupFailure?: (hostname: string, error: NodeJS.ErrnoException) => void;
}

const MAX_ANSWER_BYTES = 64 * 1024;

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.connect that answers only public addresses of the host, or fails. A name that
 * does not resolve fails as one that resolves only to internal addresses does, in the same words:
 * the failure is the attempt's error, which the endpoint's owner reads (webhookDeliveries), and a
 * name of theirs pointed (CNAME) at an internal one must not tell them whether that one exists.
 */
export function publicOnlyLookup(
  lookup: typeof dnsLookup = dnsLookup,
  onFailure?: HttpTransportOptions['onLookupFailure'],
) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true, verbatim: true }, (error, addresses) => {
      if (error) onFailure?.(hostname, error);
      const allowed = error ? [] : addresses.filter((entry) => isPublicAddress(entry.address));
      if (allowed.length === 0) {
        return callback(new UnsafeWebhookUrl(`${hostname} resolves to no public address`), []);
      }
      if (options.all) return callback(null, allowed);
      const first = allowed[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

/**
 * The deadlines of the exchanges in flight, oldest first: every one is `timeoutMs` long, so they
 * fall due in the order they were set, and one timer, armed for the oldest, serves them all
 * (rather than a timer and an AbortSignal per request).
 */
class Deadlines {
  private queue: { at: number; expire: (() => void) | undefined }[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Calls `expire` once the deadline passes, unless the returned function is called first. */
  add(expire: () => void): () => void {
    const entry = { at: performance.now() + this.timeoutMs, expire: expire as (() => void) | undefined };
    this.queue.push(entry);
    if (this.timer === undefined) this.arm(this.timeoutMs);
    return () => (entry.expire = undefined);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(0, Math.ceil(delayMs)));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head] as (typeof this.queue)[number];
      if (entry.expire !== undefined && entry.at > now) break;
      this.head += 1;
      entry.expire?.();
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      return;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.arm((this.queue[this.head] as (typeof this.queue)[number]).at - now);
  }
}

const timedOut = (): Error => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

export function httpTransport(options: HttpTransportOptions): WebhookTransport {
  const agent = new Agent({
    connections: options.connectionsPerOrigin,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
    ...(!options.allowPrivate && { connect: { lookup: publicOnlyLookup(options.lookup, options.onLookupFailure) } }),
  });
  const deadlines = new Deadlines(options.timeoutMs);
  return {
    post({ url, headers, body }) {
      const parsed = new URL(url);
      if (!options.allowPrivate) {
        // An endpoint stored while private URLs were allowed (a development data directory served in
        // production) is held to the rule of now: nothing signed goes out in the clear.
        if (parsed.protocol !== 'https:') {
          return Promise.reject(new UnsafeWebhookUrl('A webhook URL must use https.'));
        }
        // A literal address never reaches the lookup: it is judged here.
        const host = unbracket(parsed.hostname);
        if (isIP(host) && !isPublicAddress(host)) {
          return Promise.reject(new UnsafeWebhookUrl(`${host} is not a public address`));
        }
      }
      return new Promise((resolve, reject) => {
        let statusCode: number | undefined;
        let received = 0;
        let controller: Dispatcher.DispatchController | undefined;
        let aborted: Error | undefined;
        let settled = false;
        const settle = (error: Error | undefined): void => {
          if (settled) return;
          settled = true;
          forget();
          // Once the status came, what befalls the rest of the answer (dropped anyway) does not matter.
          if (statusCode !== undefined) resolve({ statusCode });
          else reject(error ?? new Error('The exchange ended without an answer.'));
        };
        const abort = (error: Error): void => {
          aborted = error;
          if (controller) controller.abort(error);
          else settle(error);
        };
        const forget = deadlines.add(() => abort(timedOut()));
        const handler: Dispatcher.DispatchHandler = {
          onRequestStart(started) {
            controller = started;
            if (aborted) started.abort(aborted);
          },
          onResponseStart(_controller, status) {
            // 1xx answers are informational: the final status follows.
            if (status >= 200) statusCode = status;
          },
          onResponseData(current, chunk) {
            received += chunk.length;
            // Read up to a small limit and dropped: a longer answer ends the exchange here.
            if (received > MAX_ANSWER_BYTES) {
              settle(undefined);
              current.abort(new Error('The answer is longer than the limit read.'));
            }
          },
          onResponseEnd: () => settle(undefined),
          onResponseError: (_controller, error) => settle(aborted ?? error),
        };
        agent.dispatch(
          {
            origin: parsed.origin,
            path: `${parsed.pathname}${parsed.search}`,
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': 'credits-service-webhooks/1', ...headers },
            body,
          },
          handler,
        );
      });
    },
    close: () => {
      deadlines.close();
      return agent.close();
    },
  };
}
