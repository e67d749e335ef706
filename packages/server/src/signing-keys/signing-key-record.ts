import type { JWK } from 'jose';

/**
 * JWS algorithms of a generation's main key, the one that signs access tokens: ES256 (P-256,
 * the default) and EdDSA (Ed25519).
 */
export type SigningAlgorithm = 'ES256' | 'EdDSA';

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'EdDSA'];

/**
 * The algorithm of every generation's second key. OpenID Connect Core §15.1 makes RS256 the
 * one ID token algorithm every relying party implements, and Registration §2 its default for
 * clients that register none; it never signs access tokens.
 */
export const ID_TOKEN_DEFAULT_ALGORITHM = 'RS256';

/** Every algorithm a published key may carry. */
export type PublishedAlgorithm = SigningAlgorithm | typeof ID_TOKEN_DEFAULT_ALGORITHM;

/** A generation's RS256 key; it shares the generation's lifecycle dates. */
export interface RsaSigningKey {
  /** RFC 7638 JWK thumbprint (SHA-256) of the public key. */
  readonly kid: string;
  /** The private JWK, with `kid`, `alg: 'RS256'` and `use: 'sig'`. Never logged or printed. */
  readonly jwk: JWK;
}

/**
 * One generation of signing keys and its lifecycle. Times are epoch seconds, like JWT `iat`/`exp`.
 *
 * A generation is published (in the JWKS) from `publishAt`, signs from `activateAt` until a
 * newer generation activates, and stays published until `retireAt`, so every token it signed
 * can still be verified until it expires.
 */
export interface SigningKeyRecord {
  /** RFC 7638 JWK thumbprint (SHA-256) of the public key. */
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** The private JWK, with `kid`, `alg` and `use: 'sig'`. Never logged or printed. */
  readonly jwk: JWK;
  /**
   * The RS256 key for ID tokens of clients on the OpenID Connect default. Absent in records
   * stored before Gatehouse had one; `ensureSigningKeys` adds it to the generations that
   * still sign.
   */
  readonly rsa?: RsaSigningKey;
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
