import { describe, expect, it } from 'vitest';
import { deriveCookieKeys, deriveDpopNonceSecret, deriveKeyEncryptionKey } from './secret-derivation.ts';

const secret = 'correct horse battery staple 0123456789';

describe('secret derivation', () => {
  it('derives the same cookie keys from the same secret (every instance agrees)', () => {
    expect(deriveCookieKeys(secret)).toEqual(deriveCookieKeys(secret));
    expect(deriveCookieKeys(secret)).not.toEqual(deriveCookieKeys(`${secret}!`));
  });

  it('never derives a cookie key equal to the key-encryption key', () => {
    const kek = deriveKeyEncryptionKey(secret);
    expect(kek).toHaveLength(32);
    for (const key of deriveCookieKeys(secret)) {
      expect(Buffer.from(key, 'base64url').equals(kek)).toBe(false);
      expect(key).not.toContain(secret);
    }
  });

  it('derives one 32-byte DPoP nonce secret per system secret, unlike every other derived key', () => {
    const nonceSecret = deriveDpopNonceSecret(secret);
    expect(nonceSecret).toHaveLength(32);
    expect(deriveDpopNonceSecret(secret).equals(nonceSecret)).toBe(true);
    expect(deriveDpopNonceSecret(`${secret}!`).equals(nonceSecret)).toBe(false);
    expect(nonceSecret.equals(deriveKeyEncryptionKey(secret))).toBe(false);
    for (const key of deriveCookieKeys(secret))
      expect(Buffer.from(key, 'base64url').equals(nonceSecret)).toBe(false);
  });
});
