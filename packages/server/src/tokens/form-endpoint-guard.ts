import type Koa from 'koa';
import compose from 'koa-compose';
import { readFormBody } from '../http/form-body.ts';
import { readBody } from '../http/request-body.ts';
import { handOverParsedBody } from '../oidc-provider/oidc-provider-quirks.ts';
import { refuseRouteVariants } from '../oidc-provider/route-variants.ts';
import { noteTokenGrantType } from './grant-types.ts';

/** The provider's POST endpoints that take `application/x-www-form-urlencoded` bodies. */
export const FORM_ENDPOINTS = new Set(['/token', '/revoke', '/introspect', '/device/auth', '/par']);

export type FormParams = Record<string, string | string[] | undefined>;

/** What a form-endpoint guard may do before oidc-provider sees the request. */
export interface FormRequest {
  /** The endpoint's exact path: any other spelling oidc-provider would route is refused before. */
  readonly path: string;
  readonly params: Readonly<FormParams>;
  /** Replaces a parameter in what oidc-provider will read. */
  replace(name: string, value: string): void;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * `ctx.is(FORM)` as a yes or no, without parsing the media type when the header is exactly the
 * type (what every client library sends): with a body (type-is: a `Transfer-Encoding` or a
 * numeric `Content-Length`), that is a form.
 */
function isFormRequest(ctx: Koa.Context): boolean {
  const { headers } = ctx.req;
  if (headers['content-type'] === FORM) {
    return headers['transfer-encoding'] !== undefined || !Number.isNaN(Number(headers['content-length']));
  }
  return Boolean(ctx.is(FORM));
}

function oauthError(ctx: Koa.Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}

/**
 * Reads form bodies of the provider's POST endpoints before oidc-provider does, so that
 * oversized and non-form bodies get an RFC 6749 §5.2 JSON error (never a reset or 500), and so
 * that `inspect` can look at (and adjust) the parameters. oidc-provider then reads the parsed
 * parameters, never the bytes again ({@link handOverParsedBody}).
 *
 * The guard and `inspect` know endpoints by their exact path, while oidc-provider also routes
 * `/TOKEN` or `/token/` to the token endpoint; such spellings of any provider route are
 * answered 404 first ({@link refuseRouteVariants}), so every request the provider serves has
 * passed the policies of the endpoint it resolves to.
 */
export function formEndpointGuard(
  inspect: (ctx: Koa.Context, request: FormRequest, next: () => Promise<void>) => Promise<void>,
): Koa.Middleware {
  return compose([refuseRouteVariants, guardFormEndpoint(inspect)]);
}

function guardFormEndpoint(
  inspect: (ctx: Koa.Context, request: FormRequest, next: () => Promise<void>) => Promise<void>,
): Koa.Middleware {
  return async function guardFormEndpoint(ctx, next) {
    if (ctx.method !== 'POST' || !FORM_ENDPOINTS.has(ctx.path)) return next();
    if (!isFormRequest(ctx)) {
      // Drain so the client reads our answer rather than a reset.
      await readBody(ctx.req);
      return oauthError(
        ctx,
        400,
        'invalid_request',
        'the request body must be application/x-www-form-urlencoded',
      );
    }
    const read = await readFormBody(ctx);
    if (read.kind === 'too_large') {
      return oauthError(ctx, 413, 'invalid_request', 'the request body is too large');
    }
    const params: FormParams = read.params;
    // The request log names the grant of a token request (never any other parameter).
    if (ctx.path === '/token') noteTokenGrantType(ctx, params.grant_type);
    let replaced = false;
    const request: FormRequest = {
      path: ctx.path,
      params,
      replace(name, value) {
        params[name] = value;
        replaced = true;
      },
    };
    await inspect(ctx, request, () => {
      handOverParsedBody(ctx, replaced ? params : read.text);
      return next();
    });
  };
}
