import { describe, expect, it } from 'vitest';
import { limitedAddress } from '../../src/security/limited-address.ts';

describe('limitedAddress: what a per-address limit counts', () => {
  it('counts every address of one IPv6 /64 as that /64, however it is spelled', () => {
    const spellings = [
      '2001:db8:0:1::7',
      '2001:0db8:0000:0001:0000:0000:0000:0007',
      '2001:DB8:0:1:ffff:ffff:ffff:ffff',
      '2001:db8:0:1:1234:5678:9abc:def0',
      '[2001:db8:0:1::9]:443',
      '[2001:db8:0:1::9]',
    ];
    expect(new Set(spellings.map(limitedAddress))).toEqual(new Set(['2001:db8:0:1::/64']));
  });

  it('keeps neighbouring /64 networks apart', () => {
    expect(limitedAddress('2001:db8:0:2::7')).toBe('2001:db8:0:2::/64');
    expect(limitedAddress('2001:db8:1:1::7')).toBe('2001:db8:1:1::/64');
    expect(limitedAddress('::1')).toBe('::/64');
    expect(limitedAddress('fe80::1%eth0')).toBe('fe80::/64');
  });

  it('counts an IPv4 client as its address, whether plain, IPv4-mapped (a dual-stack socket) or with a port', () => {
    for (const spelling of [
      '192.0.2.1',
      '::ffff:192.0.2.1',
      '::FFFF:c000:0201',
      '192.0.2.1:51234',
      '[::ffff:192.0.2.1]:8080',
    ])
      expect(limitedAddress(spelling), spelling).toBe('192.0.2.1');
    expect(limitedAddress('192.0.2.2')).toBe('192.0.2.2');
  });

  it('counts an IPv6 address that carries an IPv4 client (NAT64, 6to4, Teredo) as that IPv4 address', () => {
    expect(limitedAddress('64:ff9b::192.0.2.1')).toBe('192.0.2.1');
    expect(limitedAddress('64:ff9b::c000:202')).toBe('192.0.2.2');
    // 6to4: every /64 of 2002:c000:0201::/48 belongs to 192.0.2.1.
    expect(limitedAddress('2002:c000:201::1')).toBe('192.0.2.1');
    expect(limitedAddress('2002:c000:201:ffff::9')).toBe('192.0.2.1');
    // Teredo (RFC 4380's example): client 192.0.2.45 behind server 65.54.227.120.
    expect(limitedAddress('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toBe('192.0.2.45');
  });

  it('counts what is not an address as the string it is', () => {
    for (const text of ['unknown', '', 'example.test', '2001:db8::1::2', '999.1.1.1'])
      expect(limitedAddress(text)).toBe(text);
  });
});
