import { createHash } from 'node:crypto';
import type { Context, Middleware } from 'koa';

/**
 * The policy of every page: nothing loads but our own stylesheet and images, no scripts
 * (oidc-provider's form_post page adds the hash of its one auto-submit script itself, the
 * sign-out page that needs no question its own with {@link allowInlineScript}), forms post
 * only to us, and no site may frame us (clickjacking on Allow).
 */
const BASE_POLICY: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['default-src', ["'none'"]],
  ['script-src', ["'none'"]],
  ['style-src', ["'self'"]],
  ['img-src', ["'self'"]],
  ['form-action', ["'self'"]],
  ['frame-ancestors', ["'none'"]],
  ['base-uri', ["'none'"]],
];

function parse(policy: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), values);
  }
  return directives;
}

function serialize(directives: Map<string, string[]>): string {
  return [...directives].map(([name, values]) => [name, ...values].join(' ')).join('; ');
}

/**
 * The CSP source that lets a form's redirect chain end at `target`: its origin for http(s),
 * its scheme for a native app's private-use URI scheme (RFC 8252 §7.1).
 */
function sourceFor(target: string): string | undefined {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
  return /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) ? url.protocol : undefined;
}

/**
 * Lets the forms of this response lead to `target`. Chromium applies `form-action` to every
 * redirect after a form submission, and signing in ends with a redirect to the client's
 * redirect_uri; the target must be one the provider has validated for the client.
 */
export function allowFormAction(ctx: Context, target: string): void {
  const source = sourceFor(target);
  const current = ctx.response.get('content-security-policy');
  if (!source || !current || ctx.headerSent) return;
  const directives = parse(current);
  const sources = directives.get('form-action') ?? [];
  if (!sources.includes(source)) directives.set('form-action', [...sources, source]);
  ctx.set('Content-Security-Policy', serialize(directives));
}

/**
 * Lets this response run one inline script, exactly `script`, by its hash (CSP 3 §8.4 hash
 * sources); any other inline script, injected or altered, stays blocked.
 */
export function allowInlineScript(ctx: Context, script: string): void {
  const current = ctx.response.get('content-security-policy');
  if (!current || ctx.headerSent) return;
  const directives = parse(current);
  const source = `'sha256-${createHash('sha256').update(script).digest('base64')}'`;
  const scripts = directives.get('script-src') ?? [];
  if (!scripts.includes(source)) directives.set('script-src', [...scripts, source]);
  ctx.set('Content-Security-Policy', serialize(directives));
}

interface ProviderContextView {
  oidc?: {
    params?: Record<string, unknown>;
    client?: {
      redirectUriAllowed?(uri: string): boolean;
      postLogoutRedirectUriAllowed?(uri: string): boolean;
    };
  };
}

/** oidc-provider pages whose forms post to the client: form_post callbacks and sign-out. */
function allowValidatedClientTargets(ctx: Context): void {
  const { oidc } = ctx as Context & ProviderContextView;
  const client = oidc?.client;
  const redirectUri = oidc?.params?.redirect_uri;
  if (typeof redirectUri === 'string' && client?.redirectUriAllowed?.(redirectUri)) {
    allowFormAction(ctx, redirectUri);
  }
  const postLogout = oidc?.params?.post_logout_redirect_uri;
  if (typeof postLogout === 'string' && client?.postLogoutRedirectUriAllowed?.(postLogout)) {
    allowFormAction(ctx, postLogout);
  }
}

/**
 * `'none'` must stand alone; once oidc-provider added a script hash, drop it. `untouched` is the
 * policy this middleware set: still in place (every API response), there is nothing to parse.
 */
function tidyScriptSrc(ctx: Context, untouched: string): void {
  const current = ctx.response.get('content-security-policy');
  if (!current || current === untouched || ctx.headerSent) return;
  const directives = parse(current);
  const scripts = directives.get('script-src');
  if (scripts && scripts.length > 1 && scripts.includes("'none'")) {
    directives.set(
      'script-src',
      scripts.filter((s) => s !== "'none'"),
    );
    ctx.set('Content-Security-Policy', serialize(directives));
  }
}

/** The base policy, serialized once. */
const POLICY = serialize(new Map(BASE_POLICY.map(([name, values]) => [name, [...values]])));

/** What every response starts with, in `setHeader` form. */
const STATIC_HEADERS: readonly (readonly [string, string])[] = [
  ['Content-Security-Policy', POLICY],
  ['Cache-Control', 'no-store'],
  ['Referrer-Policy', 'no-referrer'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
];

/**
 * The first half of {@link securityHeaders}, for a middleware that does more around the request
 * (the app's error handler): sets the strict headers before the rest of the chain runs, so a
 * route can still relax caching (the stylesheet) or extend `form-action` with {@link allowFormAction}.
 */
export function setSecurityHeaders(ctx: Context): void {
  const { res } = ctx;
  if (res.headersSent || res.hasHeader('content-security-policy')) return;
  for (const [name, value] of STATIC_HEADERS) res.setHeader(name, value);
  if (ctx.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
}

/** {@link STATIC_HEADERS} with the lower-case names `hasHeader` takes (it returns those as they are). */
const STATIC_HEADER_KEYS: readonly (readonly [string, string, string])[] = STATIC_HEADERS.map(
  ([name, value]) => [name.toLowerCase(), name, value],
);

/**
 * The strict headers for a response nothing in the chain extends (the provider's form endpoints:
 * JSON answers to API clients), set once the response is ready rather than before: what the
 * chain set under one of these names stands, as it would over {@link setSecurityHeaders}' values.
 * Set late, they are not among the headers oidc-provider copies and lower-cases one by one on
 * every request to decide whether it answered CORS already (`lib/shared/cors.js`).
 */
export function setSecurityHeadersAfter(ctx: Context): void {
  const { res } = ctx;
  if (res.headersSent) return;
  for (const [key, name, value] of STATIC_HEADER_KEYS) if (!res.hasHeader(key)) res.setHeader(name, value);
  if (ctx.secure && !res.hasHeader('strict-transport-security')) {
    res.setHeader('Strict-Transport-Security', 'max-age=31536000');
  }
}

/**
 * The second half of {@link securityHeaders}, once the response is ready: `form-action` for the
 * client targets oidc-provider's own forms post to, and `script-src` tidied after a script hash.
 */
export function completeSecurityHeaders(ctx: Context): void {
  if (ctx.headerSent) return;
  allowValidatedClientTargets(ctx);
  tidyScriptSrc(ctx, POLICY);
}

/**
 * Strict security headers for every response. Set before the rest of the chain runs, so a
 * route can still relax caching (the stylesheet) or extend `form-action` with
 * {@link allowFormAction}. The app applies them from its error handler
 * ({@link setSecurityHeaders}, {@link completeSecurityHeaders}): one async layer for both.
 *
 * @example
 * app.use(securityHeaders());
 */
export function securityHeaders(): Middleware {
  return async function applySecurityHeaders(ctx, next) {
    setSecurityHeaders(ctx);
    await next();
    completeSecurityHeaders(ctx);
  };
}
