import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { calculatePkceCodeChallenge, generateRandomToken } from './pkce.ts';

describe('PKCE S256', () => {
  it('is BASE64URL(SHA256(verifier)) (RFC 7636 §4.2), checked against node:crypto', async () => {
    for (let i = 0; i < 20; i++) {
      const verifier = generateRandomToken();
      expect(await calculatePkceCodeChallenge(verifier)).toBe(
        createHash('sha256').update(verifier).digest('base64url'),
      );
    }
  });

  it('generates unpadded base64url verifiers of 43 characters, different each time', () => {
    const a = generateRandomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateRandomToken()).not.toBe(a);
  });
});
