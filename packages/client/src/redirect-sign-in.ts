/**
 * Redirect sign-in: the authorization request and the callback. The client loads this module on the first
 * `signInRedirect()` or `handleRedirectCallback()` (a chunk of its own, with the ID token's signature check and
 * PKCE), so app pages that only use a session never download it. It imports nothing at runtime from the
 * client's entry, which would split a shared chunk off the entry: the entry's helpers come in an
 * {@link EntryKit}.
 */
import { byName, type ClientContext, type EntryKit, type NamedEntryKit } from './context.ts';
import { verifyIdToken } from './id-token-signature.ts';
import { calculatePkceCodeChallenge, generateRandomToken } from './pkce.ts';
import type { TokenSet } from './token-set.ts';

/** The helpers of the client's entry this chunk and the ID token's signature check use (see {@link EntryKit}). */
export type SignInKit = NamedEntryKit;

/**
 * Options of `signInRedirect()`.
 *
 * @example
 * ```ts
 * await auth.signInRedirect({ returnTo: location.pathname, loginHint: 'demo@example.com' });
 * ```
 */
export interface SignInRedirectOptions {
  /** Where to send the browser; default `location.assign`. Node callers pass their own (open a browser, print). */
  navigate?: (url: string) => void | Promise<void>;
  /** Handed back by `handleRedirectCallback()` so the app can return where the user was. */
  returnTo?: string;
  /** OpenID Connect `prompt`, e.g. `login` or `consent`. */
  prompt?: string;
  /** OpenID Connect `login_hint`. */
  loginHint?: string;
  /** Overrides the client's `scope` for this sign-in. */
  scope?: string;
  /**
   * Overrides the client's `redirectUri` for this sign-in (a registered one): popup and silent sign-in send
   * the response to a small callback page of their own.
   */
  redirectUri?: string;
  /** Further authorization request parameters. */
  extraParams?: Record<string, string>;
}

/**
 * What `handleRedirectCallback()` resolves to.
 *
 * @example
 * ```ts
 * const { returnTo } = await auth.handleRedirectCallback();
 * history.replaceState(null, '', returnTo ?? '/');
 * ```
 */
export interface RedirectCallbackResult {
  tokens: TokenSet;
  returnTo: string | undefined;
}

/**
 * Starts an authorization code sign-in with PKCE S256 (RFC 7636), `state` and `nonce`.
 *
 * @example
 * ```ts
 * await signInRedirect(kit, context, { returnTo: '/recipes' });
 * ```
 */
export async function signInRedirect(
  kit: EntryKit,
  context: ClientContext,
  options: SignInRedirectOptions = {},
): Promise<void> {
  const { endpointUrl, fail, fill } = byName(kit);
  const redirectUri =
    options.redirectUri ?? context.redirectUri ?? fail('redirectUri is not set', 'ERR_CONFIGURATION');
  const url = new URL(await endpointUrl(context, 'authorization_endpoint'));
  const codeVerifier = generateRandomToken();
  const state = generateRandomToken();
  const scope = options.scope ?? context.scope ?? 'openid';
  const nonce = scope.split(' ').includes('openid') ? generateRandomToken() : undefined;
  fill(
    url.searchParams,
    {
      ...options.extraParams,
      response_type: 'code',
      client_id: context.clientId,
      redirect_uri: redirectUri,
      scope,
      state,
      code_challenge: await calculatePkceCodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      nonce,
      prompt: options.prompt,
      login_hint: options.loginHint,
    },
    context.resource,
  );
  await context.transactions.set(
    `${context.prefix}:txn:${state}`,
    JSON.stringify({
      codeVerifier,
      redirectUri,
      nonce,
      returnTo: options.returnTo,
    }),
  );
  await (
    options.navigate ??
    ((href: string) =>
      (
        (globalThis.location as Location | undefined) ??
        fail('no location; pass { navigate }', 'ERR_CONFIGURATION')
      ).assign(href))
  )(url.href);
}

/**
 * Completes a redirect sign-in: the `state` must name a transaction this client started (one use only), the
 * RFC 9207 `iss` must be this issuer, then the code is exchanged with its PKCE verifier and the ID token's
 * signature, `iss`, `aud`, `nonce` and `exp` are checked.
 *
 * @example
 * ```ts
 * const { tokens, returnTo } = await handleRedirectCallback(kit, context, location.href);
 * ```
 */
export async function handleRedirectCallback(
  entryKit: EntryKit,
  context: ClientContext,
  callbackUrl: string | undefined,
): Promise<RedirectCallbackResult> {
  const kit = byName(entryKit);
  const { fail, grant, oauthError, parseObject, str, tokenSet } = kit;
  const location = globalThis.location as Location | undefined;
  const url = new URL(callbackUrl ?? location?.href ?? fail('no callback URL', 'ERR_CONFIGURATION'));
  const params = new URLSearchParams(url.searchParams);
  const history = globalThis.history as History | undefined;
  if (callbackUrl === undefined && history) {
    // Take code and state out of the address bar and history, so a reload or a shared link cannot replay them.
    for (const key of 'code state iss session_state error error_description error_uri'.split(' ')) {
      url.searchParams.delete(key);
    }
    history.replaceState(history.state, '', url.href);
  }
  const key = `${context.prefix}:txn:${params.get('state')}`;
  // Without a state the key ends in `txn:null`, which names no transaction.
  const transaction = parseObject(await context.transactions.get(key));
  await context.transactions.remove(key);
  const codeVerifier = str(transaction.codeVerifier);
  const redirectUri = str(transaction.redirectUri);
  if (!codeVerifier || !redirectUri) {
    // Name what arrived: an app that runs the callback on every page load sees the first case.
    fail(
      params.has('code') || params.has('error')
        ? `the callback's state ${params.get('state')} names no sign-in started in this browser`
        : `no authorization response in this URL (expected code and state): ${url.origin}${url.pathname}`,
      'ERR_STATE_MISMATCH',
    );
  }
  const metadata = await context.metadata();
  const issuer = metadata.issuer;
  const iss = params.get('iss');
  // RFC 9207 §2.4: reject a response from another issuer (mix-up), and a missing `iss` when it is promised.
  if (iss !== null ? iss !== issuer : metadata.authorization_response_iss_parameter_supported === true) {
    fail(`the callback is from ${iss}, not ${issuer}`, 'ERR_ISSUER_MISMATCH');
  }
  const error = params.get('error');
  if (error !== null) throw oauthError(error, params.get('error_description') ?? undefined);
  const response = await grant(
    context,
    {
      grant_type: 'authorization_code',
      code: params.get('code') || fail('the callback has no code'),
      code_verifier: codeVerifier,
      redirect_uri: redirectUri,
    },
    // RFC 8707 §2.2: one audience per token; the others come from the refresh token.
    context.resource?.slice(0, 1),
  );
  if (response.id_token !== undefined) {
    // OpenID Connect Core §3.1.3.7: signed by this issuer, for this client, for this sign-in, not expired.
    await verifyIdToken(kit, context, response.id_token, {
      nonce: str(transaction.nonce),
      now: context.clock.now(),
    });
  }
  // RFC 6749 §5.1: a response without `scope` granted what was requested.
  const tokens = tokenSet(response, context.clock.now(), { scope: context.scope }, 'refresh_token');
  await context.session.commit(tokens);
  return { tokens, returnTo: str(transaction.returnTo) };
}
