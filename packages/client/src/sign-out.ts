import { type ClientContext, clientEndpoint } from './client-context.ts';
import type { GatehouseError } from './errors.ts';
import { revocationRequest } from './token-request.ts';
import { processRevocationResponse } from './token-response.ts';

/**
 * Options of `signOut()`.
 *
 * @example
 * ```ts
 * await auth.signOut({ postLogoutRedirectUri: `${location.origin}/bye` });
 * ```
 */
export interface SignOutOptions {
  /**
   * Also end the session at the server (OpenID Connect RP-Initiated Logout) by navigating to its
   * `end_session_endpoint`. @default true in browsers, false elsewhere
   */
  endSession?: boolean;
  postLogoutRedirectUri?: string | undefined;
  /** Where to send the browser; default `location.assign`. */
  navigate?: (url: string) => void | Promise<void>;
}

/**
 * What `signOut()` did. Local sign-out always happens; revocation is best effort (RFC 7009 has no way to
 * confirm a token that is already gone), so a failure is reported rather than thrown.
 *
 * @example
 * ```ts
 * const { revoked, revocationError } = await auth.signOut();
 * if (!revoked) console.warn('could not revoke', revocationError);
 * ```
 */
export interface SignOutResult {
  revoked: boolean;
  revocationError: GatehouseError | undefined;
}

/**
 * Revokes the refresh token (RFC 7009), clears the session everywhere, then RP-initiated logout if asked.
 *
 * @example
 * ```ts
 * const { revoked } = await signOutSession(context, { endSession: false });
 * ```
 */
export async function signOutSession(
  context: ClientContext,
  options: SignOutOptions,
): Promise<SignOutResult> {
  const { refresher } = context;
  // Revoke the newest refresh token, not one a renewal in flight is about to replace.
  await refresher.settled();
  const tokens = await refresher.tokens();
  let revoked = false;
  let revocationError: GatehouseError | undefined;
  if (tokens?.refreshToken) {
    try {
      const endpoint = await clientEndpoint(context, 'revocation_endpoint');
      await processRevocationResponse(
        await revocationRequest(endpoint, { token: tokens.refreshToken, hint: 'refresh_token' }),
      );
      revoked = true;
    } catch (error) {
      revocationError = error as GatehouseError;
    }
  }
  await refresher.clear('signedOut');
  const location = globalThis.location as Location | undefined;
  const endSession =
    options.endSession ?? (typeof globalThis.document !== 'undefined' && location !== undefined);
  if (endSession) {
    const metadata = await context.metadata();
    if (metadata.end_session_endpoint) {
      const url = new URL(metadata.end_session_endpoint);
      url.searchParams.set('client_id', context.clientId);
      if (tokens?.idToken) url.searchParams.set('id_token_hint', tokens.idToken);
      if (options.postLogoutRedirectUri)
        url.searchParams.set('post_logout_redirect_uri', options.postLogoutRedirectUri);
      await (options.navigate ?? ((href: string) => location?.assign(href)))(url.href);
    }
  }
  return { revoked, revocationError };
}
