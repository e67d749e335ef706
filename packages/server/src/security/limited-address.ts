import ipaddr from 'ipaddr.js';

/**
 * The IPv6 prefix a per-address limit counts as one client. A subscriber, a cloud host or a VPS
 * is routinely given a whole /64 (RFC 6177, RFC 7934) and may send from any of its 2^64
 * addresses, so counting single IPv6 addresses would give an attacker a fresh counter per
 * request; one /64 is what one IPv4 address behind a NAT is.
 */
export const IPV6_LIMIT_PREFIX = 64;

/** A dotted quad, the common case: taken as it is, without parsing. */
const PLAIN_IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** `[2001:db8::1]:443` or `192.0.2.1:443`: what some proxies append to `X-Forwarded-For`. */
const WITH_PORT = /^\[([^\]]+)\](?::\d+)?$|^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/;

/**
 * What every per-address limit (sign-in, client authentication, guessing, flooding) counts for a
 * client address: an IPv4 address as such, also when it arrives IPv4-mapped (`::ffff:192.0.2.1`,
 * how a dual-stack socket reports IPv4 clients) or with a port; an IPv6 address as its /64
 * network, written one way however the address was spelled (`2001:db8:0:1::/64`). Anything that
 * does not parse as an address is counted as the string it is. Logs keep the full address.
 *
 * @example
 * limitedAddress('2001:db8:0:1:aaaa::7') === limitedAddress('2001:0db8:0:1:bbbb::9'); // '2001:db8:0:1::/64'
 * limitedAddress('::ffff:192.0.2.1') === '192.0.2.1';
 */
export function limitedAddress(address: string): string {
  if (PLAIN_IPV4.test(address)) return address;
  const withPort = WITH_PORT.exec(address);
  const host = withPort ? (withPort[1] ?? withPort[2] ?? address) : address;
  if (!ipaddr.isValid(host)) return address;
  const parsed = ipaddr.process(host);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const network = (parsed as ipaddr.IPv6).parts.map((part, i) => (i < IPV6_LIMIT_PREFIX / 16 ? part : 0));
  return `${new ipaddr.IPv6(network).toString()}/${IPV6_LIMIT_PREFIX}`;
}
