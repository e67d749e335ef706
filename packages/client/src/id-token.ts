import type { Endpoints } from './protocol.ts';
import { fail, type Json, parseObject } from './protocol.ts';

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

export const bytes = (base64url: string): Uint8Array<ArrayBuffer> =>
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
 * The claim checks every ID token gets (OpenID Connect Core §3.1.3.7: `iss` this issuer, `aud` this client) and,
 * for a renewal, §12.2's: the same `sub` as `renews`, the ID token it renews. Every failure names what was expected and
 * what arrived. Resolves with the claims. A renewal's ID token comes straight from the token endpoint over TLS,
 * which §3.1.3.7 step 6 accepts in place of its signature; a sign-in's ID token also has its `nonce`, `exp` and
 * signature checked (`verifyIdToken()` in `id-token-signature.ts`, in the sign-in chunk).
 *
 * @example
 * ```ts
 * const user = await checkIdToken(context, response.id_token, previous.idToken);
 * ```
 */
export async function checkIdToken(
  endpoints: Endpoints,
  idToken: string,
  renews?: string,
): Promise<Partial<GatehouseUser>> {
  const claims = decodeJwt(idToken) as Partial<GatehouseUser>;
  const { issuer } = await endpoints.metadata();
  if (claims.iss !== issuer) mismatch('iss', issuer, claims.iss);
  if (![claims.aud].flat().includes(endpoints.clientId)) mismatch('aud', endpoints.clientId, claims.aud);
  // Without an earlier ID token, or one without `sub`, there is nothing to compare with.
  const sub = renews && decodeJwt(renews).sub;
  if (sub && claims.sub !== sub) mismatch('sub', sub, claims.sub);
  return claims;
}

/** Throws the {@link GatehouseError} that names an ID token claim's expected and actual values. */
export const mismatch = (claim: string, want: unknown, got: unknown): never =>
  fail(`ID token ${claim} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
