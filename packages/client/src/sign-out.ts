/**
 * Sign-out: revocation, then RP-initiated logout. The client loads this module on the first `signOut()` (a chunk
 * of its own, like redirect sign-in), so pages that never sign out never download it. It imports nothing at
 * runtime from the client's entry: the entry's helpers come in an {@link EntryKit}.
 */
import type { ClientContext, EntryKit } from './context.ts';
import type { DpopFetch } from './dpop/dpop-fetch.ts';
import type { GatehouseClientError } from './errors.ts';

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
  revocationError: GatehouseClientError | undefined;
}

/**
 * Signs out: revokes the refresh token (RFC 7009; the server revokes its whole grant), clears storage and other
 * tabs, deletes the DPoP key (`dpop: true`), then RP-initiated logout in browsers. Local sign-out happens even when revocation fails; the result
 * says whether it worked.
 *
 * @example
 * ```ts
 * const { revoked } = await signOut(kit, context, { endSession: false });
 * ```
 */
export async function signOut(
  [fill, post]: EntryKit,
  context: ClientContext,
  options: SignOutOptions = {},
): Promise<SignOutResult> {
  const { session } = context;
  // The newest refresh token: tokens() waits for a renewal in flight, which would replace it.
  const tokens = await session.tokens();
  let revoked = false;
  let revocationError: GatehouseClientError | undefined;
  if (tokens?.refreshToken) {
    try {
      await post(context, 'revocation_endpoint', {
        token: tokens.refreshToken,
        token_type_hint: 'refresh_token',
      });
      revoked = true;
    } catch (error) {
      revocationError = error as GatehouseClientError; // post() throws only SDK errors
    }
  }
  await session.clear('signedOut');
  // RFC 9449: tokens are bound to the key; the next sign-in gets a new one. With `dpop: true` the client's
  // `fetch` is a DpopFetch, which can delete its key. A key that could not be deleted is harmless without
  // tokens, so that failure does not fail the sign-out.
  await (context.fetch as Partial<DpopFetch>).forgetKey?.().catch(() => undefined);
  const location = globalThis.location as Location | undefined;
  const endpoint =
    (options.endSession ?? !!globalThis.document) && (await context.metadata()).end_session_endpoint;
  if (endpoint) {
    const url = new URL(endpoint);
    fill(url.searchParams, {
      client_id: context.clientId,
      id_token_hint: tokens?.idToken,
      post_logout_redirect_uri: options.postLogoutRedirectUri ?? context.postLogoutRedirectUri,
    });
    await (options.navigate ?? ((href: string) => location?.assign(href)))(url.href);
  }
  return { revoked, revocationError };
}
