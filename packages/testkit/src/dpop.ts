import { createHash, randomUUID } from 'node:crypto';
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** The proof algorithms Gatehouse and the demo API accept (RFC 9449 §5.1 `dpop_signing_alg_values_supported`). */
export type DpopAlgorithm = 'ES256' | 'EdDSA' | 'Ed25519';

/**
 * A client's DPoP key pair (RFC 9449 §2): the private key that signs proofs and the public JWK
 * that goes into every proof's header.
 */
export interface DpopKey {
  readonly alg: DpopAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint of {@link publicJwk}: the `cnf.jkt` of tokens bound to this key. */
  readonly thumbprint: string;
}

/**
 * A fresh key pair. Non-extractable by default, as a browser keeps it; `extractable: true` for
 * tests that need the private key's bytes (a proof that leaks them, a hand-built JWS).
 *
 * @example
 * const key = await dpopKey();
 * const stranger = await dpopKey('EdDSA');
 */
export async function dpopKey(
  alg: DpopAlgorithm = 'ES256',
  options: { readonly extractable?: boolean } = {},
): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: options.extractable ?? false,
  });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, thumbprint: await calculateJwkThumbprint(publicJwk) };
}

/** RFC 9449 §4.2 `ath`: the base64url SHA-256 of the access token a proof goes with. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

/** The claims of one proof. */
export interface DpopProofClaims {
  /** The request's method. */
  readonly htm: string;
  /** The request's URL (RFC 9449 §4.3: without query and fragment). */
  readonly htu: string;
  /** The access token the proof goes with: its hash becomes `ath`. None at the token endpoint. */
  readonly accessToken?: string | undefined;
  /** A server nonce (RFC 9449 §8), from a `DPoP-Nonce` header. */
  readonly nonce?: string | undefined;
  /** Seconds since the epoch; default: now. Tests on a frozen clock pass theirs. */
  readonly iat?: number | undefined;
  /** Default: a fresh UUID, so every proof is single-use as the spec asks. */
  readonly jti?: string | undefined;
}

/**
 * A DPoP proof JWT (RFC 9449 §4.2, `typ: dpop+jwt`) signed with `key`. `header` entries go in
 * as given, after the defaults: tests of forged proofs name another `jwk` or `typ` there.
 *
 * @example
 * const dpop = await dpopProof(key, { htm: 'GET', htu: `${apiUrl}/me`, accessToken });
 * await fetch(`${apiUrl}/me`, { headers: { authorization: `DPoP ${accessToken}`, dpop } });
 */
export function dpopProof(
  key: DpopKey,
  claims: DpopProofClaims,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({
    htm: claims.htm,
    htu: claims.htu,
    jti: claims.jti ?? randomUUID(),
    ...(claims.accessToken === undefined ? {} : { ath: accessTokenHash(claims.accessToken) }),
    ...(claims.nonce === undefined ? {} : { nonce: claims.nonce }),
  })
    .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk, ...header })
    .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000))
    .sign(key.privateKey);
}
