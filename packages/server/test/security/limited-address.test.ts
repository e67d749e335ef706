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

  it('counts what is not an address as the string it is', () => {
    for (const text of ['unknown', '', 'example.test', '2001:db8::1::2', '999.1.1.1'])
      expect(limitedAddress(text)).toBe(text);
  });
});
