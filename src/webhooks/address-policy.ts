/**
 * Which addresses a webhook may be sent to: public unicast only. Refused are loopback, private
 * (RFC 1918, IPv6 unique local), link-local (and so the cloud metadata service at 169.254.169.254),
 * carrier-grade NAT (100.64/10, e.g. another cloud's metadata at 100.100.100.200), multicast,
 * broadcast, unspecified and every reserved or special-purpose range ipaddr.js knows, for IPv4 and
 * IPv6. An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is;
 * any other IPv6 address must be global unicast (2000::/3), which leaves out the deprecated
 * IPv4-compatible form (::10.0.0.1, ::a9fe:a9fe) and everything else IANA has not allocated.
 * Refused too, though public: a cloud's host service that answers on a public address (Azure's
 * WireServer, 168.63.129.16, beside its metadata service on 169.254.169.254).
 */
import ipaddr from 'ipaddr.js';

const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
const CLOUD_HOST_SERVICES = [ipaddr.parseCIDR('168.63.129.16/32')];

export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const ipv6 = parsed as ipaddr.IPv6;
    if (ipv6.isIPv4MappedAddress()) parsed = ipv6.toIPv4Address();
    else if (!ipv6.match(GLOBAL_UNICAST)) return false;
  }
  if (parsed.kind() === 'ipv4' && CLOUD_HOST_SERVICES.some((range) => parsed.match(range))) return false;
  return parsed.range() === 'unicast';
}

/** The address inside brackets for IPv6 URL hosts (`[::1]`), or the host as it is. */
export const unbracket = (hostname: string): string =>
  hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
