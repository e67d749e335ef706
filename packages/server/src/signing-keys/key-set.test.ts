import { describe, expect, it } from 'vitest';
import { generateRsaSigningKey, generateSigningKey } from './generate-signing-key.ts';
import { keySetAt } from './key-set.ts';
import { SigningKeyError } from './signing-key-error.ts';

describe('keySetAt', () => {
  it('puts the signing key first and leaves out keys not yet published or already retired', async () => {
    const retired = { ...(await generateSigningKey('ES256', { now: 0, activateAt: 0 })), retireAt: 100 };
    const retiring = { ...(await generateSigningKey('ES256', { now: 50, activateAt: 60 })), retireAt: 400 };
    const active = await generateSigningKey('ES256', { now: 150, activateAt: 200 });
    const unpublished = { ...(await generateSigningKey('ES256', { now: 500, activateAt: 600 })) };
    const set = keySetAt([retired, retiring, active, unpublished], 300);
    expect(set.signing.kid).toBe(active.kid);
    expect(set.rsaSigning?.kid).toBe(active.rsa?.kid);
    // Each generation's RS256 key rides with it; the active one's comes first among RSA keys.
    expect(set.published.map((jwk) => jwk.kid)).toEqual([
      active.kid,
      active.rsa?.kid,
      retiring.kid,
      retiring.rsa?.kid,
    ]);
    expect(set.nextChangeAt).toBe(400);
    expect(set.published.map((jwk) => [jwk.kty, jwk.alg, jwk.use])).toEqual([
      ['EC', 'ES256', 'sig'],
      ['RSA', 'RS256', 'sig'],
      ['EC', 'ES256', 'sig'],
      ['RSA', 'RS256', 'sig'],
    ]);
  });

  it('publishes a generation stored without an RS256 key as it is; RS256 signs with the newest that has one', async () => {
    const withoutRsa = async (now: number, activateAt: number) => {
      const { rsa: _none, ...record } = await generateSigningKey('ES256', { now, activateAt });
      return record;
    };
    const old = await withoutRsa(0, 0);
    expect(keySetAt([old], 10)).toMatchObject({ rsaSigning: undefined, published: [{ kid: old.kid }] });

    // A release without RS256 keys rotated after one with them had written them.
    const superseded = { ...old, retireAt: 1000, rsa: await generateRsaSigningKey() };
    const newer = await withoutRsa(20, 30);
    const set = keySetAt([superseded, newer], 40);
    expect(set.signing.kid).toBe(newer.kid);
    expect(set.rsaSigning?.kid).toBe(superseded.rsa.kid);
    expect(set.published.map((jwk) => jwk.kid)).toEqual([newer.kid, superseded.rsa.kid, superseded.kid]);
  });

  it('signs with the earliest key when this clock is behind every activation', async () => {
    const first = await generateSigningKey('ES256', { now: 1000, activateAt: 1000 });
    expect(keySetAt([first], 998).signing.kid).toBe(first.kid);
  });

  it('has no nextChangeAt for a single key and refuses an empty set', async () => {
    const only = await generateSigningKey('EdDSA', { now: 10, activateAt: 10 });
    expect(keySetAt([only], 20)).toMatchObject({ nextChangeAt: undefined, signing: { crv: 'Ed25519' } });
    expect(() => keySetAt([], 20)).toThrow(SigningKeyError);
  });
});
