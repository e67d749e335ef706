import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  ID_TOKEN_DEFAULT_ALGORITHM,
  type PublishedAlgorithm,
  type RsaSigningKey,
  type SigningAlgorithm,
  type SigningKeyRecord,
} from './signing-key-record.ts';

/** When a new key is published and when it starts signing (epoch seconds). */
export interface SigningKeySchedule {
  readonly now: number;
  readonly activateAt: number;
}

/**
 * RSA modulus of the RS256 keys. 2048 bits is what RFC 7518 §3.3 requires at least and what
 * relying parties expect; the key rotates with its generation and signs only hour-long ID
 * tokens, while 3072 bits would more than double the signing time of every ID token and
 * triple the key generation time.
 */
export const RSA_MODULUS_LENGTH = 2048;

async function generateJwk(alg: PublishedAlgorithm): Promise<{ kid: string; jwk: JWK }> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === ID_TOKEN_DEFAULT_ALGORITHM ? { modulusLength: RSA_MODULUS_LENGTH } : {}),
  });
  const exported = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(exported, 'sha256');
  return { kid, jwk: { ...exported, kid, alg, use: 'sig' } };
}

/**
 * A fresh RS256 key for a generation that has none (one stored before Gatehouse had them).
 *
 * @example
 * const upgraded = { ...record, rsa: await generateRsaSigningKey() };
 */
export function generateRsaSigningKey(): Promise<RsaSigningKey> {
  return generateJwk(ID_TOKEN_DEFAULT_ALGORITHM);
}

/**
 * Generates a fresh generation, published at `now`: an `alg` key pair and an RS256 one.
 *
 * @example
 * const first = await generateSigningKey('ES256', { now, activateAt: now });
 */
export async function generateSigningKey(
  alg: SigningAlgorithm,
  schedule: SigningKeySchedule,
): Promise<SigningKeyRecord> {
  const [main, rsa] = await Promise.all([generateJwk(alg), generateRsaSigningKey()]);
  return {
    kid: main.kid,
    alg,
    jwk: main.jwk,
    rsa,
    createdAt: schedule.now,
    publishAt: schedule.now,
    activateAt: schedule.activateAt,
  };
}
