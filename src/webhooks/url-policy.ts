/**
 * The rule for webhook URLs, checked when an endpoint is created or changed (and again, address by
 * address, when each delivery connects: http-transport.ts). In production: https only, no
 * credentials in the URL, and every address the host resolves to must be public
 * (address-policy.ts). WEBHOOK_ALLOW_PRIVATE_URLS=true lifts the https and address rules, for
 * receivers on a developer's machine and in the tests.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isPublicAddress, unbracket } from './address-policy';
import { MAX_URL_LENGTH, UnsafeWebhookUrl, type WebhookUrlPolicy } from './port';

/**
 * Said with each refusal the setting would lift: a developer pointing an endpoint at a receiver on
 * their own machine learns which switch the server needs, not only that the URL is refused.
 */
const SETTING_HINT =
  ' A server started with WEBHOOK_ALLOW_PRIVATE_URLS=true (for development and tests only) also takes http and private addresses.';

export type Resolve = (hostname: string) => Promise<string[]>;

export const resolveAll: Resolve = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * `namesSetting`: whether a refusal the setting would lift names it (outside production: a tenant
 * of a production server has no use for an operator's switch that turns the address rules off).
 */
export function webhookUrlPolicy(options: {
  allowPrivate: boolean;
  resolve?: Resolve;
  namesSetting?: boolean;
}): WebhookUrlPolicy {
  const resolve = options.resolve ?? resolveAll;
  const LOCAL_RECEIVERS = options.namesSetting === false ? '' : SETTING_HINT;
  return {
    async check(input) {
      const url = parseUrl(input);
      if (options.allowPrivate) return url.href;
      if (url.protocol !== 'https:') throw new UnsafeWebhookUrl(`A webhook URL must use https.${LOCAL_RECEIVERS}`);
      const host = unbracket(url.hostname);
      let addresses: string[];
      if (isIP(host)) addresses = [host];
      else {
        try {
          addresses = await resolve(host);
        } catch {
          addresses = [];
        }
      }
      const refused = addresses.length === 0 || addresses.some((address) => !isPublicAddress(address));
      if (isIP(host) && refused) {
        throw new UnsafeWebhookUrl(`The webhook URL's host ${host} is not a public address.${LOCAL_RECEIVERS}`);
      }
      if (refused) {
        // Which internal address a name has, or whether it has one at all, is not the caller's to
        // learn (it would map the names the server's resolver knows): one refusal for both.
        throw new UnsafeWebhookUrl(
          `The webhook URL's host "${host}" is not a public address: it must resolve, and only to public addresses (loopback, private, link-local and metadata addresses are refused).${LOCAL_RECEIVERS}`,
        );
      }
      return url.href;
    },
  };
}

function parseUrl(input: string): URL {
  if (input.length > MAX_URL_LENGTH)
    throw new UnsafeWebhookUrl(`A webhook URL may be at most ${MAX_URL_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UnsafeWebhookUrl(`"${input}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UnsafeWebhookUrl('A webhook URL must use https (or http where private URLs are allowed).');
  }
  if (url.username !== '' || url.password !== '') {
    throw new UnsafeWebhookUrl('A webhook URL may not carry a user name or password.');
  }
  // An empty fragment ("…/hook#") leaves url.hash empty but is kept in the URL stored.
  if (url.hash !== '' || url.href.includes('#')) throw new UnsafeWebhookUrl('A webhook URL may not have a #fragment.');
  if (url.port === '0') throw new UnsafeWebhookUrl('A webhook URL may not name port 0: nothing can be reached there.');
  // Escaping can make the URL stored (and carried by every endpoint event) several times longer
  // than the one typed: the bound holds for what is kept.
  if (url.href.length > MAX_URL_LENGTH) {
    throw new UnsafeWebhookUrl(`A webhook URL may be at most ${MAX_URL_LENGTH} characters once escaped.`);
  }
  return url;
}
