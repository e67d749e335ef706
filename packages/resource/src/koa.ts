import type { Context, Middleware } from 'koa';
import { extractAccessToken, type PresentedAccessToken } from './bearer.ts';
import { BearerError, MissingTokenError } from './errors.ts';
import { assertScopes } from './scopes.ts';
import type { AccessTokenVerifier, VerifiedAccessToken } from './verifier.ts';

/**
 * `ctx.state` after {@link requireAccessToken}.
 *
 * @example
 * ```ts
 * const router = new Router<AccessTokenState>();
 * ```
 */
export interface AccessTokenState {
  auth: VerifiedAccessToken;
}

/**
 * `ctx.state` after {@link optionalAccessToken}: `auth` is absent for anonymous requests.
 *
 * @example
 * ```ts
 * const app = new Koa<OptionalAccessTokenState>();
 * ```
 */
export interface OptionalAccessTokenState {
  auth?: VerifiedAccessToken | undefined;
}

function tokenFromContext(ctx: Context, verifier: AccessTokenVerifier): PresentedAccessToken | undefined {
  // A request without a query string has no query token: Koa parses `ctx.query` anew for every request.
  const query = ctx.querystring === '' ? undefined : ctx.query.access_token;
  // RFC 6750 §2.2: a form-encoded body parameter, if a body parser has run and the body is a form.
  const body = (ctx.request as { body?: unknown }).body;
  const bodyToken =
    typeof body === 'object' && body !== null && ctx.is('application/x-www-form-urlencoded')
      ? (body as Record<string, unknown>).access_token
      : undefined;
  return extractAccessToken(
    { authorization: ctx.get('authorization') || undefined, bodyToken, queryToken: query },
    verifier.challenge,
    { dpop: verifier.dpop !== 'off' },
  );
}

/** Verifies the presented token, with its DPoP proof for this very request (method and URL). */
function verifyPresented(
  ctx: Context,
  verifier: AccessTokenVerifier,
  presented: PresentedAccessToken,
): Promise<VerifiedAccessToken> {
  if (presented.scheme === 'Bearer') return verifier.verify(presented.token);
  // RFC 9449 §9: a fresh nonce on every DPoP answer, so clients move to the next one without a 401 first.
  const nonce = verifier.currentDpopNonce();
  if (nonce !== undefined) ctx.set('DPoP-Nonce', nonce);
  return verifier.verify(presented.token, {
    scheme: 'DPoP',
    // Node joins repeated DPoP headers with ", ", which the verifier refuses (RFC 9449 §4.3: exactly one).
    dpop: ctx.get('dpop') || undefined,
    method: ctx.method,
    url: ctx.href,
  });
}

function respond(ctx: Context, err: BearerError): void {
  ctx.status = err.status;
  ctx.set(err.headers);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = err.toJSON();
}

/**
 * Koa middleware that refuses requests without a valid access token carrying every one of `scopes`,
 * answering per RFC 6750 and RFC 9449 (status, `WWW-Authenticate`, JSON `{ error, error_description }`),
 * and puts the verified token on `ctx.state.auth`. `Authorization: DPoP` tokens are checked with the
 * request's `DPoP` proof against `ctx.method` and `ctx.href` (set `app.proxy` or the verifier's
 * `dpopPublicOrigin` behind a proxy).
 *
 * @example
 * ```ts
 * router.post('/recipes', requireAccessToken({ verifier, scopes: ['recipes:write'] }), (ctx) => {
 *   ctx.body = { owner: ctx.state.auth.sub };
 * });
 * ```
 */
export function requireAccessToken<StateT extends object = object>(options: {
  verifier: AccessTokenVerifier;
  scopes?: readonly string[];
}): Middleware<StateT & AccessTokenState> {
  const { verifier, scopes = [] } = options;
  return async function requireAccessToken(ctx, next) {
    try {
      const presented = tokenFromContext(ctx, verifier);
      if (presented === undefined) throw new MissingTokenError(verifier.challenge);
      const auth = await verifyPresented(ctx, verifier, presented);
      assertScopes(auth, scopes, { ...verifier.challenge, scheme: presented.scheme });
      ctx.state.auth = auth;
    } catch (err) {
      if (err instanceof BearerError) return respond(ctx, err);
      throw err;
    }
    await next();
  };
}

/**
 * Koa middleware for routes that serve anonymous and authenticated callers alike: no token leaves
 * `ctx.state.auth` undefined, a valid one sets it, and a bad one is still refused (401/400/503).
 *
 * @example
 * ```ts
 * router.get('/recipes', optionalAccessToken({ verifier }), (ctx) => {
 *   ctx.body = ctx.state.auth ? `hello ${ctx.state.auth.sub}` : 'hello stranger';
 * });
 * ```
 */
export function optionalAccessToken<StateT extends object = object>(options: {
  verifier: AccessTokenVerifier;
}): Middleware<StateT & OptionalAccessTokenState> {
  const { verifier } = options;
  return async function optionalAccessToken(ctx, next) {
    try {
      const presented = tokenFromContext(ctx, verifier);
      ctx.state.auth = presented === undefined ? undefined : await verifyPresented(ctx, verifier, presented);
    } catch (err) {
      if (err instanceof BearerError) return respond(ctx, err);
      throw err;
    }
    await next();
  };
}
