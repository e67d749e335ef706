import type Koa from 'koa';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';

type ClientBasedCORS = NonNullable<Configuration['clientBasedCORS']>;
type Client = Parameters<ClientBasedCORS>[2];

/** Routes whose CORS oidc-provider decides per client (the others, discovery and JWKS, are public). */
const CLIENT_CORS_ROUTES = new Set([
  'token',
  'revocation',
  'introspection',
  'device_authorization',
  'pushed_authorization_request',
  'userinfo',
]);

function originOf(uri: string): string | undefined {
  try {
    return new URL(uri).origin;
  } catch {
    return undefined;
  }
}

/**
 * oidc-provider's `clientBasedCORS`: which browser origins may read a client's responses.
 * - Only the origins of the client's registered redirect URIs: that is where its pages run.
 * - Only public clients, except at userinfo: a client secret in a browser is no secret, and a
 *   confidential client talks to the token endpoint from its server (no `Origin` there).
 * - Never at introspection (RFC 7662 §2.1: the caller is a protected resource, not a page).
 * - Never the opaque origin `null` (sandboxed frames, `file:` pages, redirects across origins).
 *
 * A refused origin gets `400 invalid_request` without `Access-Control-Allow-Origin`, before the
 * request does anything (oidc-provider decides when the client is known, before the grant).
 *
 * @example
 * new Provider(issuer, { clientBasedCORS: allowClientOrigin });
 */
export const allowClientOrigin: ClientBasedCORS = (ctx, origin, client: Client) => {
  if (origin === 'null') return false;
  const route = ctx.oidc.route;
  if (route === 'introspection') return false;
  if (route !== 'userinfo' && client.clientAuthMethod !== 'none') return false;
  return (client.redirectUris ?? []).some((uri) => originOf(uri) === origin);
};

function withholdCors(ctx: Koa.Context): void {
  for (const name of Object.keys(ctx.response.headers)) {
    if (name.toLowerCase().startsWith('access-control-')) ctx.remove(name);
  }
}

/**
 * Completes {@link allowClientOrigin} where oidc-provider never asks it:
 * - a response to an actual request at a client-based route carries
 *   `Access-Control-Allow-Origin` only when the client is known and its origin allowed (the
 *   library echoes any origin on errors raised before the client is known, such as
 *   `invalid_client`);
 * - a preflight to introspection is refused (no CORS headers), as the request would be.
 *
 * Other preflights are answered for any origin, as oidc-provider does: a preflight names no
 * client (the Fetch standard sends it without body or credentials), so it cannot be judged, and it lets a browser
 * send nothing more than the actual request, which is judged. Wraps the provider's middleware.
 */
export function withholdCorsFromUnknownClients(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  // An actual request without `Origin` is no CORS request: nothing below concerns it (the
  // preflight route, `cors.introspection`, is an OPTIONS request), so it passes on without a
  // promise of its own. Every API client's request (a service's token request) is one of these.
  if (ctx.method !== 'OPTIONS' && ctx.req.headers.origin === undefined) return next();
  return next().then(() => judgeCors(ctx));
}

function judgeCors(ctx: Koa.Context): void {
  // `oidc` exists once oidc-provider matched a route.
  const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
  const route = oidc?.route;
  if (!oidc || route === undefined) return;
  if (route === 'cors.introspection') {
    withholdCors(ctx);
    return;
  }
  if (ctx.method === 'OPTIONS' || !CLIENT_CORS_ROUTES.has(route) || !ctx.get('Origin')) return;
  const client = oidc.client;
  if (!client || !allowClientOrigin(ctx as unknown as KoaContextWithOIDC, ctx.get('Origin'), client)) {
    withholdCors(ctx);
  }
}
