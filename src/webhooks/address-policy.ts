/**
 * Which addresses a webhook may be sent to: public unicast only. Refused are loopback, private
 * (RFC 1918, IPv6 unique local), link-local (and so the cloud metadata service at 169.254.169.254),
 * carrier-grade NAT (100.64/10, e.g. another cloud's metadata at 100.100.100.200), multicast,
 * broadcast, unspecified and every reserved or special-purpose range ipaddr.js knows, for IPv4 and
 * IPv6. An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
 */
import ipaddr from 'ipaddr.js';

export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === 'unicast';
}

/** The address inside brackets for IPv6 URL hosts (`[::1]`), or the host as it is. */
export const unbracket = (hostname: string): string =>
  hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
