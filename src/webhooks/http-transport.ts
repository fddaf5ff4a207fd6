/**
 * POSTs webhooks with undici. Each request has a deadline for the whole exchange; the answer's body
 * is read up to a small limit and dropped; a redirect is never followed (the receiver's 3xx is the
 * attempt's answer, and a failure). Unless private URLs are allowed, the connection is made only to
 * an address checked at that moment: the host is resolved by the transport's own lookup, which
 * hands the socket a public address or fails, so a name that resolved to a public address when the
 * endpoint was created cannot be pointed at an internal one later (DNS rebinding).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { isPublicAddress, unbracket } from './address-policy';
import { UnsafeWebhookUrl, type WebhookTransport } from './port';

export interface HttpTransportOptions {
  allowPrivate: boolean;
  /** Deadline of one attempt, from connecting to the end of the answer. */
  timeoutMs: number;
  /** Connections kept per receiving origin (the performer bounds requests per endpoint too). */
  connectionsPerOrigin: number;
  /** For tests: how host names resolve. Default: the system's resolver. */
  lookup?: typeof dnsLookup;
}

const MAX_ANSWER_BYTES = 64 * 1024;

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net.connect that answers only public addresses of the host, or fails. */
export function publicOnlyLookup(lookup: typeof dnsLookup = dnsLookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true, verbatim: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const allowed = addresses.filter((entry) => isPublicAddress(entry.address));
      if (allowed.length === 0) {
        return callback(new UnsafeWebhookUrl(`${hostname} resolves to no public address`), []);
      }
      if (options.all) return callback(null, allowed);
      const first = allowed[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

export function httpTransport(options: HttpTransportOptions): WebhookTransport {
  const agent = new Agent({
    connections: options.connectionsPerOrigin,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
    ...(!options.allowPrivate && { connect: { lookup: publicOnlyLookup(options.lookup) } }),
  });
  return {
    async post({ url, headers, body }) {
      if (!options.allowPrivate) {
        // A literal address never reaches the lookup: it is judged here.
        const host = unbracket(new URL(url).hostname);
        if (isIP(host) && !isPublicAddress(host)) throw new UnsafeWebhookUrl(`${host} is not a public address`);
      }
      const answer = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'credits-service-webhooks/1', ...headers },
        body,
        dispatcher: agent,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await answer.body.dump({ limit: MAX_ANSWER_BYTES }).catch(() => undefined);
      return { statusCode: answer.statusCode };
    },
    close: () => agent.close(),
  };
}
