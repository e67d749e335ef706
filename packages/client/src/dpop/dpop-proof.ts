/**
 * DPoP proofs (RFC 9449 §4.2) signed with WebCrypto: ES256 over a P-256 key whose private half never leaves
 * the `CryptoKey`. WebCrypto's ECDSA signature is already the JOSE form (raw r‖s, RFC 7518 §3.4), so no JOSE
 * library is needed.
 */

/** What one proof is for. */
export interface DpopProofClaims {
  /** The request method (`htm`). */
  method: string;
  /** The request URL; the proof's `htu` is it without query and fragment (RFC 9449 §4.2). */
  url: string;
  /** The server's latest `DPoP-Nonce` for this origin (RFC 9449 §8, §9). */
  nonce?: string | undefined;
  /** The access token a resource request presents: the proof then carries its hash as `ath` (RFC 9449 §4.2). */
  accessToken?: string | undefined;
  /** The time for `iat`, in ms since the epoch (this clock corrected by the server's). @default Date.now() */
  now?: number;
}

const encoder = new TextEncoder();

/** base64url without padding (RFC 7515 §2). */
export const base64url = (bytes: ArrayBuffer | Uint8Array): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/=/g, '')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');

const encodeJson = (value: object) => base64url(encoder.encode(JSON.stringify(value)));

/** The encoded proof header of each key pair: exported once, not once per request. */
const headers = new WeakMap<CryptoKeyPair, Promise<string>>();

/**
 * The public JWK of a DPoP key, reduced to the members RFC 7638 hashes (a JWK thumbprint is what the server
 * binds tokens to, so nothing else belongs in the proof header).
 *
 * @example
 * ```ts
 * const jwk = await publicJwk(keyPair.publicKey); // { crv: 'P-256', kty: 'EC', x, y }
 * ```
 */
export async function publicJwk(publicKey: CryptoKey): Promise<JsonWebKey> {
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
  return { crv: crv as string, kty: kty as string, x: x as string, y: y as string };
}

/**
 * A DPoP proof JWT for one request: header `typ: dpop+jwt`, `alg: ES256`, the public `jwk`; claims `jti`
 * (random), `htm`, `htu`, `iat`, and `nonce` / `ath` when given.
 *
 * @example
 * ```ts
 * const proof = await createDpopProof(keyPair, { method: 'POST', url: 'https://id.example.com/token' });
 * ```
 */
export async function createDpopProof(keyPair: CryptoKeyPair, claims: DpopProofClaims): Promise<string> {
  const url = new URL(claims.url);
  let header = headers.get(keyPair);
  if (!header) {
    header = publicJwk(keyPair.publicKey).then((jwk) => encodeJson({ typ: 'dpop+jwt', alg: 'ES256', jwk }));
    headers.set(keyPair, header);
  }
  const encodedHeader = await header;
  const payload = encodeJson({
    jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
    htm: claims.method,
    htu: url.origin + url.pathname,
    iat: Math.floor((claims.now ?? Date.now()) / 1000),
    nonce: claims.nonce,
    // RFC 9449 §4.2: ath = base64url(SHA-256(ASCII(access token))).
    ath:
      claims.accessToken &&
      base64url(await crypto.subtle.digest('SHA-256', encoder.encode(claims.accessToken))),
  });
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    keyPair.privateKey,
    encoder.encode(`${encodedHeader}.${payload}`),
  );
  return `${encodedHeader}.${payload}.${base64url(signature)}`;
}
