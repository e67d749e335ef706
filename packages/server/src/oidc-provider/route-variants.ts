import type Koa from 'koa';
import { PROVIDER_PATH_TEMPLATES } from './provider-routes.ts';

/** Each template split into segments; `null` stands for a parameter (any non-empty segment). */
const TEMPLATES = PROVIDER_PATH_TEMPLATES.map((template) =>
  template.split('/').map((segment) => (segment.startsWith(':') ? null : segment)),
);

/**
 * Whether oidc-provider would route `path` to one of its endpoints although it is not that
 * endpoint's exact path. Its router compares paths case-insensitively and ignores a trailing
 * slash, so `/TOKEN`, `/Token` and `/token/` all reach the token endpoint; everything in front
 * of it (the form guard, client-authentication throttling, the token policies) compares exact
 * paths. This check is deliberately looser than the router (full Unicode upper-casing, any
 * number of trailing slashes): whatever the router matches, it matches too.
 *
 * @example
 * isRouteVariant('/Token/'); // true
 * isRouteVariant('/token'); // false
 * isRouteVariant('/authorize/Qx3v9'); // false: the interaction uid is a parameter
 */
export function isRouteVariant(path: string): boolean {
  return !EXACT_PATHS.has(path) && matchesVariant(path);
}

function matchesVariant(path: string): boolean {
  const trimmed = path.replace(/\/+$/, '');
  const trailingSlash = trimmed.length !== path.length;
  const parts = trimmed.split('/');
  // Upper-casing never produces a '/', so the segments line up with `parts`.
  const folded = trimmed.toUpperCase().split('/');
  for (const segments of TEMPLATES) {
    if (segments.length !== parts.length) continue;
    let matches = true;
    let exact = true;
    for (const [i, segment] of segments.entries()) {
      if (segment === null) {
        if (!parts[i]) matches = false;
      } else if (folded[i] !== segment.toUpperCase()) {
        matches = false;
      } else if (parts[i] !== segment) {
        exact = false;
      }
      if (!matches) break;
    }
    if (matches && (trailingSlash || !exact)) return true;
  }
  return false;
}

/**
 * The endpoints' own paths (`/token`, `/introspect`: nearly every API request), answered without
 * the scan. Decided by the scan itself, so the shortcut is never looser than it.
 */
const EXACT_PATHS: ReadonlySet<string> = new Set(
  PROVIDER_PATH_TEMPLATES.filter((template) => !template.includes('/:') && !matchesVariant(template)),
);

/**
 * Answers 404, as for any unknown path, to a request for one of the provider's endpoints at
 * anything but its exact path. Mounted in front of every provider policy, it makes the path
 * a policy compares the endpoint oidc-provider resolves: no spelling of `/token` reaches the
 * token endpoint without the lockout, the body guard and the scope check.
 */
export const refuseRouteVariants: Koa.Middleware = function refuseRouteVariants(ctx, next) {
  if (isRouteVariant(ctx.path)) {
    ctx.status = 404;
    return;
  }
  return next();
};
