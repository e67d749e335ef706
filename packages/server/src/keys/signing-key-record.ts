import type { JWK } from 'jose';

/** JWS algorithms Gatehouse signs with: ES256 (P-256, the default) and EdDSA (Ed25519). */
export type SigningAlgorithm = 'ES256' | 'EdDSA';

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'EdDSA'];

/**
 * One signing key and its lifecycle. Times are epoch seconds, like JWT `iat`/`exp`.
 *
 * A key is published (in the JWKS) from `publishAt`, signs from `activateAt` until a newer
 * key activates, and stays published until `retireAt`, so every token it signed can still
 * be verified until it expires.
 */
export interface SigningKeyRecord {
  /** RFC 7638 JWK thumbprint (SHA-256) of the public key. */
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** The private JWK, with `kid`, `alg` and `use: 'sig'`. Never logged or printed. */
  readonly jwk: JWK;
  readonly createdAt: number;
  readonly publishAt: number;
  readonly activateAt: number;
  /** Set once a newer key takes over: when the last token this key signed has expired. */
  readonly retireAt?: number;
}

/** Seconds since the epoch, the unit of every key lifecycle time. */
export function epochSeconds(date: Date = new Date()): number {
  return Math.floor(date.getTime() / 1000);
}
