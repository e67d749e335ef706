import { base64urlEncode } from './base64url.ts';

/**
 * A random, unguessable value for `state`, `nonce` or a PKCE `code_verifier`: 32 bytes from Web Crypto,
 * base64url-encoded (43 characters, within RFC 7636 §4.1's 43–128).
 *
 * @example
 * ```ts
 * const state = generateRandomToken();
 * ```
 */
export function generateRandomToken(): string {
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * The S256 `code_challenge` for a verifier: `BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2).
 * Web Crypto, so it runs in browsers and Node alike.
 *
 * @example
 * ```ts
 * const verifier = generateRandomToken();
 * const challenge = await calculatePkceCodeChallenge(verifier);
 * url.searchParams.set('code_challenge', challenge);
 * url.searchParams.set('code_challenge_method', 'S256');
 * ```
 */
export async function calculatePkceCodeChallenge(codeVerifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier));
  return base64urlEncode(new Uint8Array(digest));
}
