import { type AuthChallenge, InsufficientScopeError } from './errors.ts';
import type { VerifiedAccessToken } from './verifier.ts';

/**
 * Requires every scope in `required` to be granted to the token (RFC 6750 §3.1 `insufficient_scope`).
 *
 * @throws {InsufficientScopeError} naming all of `required` in the challenge's `scope` attribute.
 * @example
 * ```ts
 * const auth = await verifier.verify(token);
 * assertScopes(auth, ['recipes:write'], verifier.realm);
 * ```
 */
export function assertScopes(
  token: VerifiedAccessToken,
  required: readonly string[],
  realm: string | AuthChallenge,
): void {
  const granted = new Set(token.scopes);
  if (!required.every((scope) => granted.has(scope))) throw new InsufficientScopeError(realm, required);
}
