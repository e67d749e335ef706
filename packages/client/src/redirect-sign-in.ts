import { type ClientContext, clientEndpoint } from './client-context.ts';
import { GatehouseError } from './errors.ts';
import { checkIdTokenClaims } from './id-token-claims.ts';
import { calculatePkceCodeChallenge, generateRandomToken } from './pkce.ts';
import { authorizationCodeGrantRequest } from './token-request.ts';
import { oauthErrorFromFields, processTokenResponse } from './token-response.ts';
import { type TokenSet, tokenSetFromResponse } from './token-set.ts';

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
 * await startRedirectSignIn(context, { returnTo: '/recipes' });
 * ```
 */
export async function startRedirectSignIn(
  context: ClientContext,
  options: SignInRedirectOptions = {},
): Promise<void> {
  const redirectUri = context.redirectUri;
  if (!redirectUri)
    throw new GatehouseError('signInRedirect needs a redirectUri', { code: 'ERR_CONFIGURATION' });
  const metadata = await context.metadata();
  if (!metadata.authorization_endpoint) {
    throw new GatehouseError('the server has no authorization_endpoint', { code: 'ERR_CONFIGURATION' });
  }
  const navigate = options.navigate ?? defaultNavigate;
  const codeVerifier = generateRandomToken();
  const state = generateRandomToken();
  const scope = options.scope ?? context.scope ?? 'openid';
  const nonce = scope.split(' ').includes('openid') ? generateRandomToken() : undefined;
  const url = new URL(metadata.authorization_endpoint);
  const params = url.searchParams;
  for (const [key, value] of Object.entries(options.extraParams ?? {})) params.set(key, value);
  params.set('response_type', 'code');
  params.set('client_id', context.clientId);
  params.set('redirect_uri', redirectUri);
  params.set('scope', scope);
  params.set('state', state);
  params.set('code_challenge', await calculatePkceCodeChallenge(codeVerifier));
  params.set('code_challenge_method', 'S256');
  if (nonce) params.set('nonce', nonce);
  if (options.prompt) params.set('prompt', options.prompt);
  if (options.loginHint) params.set('login_hint', options.loginHint);
  for (const uri of context.resource ?? []) params.append('resource', uri);
  await context.store.saveTransaction(state, {
    codeVerifier,
    redirectUri,
    createdAt: context.clock.now(),
    ...(nonce ? { nonce } : {}),
    ...(options.returnTo ? { returnTo: options.returnTo } : {}),
  });
  await navigate(url.href);
}

function defaultNavigate(url: string): void {
  const location = globalThis.location as Location | undefined;
  if (!location) {
    throw new GatehouseError('no browser location to navigate; pass signInRedirect({ navigate })', {
      code: 'ERR_CONFIGURATION',
    });
  }
  location.assign(url);
}

/**
 * Completes a redirect sign-in: the `state` must name a transaction this client started (one use only), the
 * RFC 9207 `iss` must be this issuer, then the code is exchanged with its PKCE verifier.
 *
 * @example
 * ```ts
 * const { tokens, returnTo } = await completeRedirectSignIn(context, location.href);
 * ```
 */
export async function completeRedirectSignIn(
  context: ClientContext,
  callbackUrl: string | undefined,
): Promise<RedirectCallbackResult> {
  const href = callbackUrl ?? (globalThis.location as Location | undefined)?.href;
  if (!href)
    throw new GatehouseError('handleRedirectCallback needs the callback URL', { code: 'ERR_CONFIGURATION' });
  const url = new URL(href);
  const params = new URLSearchParams(url.searchParams);
  if (callbackUrl === undefined) removeAuthorizationResponse(url);
  const state = params.get('state');
  const transaction = state ? await context.store.takeTransaction(state) : undefined;
  if (!transaction) {
    throw new GatehouseError('the callback does not belong to a sign-in started here (state mismatch)', {
      code: 'ERR_STATE_MISMATCH',
    });
  }
  const metadata = await context.metadata();
  const iss = params.get('iss');
  // RFC 9207 §2.4: reject a response from another issuer (mix-up), and a missing `iss` when it is promised.
  if (
    iss !== null ? iss !== metadata.issuer : metadata.authorization_response_iss_parameter_supported === true
  ) {
    throw new GatehouseError(
      `the callback was issued by ${iss ?? 'an unnamed server'}, expected ${metadata.issuer}`,
      {
        code: 'ERR_ISSUER_MISMATCH',
      },
    );
  }
  const error = params.get('error');
  if (error !== null) {
    throw oauthErrorFromFields({ error, error_description: params.get('error_description') ?? undefined });
  }
  const code = params.get('code');
  if (!code) throw new GatehouseError('the callback carries neither code nor error');
  const endpoint = await clientEndpoint(context, 'token_endpoint');
  const response = await authorizationCodeGrantRequest(endpoint, {
    code,
    codeVerifier: transaction.codeVerifier,
    redirectUri: transaction.redirectUri,
    resource: context.resource,
  });
  const body = await processTokenResponse(response);
  if (body.id_token !== undefined) {
    checkIdTokenClaims(body.id_token, {
      issuer: metadata.issuer,
      clientId: context.clientId,
      nonce: transaction.nonce,
    });
  }
  const tokens = tokenSetFromResponse(body, context.clock.now(), undefined, 'refresh_token');
  if (!body.scope && context.scope) tokens.scope = context.scope;
  await context.refresher.commit(tokens);
  return { tokens, returnTo: transaction.returnTo };
}

/** Takes code and state out of the address bar and history, so a reload or a shared link cannot replay them. */
function removeAuthorizationResponse(url: URL): void {
  const history = globalThis.history as History | undefined;
  if (!history) return;
  for (const key of ['code', 'state', 'iss', 'session_state', 'error', 'error_description', 'error_uri']) {
    url.searchParams.delete(key);
  }
  history.replaceState(history.state, '', url.href);
}
