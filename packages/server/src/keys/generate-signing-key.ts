import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { SigningAlgorithm, SigningKeyRecord } from './signing-key-record.ts';

/** When a new key is published and when it starts signing (epoch seconds). */
export interface SigningKeySchedule {
  readonly now: number;
  readonly activateAt: number;
}

/**
 * Generates a fresh key pair and wraps it as a record published at `now`.
 *
 * @example
 * const first = await generateSigningKey('ES256', { now, activateAt: now });
 */
export async function generateSigningKey(
  alg: SigningAlgorithm,
  schedule: SigningKeySchedule,
): Promise<SigningKeyRecord> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const exported = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(exported, 'sha256');
  return {
    kid,
    alg,
    jwk: { ...exported, kid, alg, use: 'sig' },
    createdAt: schedule.now,
    publishAt: schedule.now,
    activateAt: schedule.activateAt,
  };
}
