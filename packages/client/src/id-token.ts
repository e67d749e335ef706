import type { Endpoints } from './protocol.ts';
import { endpointUrl, fail, type Json, okBody, parseObject, send } from './protocol.ts';

/**
 * Who is signed in: the claims of the ID token the SDK validated at sign-in (OpenID Connect Core §2, §5.1).
 * Gatehouse puts the profile and email claims the user consented to into the ID token, so a SPA needs no
 * `/userinfo` call (whose access token is issued for the API, not for the server).
 *
 * @example
 * ```ts
 * const user: GatehouseUser | undefined = await auth.getUser();
 * if (user) greet(user.name ?? user.email ?? user.sub);
 * ```
 */
export interface GatehouseUser {
  /** The user's stable identifier at this issuer. */
  sub: string;
  iss: string;
  aud: string | string[];
  /** Seconds since the epoch; the ID token's, not the session's, lifetime. */
  exp: number;
  iat: number;
  name?: string;
  given_name?: string;
  family_name?: string;
  preferred_username?: string;
  picture?: string;
  email?: string;
  email_verified?: boolean;
  /** Any other claim the server put into the ID token. */
  [claim: string]: unknown;
}

const bytes = (base64url: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(base64url.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

/** The claims of a JWT, decoded as UTF-8 (names are not ASCII), unverified; `{}` when it is not a JWT. */
export const decodeJwt = (jwt: string, part = 1): Json => {
  try {
    return parseObject(new TextDecoder().decode(bytes(jwt.split('.')[part] ?? '')));
  } catch {
    return {};
  }
};

/**
 * WebCrypto parameters of the JWS algorithms a Gatehouse server signs ID tokens with (RFC 7518 §3). One object
 * serves both `importKey` and `verify`: WebCrypto reads from it only the members each operation defines.
 */
const ALGORITHMS: Record<string, EcKeyImportParams | RsaHashedImportParams | Algorithm> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as RsaHashedImportParams,
  ES256: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as EcKeyImportParams,
  EdDSA: { name: 'Ed25519' },
};

/**
 * Validates an ID token as OpenID Connect Core §3.1.3.7 asks: signed by a key in the issuer's JWKS with an
 * algorithm of the allow-list, `iss` this issuer, `aud` this client, not expired, `nonce` the one this
 * sign-in sent (for a renewal instead, §12.2: the `sub` of the ID token it `renews`). Every failure names what was expected and
 * what arrived. Resolves with the claims.
 *
 * @example
 * ```ts
 * const user = await verifyIdToken(context, response.id_token, { nonce, now: Date.now() });
 * ```
 */
export async function verifyIdToken(
  endpoints: Endpoints,
  idToken: string,
  expected: { nonce?: string | undefined; now: number } | { renews: string | undefined; now: number },
): Promise<GatehouseUser> {
  const [header, payload, signature = ''] = idToken.split('.');
  const { alg, kid } = decodeJwt(idToken, 0);
  const claims = decodeJwt(idToken) as Partial<GatehouseUser>;
  const { issuer } = await endpoints.metadata();
  const mismatch = (claim: string, want: unknown, got: unknown) =>
    fail(`ID token ${claim} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  if (claims.iss !== issuer) mismatch('iss', issuer, claims.iss);
  if (![claims.aud].flat().includes(endpoints.clientId)) mismatch('aud', endpoints.clientId, claims.aud);
  // §12.2: a renewal's ID token answers no authorization request, so it has no nonce of its own to match.
  if (!('renews' in expected)) {
    if (claims.nonce !== expected.nonce) mismatch('nonce', expected.nonce, claims.nonce);
    // Checked at sign-in only: a renewal's ID token was just issued, and a device clock that runs ahead of
    // the server by more than its lifetime must not end a working session.
    if (!((claims.exp ?? 0) * 1000 > expected.now))
      mismatch('exp', `after ${expected.now / 1000}`, claims.exp);
  } else if (expected.renews && claims.sub !== expected.renews) mismatch('sub', expected.renews, claims.sub);
  const algorithm = ALGORITHMS[String(alg)] ?? mismatch('alg', Object.keys(ALGORITHMS), alg);
  const { keys } = await okBody(await send(endpoints, await endpointUrl(endpoints, 'jwks_uri')));
  const jwk = ([keys].flat() as (Json | undefined)[]).find(
    (key) => key?.kid === kid && (key?.alg ?? alg) === alg && key?.use !== 'enc',
  ) as JsonWebKey | undefined;
  const verified =
    jwk &&
    (await crypto.subtle.verify(
      algorithm,
      await crypto.subtle.importKey('jwk', jwk, algorithm, false, ['verify']),
      bytes(signature),
      new TextEncoder().encode(`${header}.${payload}`),
    ));
  if (!verified) fail(`ID token signature does not verify with ${jwk ? 'key' : 'no key'} ${kid} of the JWKS`);
  return claims as GatehouseUser;
}
