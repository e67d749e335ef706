import { base64urlDecodeToString } from './base64url.ts';
import { GatehouseError } from './errors.ts';

/**
 * Checks the claims of an ID token received directly from the token endpoint: `iss`, `aud`, and the `nonce`
 * of this sign-in. OpenID Connect Core §3.1.3.7 lets TLS to the token endpoint stand in for the signature check
 * in this case, which keeps a JOSE library out of the browser bundle; the replay and mix-up checks remain.
 *
 * @example
 * ```ts
 * const claims = checkIdTokenClaims(tokens.id_token, { issuer, clientId, nonce: transaction.nonce });
 * claims.sub;
 * ```
 */
export function checkIdTokenClaims(
  idToken: string,
  expected: { issuer: string; clientId: string; nonce?: string | undefined },
): Record<string, unknown> {
  let claims: unknown;
  try {
    claims = JSON.parse(base64urlDecodeToString(idToken.split('.')[1] ?? ''));
  } catch (cause) {
    throw new GatehouseError('the ID token is not a JWT', { cause });
  }
  if (typeof claims !== 'object' || claims === null) throw new GatehouseError('the ID token has no claims');
  const record = claims as Record<string, unknown>;
  if (record.iss !== expected.issuer) {
    throw new GatehouseError(`the ID token was issued by ${String(record.iss)}`, {
      code: 'ERR_ISSUER_MISMATCH',
    });
  }
  const audiences = Array.isArray(record.aud) ? record.aud : [record.aud];
  if (!audiences.includes(expected.clientId)) throw new GatehouseError('the ID token is for another client');
  if (expected.nonce !== undefined && record.nonce !== expected.nonce) {
    throw new GatehouseError('the ID token nonce does not match this sign-in', {
      code: 'ERR_STATE_MISMATCH',
    });
  }
  return record;
}
