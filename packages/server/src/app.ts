import Koa from 'koa';
import compose from 'koa-compose';
import type { Config } from './config/config.ts';
import { refuseRouteVariants } from './oidc-provider/route-variants.ts';
import {
  completeSecurityHeaders,
  setSecurityHeaders,
  setSecurityHeadersAfter,
} from './security/security-headers.ts';
import { trustedForwardedHeaders, trustedProxySettings } from './security/trusted-proxy.ts';
import { STORE_RETRY_AFTER_SECONDS, StoreUnavailableError } from './store/index.ts';
import { FORM_ENDPOINTS } from './tokens/form-endpoint-guard.ts';

export interface AppParts {
  readonly config: Config;
  /** `ready`, or why not: `/readyz` answers 200 only for `ready`. */
  readonly readiness: () => Promise<'ready' | 'store unavailable' | 'shutting down'>;
  /** Keys that sign cookies (the provider's are not used: its middleware runs on this app's context). */
  readonly cookieKeys: readonly string[];
  /** Page routes (sign-in, consent, …) served before the provider. */
  readonly pages?: Koa.Middleware;
  /**
   * Form-endpoint policies in front of oidc-provider: handles a POST to one of
   * {@link FORM_ENDPOINTS} (then calls `next`), passes anything else on.
   */
  readonly formGuard: Koa.Middleware;
  /** The oidc-provider middleware alone: what a POST to a form endpoint reaches after `formGuard`. */
  readonly protocol: Koa.Middleware;
  /** The oidc-provider middleware with what its pages need in front: every other request. */
  readonly provider: Koa.Middleware;
  readonly onError?: (err: unknown, ctx: Koa.Context) => void;
  /** Middleware around everything (logging, metrics), outside the error handler. */
  readonly outer?: readonly Koa.Middleware[];
}

/**
 * The one middleware every response leaves through, after the observers:
 * - strict security headers on every response, oidc-provider's pages and ours, set before the
 *   rest runs ({@link setSecurityHeaders}) and completed after ({@link completeSecurityHeaders});
 *   on a form endpoint's answer (a POST to `/token` and the like: nothing there extends them)
 *   the same headers are set once it is ready ({@link setSecurityHeadersAfter}), then completed;
 * - one error handler for everything outside oidc-provider (which renders its own): a store
 *   outage is a 503 `temporarily_unavailable`, anything else a 500 that never carries a stack
 *   trace or internal detail;
 * - every 503, whoever rendered it (oidc-provider, a page, this), with `Retry-After`.
 * One async layer for all three: every request passes here.
 */
function respond(onError: AppParts['onError']): Koa.Middleware {
  return async function respond(ctx, next) {
    // A form endpoint's answer is JSON for an API client that nothing in the chain extends: its
    // headers go on once it is ready (see setSecurityHeadersAfter), every other response's before.
    const formEndpoint = isFormEndpointRequest(ctx);
    if (!formEndpoint) setSecurityHeaders(ctx);
    try {
      await next();
    } catch (err) {
      if (formEndpoint) setSecurityHeadersAfter(ctx);
      const unavailable = err instanceof StoreUnavailableError;
      const status = unavailable
        ? 503
        : typeof (err as { status?: unknown }).status === 'number' && (err as { expose?: boolean }).expose
          ? (err as { status: number }).status
          : clientGone(err, ctx)
            ? 400
            : 500;
      if (status >= 500 && !unavailable) onError?.(err, ctx);
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = unavailable
        ? { error: err.error, error_description: err.error_description }
        : status >= 500
          ? { error: 'server_error', error_description: 'unexpected error' }
          : { error: 'invalid_request', error_description: (err as Error).message };
      // An error answer carries the headers set before it and nothing a route added after.
      return setRetryAfter(ctx);
    }
    if (formEndpoint) setSecurityHeadersAfter(ctx);
    completeSecurityHeaders(ctx);
    setRetryAfter(ctx);
  };
}

/**
 * The client hung up before its request had arrived (its body cut short, or Node answered 408 to
 * a request too slow to arrive): nobody is left to answer and nothing broke on this side, so it is
 * no server error and reports none.
 */
function clientGone(err: unknown, ctx: Koa.Context): boolean {
  return (err as { code?: unknown } | undefined)?.code === 'ECONNRESET' && ctx.req.destroyed;
}

/** A POST to one of oidc-provider's form endpoints (`/token` and the like), by its exact path. */
function isFormEndpointRequest(ctx: Koa.Context): boolean {
  return ctx.method === 'POST' && FORM_ENDPOINTS.has(ctx.path);
}

/** Whoever produced the 503 (oidc-provider via the adapter, or us): tell clients when to retry. */
function setRetryAfter(ctx: Koa.Context): void {
  if (ctx.status === 503) ctx.set('Retry-After', RETRY_AFTER);
}

const RETRY_AFTER = String(STORE_RETRY_AFTER_SECONDS);

/** The Koa composition of the server: errors, health, pages, then the protocol. */
export function createApp(parts: AppParts): Koa {
  const hops = parts.config.trustedProxyHops;
  const app = new Koa(trustedProxySettings(hops));
  // Koa would print every error to stderr; the error middleware reports what matters.
  app.silent = true;
  app.keys = [...parts.cookieKeys];
  // First, so that logs and metrics see the scheme the trusted proxy saw, too.
  if (hops > 0) app.use(trustedForwardedHeaders(hops));
  for (const middleware of parts.outer ?? []) app.use(middleware);
  // Security headers, errors and Retry-After: one layer.
  app.use(respond(parts.onError));
  // POST /token and the other form endpoints (nearly every request of an API client) go from
  // here to the form guard and the provider: nothing in between concerns them (health, JWKS
  // caching, the pages' router, the provider pages' form limit and session limit), and their
  // exact paths are no route variants. Every other request takes the chain below.
  const protocolForms: Koa.Middleware = (ctx, next) => parts.formGuard(ctx, () => parts.protocol(ctx, next));
  const everythingElse = compose([
    // Not async: a request it does not concern goes straight on, without a promise of its own.
    function health(ctx, next) {
      if (ctx.path === '/healthz' && ctx.method === 'GET') {
        ctx.body = { status: 'ok' };
        return;
      }
      if (ctx.path === '/readyz' && ctx.method === 'GET') {
        return parts
          .readiness()
          .catch(() => 'store unavailable' as const)
          .then((status) => {
            ctx.status = status === 'ready' ? 200 : 503;
            ctx.body = { status };
          });
      }
      return next();
    },
    function jwksCaching(ctx, next) {
      if (ctx.path !== '/jwks') return next();
      return next().then(() => {
        // Verifiers may cache the key set this long; key rotation pre-publishes for as long.
        if (ctx.status === 200) ctx.set('Cache-Control', `public, max-age=${parts.config.jwksMaxAge}`);
      });
    },
    ...(parts.pages ? [parts.pages] : []),
    // Before every policy and the provider: `/TOKEN` or `/token/` would reach the token endpoint
    // past policies that compare exact paths.
    refuseRouteVariants,
    parts.provider,
  ] as Koa.Middleware[]);
  app.use(function route(ctx, next) {
    return isFormEndpointRequest(ctx) ? protocolForms(ctx, next) : everythingElse(ctx, next);
  });
  return app;
}
