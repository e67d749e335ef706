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
 * how a dual-stack socket reports IPv4 clients), with a port, or inside an IPv6 address that
 * carries it (NAT64, 6to4, Teredo); any other IPv6 address as its /64 network, written one way
 * however the address was spelled (`2001:db8:0:1::/64`). Anything that
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
  const { parts } = parsed as ipaddr.IPv6;
  const carried = CARRIES_IPV4[(parsed as ipaddr.IPv6).range()];
  if (carried) return carried(parts);
  const network = parts.map((part, i) => (i < IPV6_LIMIT_PREFIX / 16 ? part : 0));
  return `${new ipaddr.IPv6(network).toString()}/${IPV6_LIMIT_PREFIX}`;
}

/** An IPv4 address from two 16-bit groups. */
const ipv4 = (high = 0, low = 0) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * IPv6 ranges whose addresses carry the IPv4 address of the client behind them: counted as that
 * address, since one IPv4 client owns many of their /64s (6to4 a /48, Teredo one per port), and
 * a NAT64 prefix puts every IPv4 client in one /64.
 */
const CARRIES_IPV4: Readonly<Record<string, (parts: number[]) => string>> = {
  // RFC 6052 (NAT64, 64:ff9b::/96): the last 32 bits.
  rfc6052: (parts) => ipv4(parts[6], parts[7]),
  // RFC 3056 (6to4, 2002::/16): bits 16 to 47.
  '6to4': (parts) => ipv4(parts[1], parts[2]),
  // RFC 4380 (Teredo, 2001::/32): the client's public address, inverted, in the last 32 bits.
  teredo: (parts) => ipv4((parts[6] ?? 0) ^ 0xffff, (parts[7] ?? 0) ^ 0xffff),
};
