import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { deriveKeyEncryptionKey } from './secret-derivation.ts';
import { SigningKeyError } from './signing-key-error.ts';
import {
  ID_TOKEN_DEFAULT_ALGORITHM,
  SIGNING_ALGORITHMS,
  type SigningKeyRecord,
} from './signing-key-record.ts';

// The whole key set is one AES-256-GCM message, so the lifecycle dates are authenticated
// along with the private keys: whoever can write to Redis but lacks the secret cannot
// make an old key sign again or retire the current one early.
const VERSION = 1;
const AAD = Buffer.from(`gatehouse:keys/v${VERSION}`);

const envelopeSchema = z.object({
  v: z.literal(VERSION),
  iv: z.base64url(),
  ct: z.base64url(),
  tag: z.base64url(),
});

const recordSchema = z.object({
  kid: z.string().min(1),
  alg: z.enum(SIGNING_ALGORITHMS),
  jwk: z.looseObject({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.literal('sig') }),
  // Optional: key sets stored before Gatehouse had RS256 keys lack it. A release without it
  // drops the field when it reads (zod strips unknown keys), so rolling back still starts.
  rsa: z
    .object({
      kid: z.string().min(1),
      jwk: z.looseObject({
        kty: z.literal('RSA'),
        kid: z.string(),
        alg: z.literal(ID_TOKEN_DEFAULT_ALGORITHM),
        use: z.literal('sig'),
      }),
    })
    .optional(),
  createdAt: z.number().int(),
  publishAt: z.number().int(),
  activateAt: z.number().int(),
  retireAt: z.number().int().optional(),
});

const keySetSchema = z.object({ keys: z.array(recordSchema) });

/**
 * Encrypts the key records with a key derived from `secret` (HKDF-SHA256, AES-256-GCM,
 * random 96-bit IV). The result is a JSON string safe to store in Redis.
 *
 * @example
 * await repo.save(encryptKeyRecords(records, secret), previous);
 */
export function encryptKeyRecords(records: readonly SigningKeyRecord[], secret: string): string {
  // NIST SP 800-38D §8.2.2: random 96-bit IVs; a fresh one for every write.
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKeyEncryptionKey(secret), iv);
  cipher.setAAD(AAD);
  const ct = Buffer.concat([cipher.update(JSON.stringify({ keys: records }), 'utf8'), cipher.final()]);
  return JSON.stringify({
    v: VERSION,
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  });
}

/**
 * Decrypts what {@link encryptKeyRecords} stored. Throws {@link SigningKeyError} `wrong_secret`
 * when `secret` is not the one the keys were encrypted with, `corrupt` when the stored value
 * is not a key set.
 *
 * @example
 * const records = decryptKeyRecords(await repo.load(), secret);
 */
export function decryptKeyRecords(stored: string, secret: string): SigningKeyRecord[] {
  let envelope: z.infer<typeof envelopeSchema>;
  try {
    envelope = envelopeSchema.parse(JSON.parse(stored));
  } catch (cause) {
    throw new SigningKeyError('corrupt', 'the stored signing keys are not in a format this version reads', {
      cause,
    });
  }
  let plaintext: string;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      deriveKeyEncryptionKey(secret),
      Buffer.from(envelope.iv, 'base64url'),
    );
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64url'));
    plaintext = Buffer.concat([
      decipher.update(Buffer.from(envelope.ct, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  } catch (cause) {
    // GCM authentication fails for a different key; we cannot tell a wrong secret from a
    // tampered ciphertext, and the wrong secret is by far the likelier operator mistake.
    throw new SigningKeyError('wrong_secret', 'GATEHOUSE_SECRET does not decrypt the stored signing keys', {
      cause,
    });
  }
  const parsed = keySetSchema.safeParse(JSON.parse(plaintext));
  if (!parsed.success) {
    throw new SigningKeyError('corrupt', 'the stored signing keys decrypt but are not a valid key set', {
      cause: parsed.error,
    });
  }
  return parsed.data.keys.map(({ retireAt, rsa, ...rest }) => ({
    ...rest,
    ...(rsa === undefined ? {} : { rsa }),
    ...(retireAt === undefined ? {} : { retireAt }),
  }));
}
