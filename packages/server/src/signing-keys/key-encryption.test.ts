import { describe, expect, it } from 'vitest';
import { generateSigningKey } from './generate-signing-key.ts';
import { decryptKeyRecords, encryptKeyRecords } from './key-encryption.ts';
import { SigningKeyError } from './signing-key-error.ts';

const secret = 'a'.repeat(32);
const otherSecret = 'b'.repeat(32);

describe('encryptKeyRecords / decryptKeyRecords', () => {
  it('round-trips records and keeps the private key out of the stored text', async () => {
    const records = [
      await generateSigningKey('ES256', { now: 1000, activateAt: 1000 }),
      { ...(await generateSigningKey('EdDSA', { now: 1000, activateAt: 1300 })), retireAt: 5000 },
    ];
    const stored = encryptKeyRecords(records, secret);
    expect(stored).not.toContain(String(records[0]?.jwk.d));
    expect(stored).not.toContain(String(records[0]?.rsa?.jwk.d));
    expect(records[0]?.rsa).toBeDefined();
    expect(stored).not.toContain(String(records[0]?.kid));
    expect(decryptKeyRecords(stored, secret)).toEqual(records);
  });

  it('uses a fresh IV for every write', async () => {
    const records = [await generateSigningKey('ES256', { now: 1, activateAt: 1 })];
    expect(encryptKeyRecords(records, secret)).not.toBe(encryptKeyRecords(records, secret));
  });

  it('refuses a wrong secret with a clear message', async () => {
    const stored = encryptKeyRecords([await generateSigningKey('ES256', { now: 1, activateAt: 1 })], secret);
    const attempt = () => decryptKeyRecords(stored, otherSecret);
    expect(attempt).toThrow(SigningKeyError);
    expect(attempt).toThrow('GATEHOUSE_SECRET does not decrypt the stored signing keys');
  });

  it('refuses a tampered ciphertext', async () => {
    const stored = JSON.parse(
      encryptKeyRecords([await generateSigningKey('ES256', { now: 1, activateAt: 1 })], secret),
    );
    const ct = Buffer.from(stored.ct, 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 1;
    const tampered = JSON.stringify({ ...stored, ct: ct.toString('base64url') });
    expect(() => decryptKeyRecords(tampered, secret)).toThrow(
      expect.objectContaining({ code: 'wrong_secret' }),
    );
  });

  it('reports a value that is not an encrypted key set as corrupt', () => {
    expect(() => decryptKeyRecords('not json', secret)).toThrow(expect.objectContaining({ code: 'corrupt' }));
    expect(() => decryptKeyRecords('{"v":2}', secret)).toThrow(expect.objectContaining({ code: 'corrupt' }));
  });
});
