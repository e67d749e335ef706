/**
 * The random values and the PKCE challenge of a sign-in. Only the sign-in chunk (`redirect-sign-in.ts`) uses
 * them, so they load with it.
 */
const base64url = (bytes: ArrayBuffer | Uint8Array): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/=/g, '')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');

/** 32 random bytes, base64url: PKCE verifiers, `state`, `nonce`. */
export const generateRandomToken = (): string => base64url(crypto.getRandomValues(new Uint8Array(32)));

/** RFC 7636 §4.2 S256: BASE64URL(SHA256(ASCII(verifier))). */
export const calculatePkceCodeChallenge = async (verifier: string): Promise<string> =>
  base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
