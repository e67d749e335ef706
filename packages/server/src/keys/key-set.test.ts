import { describe, expect, it } from 'vitest';
import { generateSigningKey } from './generate-signing-key.ts';
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
    expect(set.published.map((jwk) => jwk.kid)).toEqual([active.kid, retiring.kid]);
    expect(set.nextChangeAt).toBe(400);
    for (const jwk of set.published) expect(jwk).toMatchObject({ use: 'sig', alg: 'ES256' });
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
