import type { GatehouseUser } from './id-token.ts';
import type { Endpoints, Json } from './protocol.ts';
import type { SignInKit } from './redirect-sign-in.ts';

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
 * Validates the ID token of a sign-in as OpenID Connect Core §3.1.3.7 asks: `iss` and `aud` ({@link checkIdToken}), the `nonce`
 * this sign-in sent, `exp` still ahead, and signed by a key in the issuer's JWKS with an algorithm of the
 * allow-list. Lives in the sign-in chunk (see `redirect-sign-in.ts`): pages that never complete a sign-in do
 * not download it. Resolves with the claims.
 *
 * @example
 * ```ts
 * const user = await verifyIdToken(kit, context, response.id_token, { nonce, now: Date.now() });
 * ```
 */
export async function verifyIdToken(
  { bytes, checkIdToken, decodeJwt, endpointUrl, fail, mismatch, okBody, send }: SignInKit,
  endpoints: Endpoints,
  idToken: string,
  expected: { nonce: string | undefined; now: number },
): Promise<GatehouseUser> {
  const claims = await checkIdToken(endpoints, idToken);
  // §3.1.3.7: the nonce this sign-in sent; not expired by this device's clock.
  if (claims.nonce !== expected.nonce) mismatch('nonce', expected.nonce, claims.nonce);
  if (!((claims.exp ?? 0) * 1000 > expected.now)) mismatch('exp', `after ${expected.now / 1000}`, claims.exp);
  const [header, payload, signature = ''] = idToken.split('.');
  const { alg, kid } = decodeJwt(idToken, 0);
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
