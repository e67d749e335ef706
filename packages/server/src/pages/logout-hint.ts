import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * Whether the `id_token_hint` of an RP-initiated sign-out names this browser's current sign-in
 * with the client, so the user need not be asked (OpenID RP-Initiated Logout 1.0 §2: the OP
 * asks unless the hint belongs to the current session with the RP and to the signed-in user;
 * §6: otherwise a third party could sign users out at will).
 *
 * oidc-provider has already checked the hint's signature, issuer and audience (the client)
 * before calling `logoutSource`; what only the session can tell is checked here:
 * - its `sub` is the signed-in account (a pairwise `sub` never matches: that user is asked);
 * - this session signed in to the client, and was not signed out of it since;
 * - its `sid`, when the client receives one (OIDC Back-Channel Logout), is this session's for
 *   the client; without a `sid`, the token was issued no earlier than this session's sign-in,
 *   so the hint of an earlier session in this browser does not pass.
 *
 * @example
 * if (hintMatchesSession(ctx)) finishSignOutWithoutAsking(ctx, form);
 */
export function hintMatchesSession(ctx: KoaContextWithOIDC): boolean {
  const hint = ctx.oidc.entities.IdTokenHint?.payload;
  const { session, client } = ctx.oidc;
  if (!hint || !session?.accountId || !client) return false;
  if (hint.sub !== session.accountId) return false;
  if (!session.authorizations?.[client.clientId]) return false;
  if (hint.sid !== undefined) return hint.sid === session.sidFor(client.clientId);
  return typeof hint.iat === 'number' && typeof session.loginTs === 'number' && hint.iat >= session.loginTs;
}
