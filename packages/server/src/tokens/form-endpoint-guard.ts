import type Koa from 'koa';
import { formBodyOf } from '../http/form-body.ts';
import { type BodyReadResult, readBody } from '../http/request-body.ts';
import { handOverParsedBody } from '../oidc-provider/oidc-provider-quirks.ts';
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

/** One policy in front of the provider's form endpoints, with the shape of a Koa middleware plus the form. */
export type FormPolicy = (ctx: Koa.Context, request: FormRequest, next: () => Promise<void>) => Promise<void>;

/** A {@link FormPolicy} and the endpoints (exact paths, among {@link FORM_ENDPOINTS}) it concerns. */
export interface FormEndpointPolicy {
  readonly paths: ReadonlySet<string>;
  readonly apply: FormPolicy;
}

/**
 * Reads form bodies of the provider's POST endpoints before oidc-provider does, so that
 * oversized and non-form bodies get an RFC 6749 §5.2 JSON error (never a reset or 500), and so
 * that the `policies` can look at (and adjust) the parameters, in order, each only on the
 * endpoints it names (a token request passes the client-authentication lockout and the token
 * policies, nothing else). oidc-provider then reads the parsed parameters, never the bytes
 * again ({@link handOverParsedBody}).
 *
 * The guard and the policies know endpoints by their exact path, while oidc-provider also
 * routes `/TOKEN` or `/token/` to the token endpoint; mount `refuseRouteVariants` (`oidc-provider/route-variants.ts`) in front
 * of the provider for every other request, so that such spellings are answered 404 and every
 * request the provider serves has passed the policies of the endpoint it resolves to.
 * Requests that are not a POST to one of {@link FORM_ENDPOINTS} pass straight on.
 */
export function formEndpointGuard(policies: readonly FormEndpointPolicy[]): Koa.Middleware {
  // Each endpoint's chain, decided once.
  const chains = new Map(
    [...FORM_ENDPOINTS].map((path) => [
      path,
      policies.filter((policy) => policy.paths.has(path)).map((policy) => policy.apply),
    ]),
  );
  return function guardFormEndpoint(ctx, next) {
    const chain = ctx.method === 'POST' ? chains.get(ctx.path) : undefined;
    if (!chain) return next();
    return guardForm(ctx, chain, next);
  };
}

/**
 * One request's pass through its endpoint's policies, as koa-compose would run them, over the
 * form as well: `next` runs the following policy, and after the last hands the form to
 * oidc-provider and calls the provider. One object and one `next` per request, however many
 * policies the endpoint has (each policy calls `next` at most once, as every Koa middleware does).
 */
class PolicyRun {
  #i = 0;
  readonly #ctx: Koa.Context;
  readonly #request: ParsedFormRequest;
  readonly #chain: readonly FormPolicy[];
  /** The form as sent, for oidc-provider when no policy replaced a parameter. */
  readonly #text: string;
  readonly #provider: Koa.Next;

  constructor(
    ctx: Koa.Context,
    request: ParsedFormRequest,
    chain: readonly FormPolicy[],
    text: string,
    provider: Koa.Next,
  ) {
    this.#ctx = ctx;
    this.#request = request;
    this.#chain = chain;
    this.#text = text;
    this.#provider = provider;
  }

  readonly next = (): Promise<void> => {
    const policy = this.#chain[this.#i++];
    if (policy) return policy(this.#ctx, this.#request, this.next);
    const request = this.#request;
    handOverParsedBody(this.#ctx, request.replaced ? request.params : this.#text);
    return this.#provider();
  };
}

/** The form as the policies see it; `replace` marks it changed, so the provider gets the parameters. */
class ParsedFormRequest implements FormRequest {
  readonly path: string;
  readonly params: FormParams;
  replaced = false;

  constructor(path: string, params: FormParams) {
    this.path = path;
    this.params = params;
  }

  replace(name: string, value: string): void {
    this.params[name] = value;
    this.replaced = true;
  }
}

// Not async: one promise link from the body to the policies, not an async frame around both.
function guardForm(ctx: Koa.Context, chain: readonly FormPolicy[], next: Koa.Next): Promise<void> {
  if (!isFormRequest(ctx)) return refuseNonForm(ctx);
  return readBody(ctx.req).then((read) => passForm(ctx, chain, next, read));
}

async function refuseNonForm(ctx: Koa.Context): Promise<void> {
  // Drain so the client reads our answer rather than a reset.
  await readBody(ctx.req);
  oauthError(ctx, 400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded');
}

function passForm(
  ctx: Koa.Context,
  chain: readonly FormPolicy[],
  next: Koa.Next,
  read: BodyReadResult,
): Promise<void> | undefined {
  const form = formBodyOf(ctx, read);
  if (form.kind === 'too_large') {
    oauthError(ctx, 413, 'invalid_request', 'the request body is too large');
    return undefined;
  }
  // The request log names the grant of a token request (never any other parameter).
  if (ctx.path === '/token') noteTokenGrantType(ctx, form.params.grant_type);
  const request = new ParsedFormRequest(ctx.path, form.params);
  return new PolicyRun(ctx, request, chain, form.text, next).next();
}
