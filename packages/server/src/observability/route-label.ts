import type Koa from 'koa';

/** What oidc-provider puts on `ctx.oidc` that a route label needs. */
interface OidcRouteView {
  readonly route?: string;
  readonly client?: { readonly clientId?: string };
}

/** `ctx.oidc` when oidc-provider handled the request (its getter is set per request). */
export function oidcOf(ctx: Koa.Context): OidcRouteView | undefined {
  return (ctx as { oidc?: OidcRouteView }).oidc;
}

// Segments that identify one thing (interaction uids, token ids, client ids in /reg/…) and
// would make every request its own label.
const OPAQUE_SEGMENT = /^[A-Za-z0-9_-]{16,}$|^\d+$/;

/**
 * A bounded, credential-free name for the route a request took, for logs and metric labels:
 * - oidc-provider routes by their name (`token`, `authorization`, `resume`, `jwks`, …);
 * - routes of a @koa/router (the interaction pages) by their template (`/interaction/:uid/login`);
 * - anything else by its path with opaque segments replaced (`/interaction/:id`), and
 *   every 404 as `unmatched`, so scanners cannot mint labels.
 * Never the query string: codes, tokens and state ride there.
 */
export function routeLabel(ctx: Koa.Context, status: number = ctx.status): string {
  const oidcRoute = oidcOf(ctx)?.route;
  if (typeof oidcRoute === 'string' && oidcRoute !== '') return oidcRoute;
  const template = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof template === 'string' && template !== '') return template;
  if (status === 404) return 'unmatched';
  const segments = ctx.path.split('/').map((segment) => (OPAQUE_SEGMENT.test(segment) ? ':id' : segment));
  return segments.join('/').slice(0, 100) || '/';
}

/** The registered client the request was made by, when oidc-provider identified one. */
export function clientIdOf(ctx: Koa.Context): string | undefined {
  const id = oidcOf(ctx)?.client?.clientId;
  return typeof id === 'string' ? id : undefined;
}
