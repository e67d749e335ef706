/**
 * The one error hierarchy of `@gatehouse/resource`: every way a request can fail bearer-token
 * authentication, as RFC 6750 §3 describes it to the client.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */

/**
 * What went wrong, for `switch (err.code)`.
 *
 * - `missing_token`: the request carries no access token (RFC 6750 §3.1: the challenge then has no
 *   `error` attribute; the code exists so callers can tell this case apart).
 * - `invalid_request`: malformed `Authorization` header, a token sent twice, or a token in the query.
 * - `invalid_token`: expired, revoked, forged, or otherwise unacceptable token.
 * - `insufficient_scope`: a valid token without the scopes the resource needs.
 * - `temporarily_unavailable`: the issuer's keys (or the revocation list) cannot be loaded right now.
 *
 * @example
 * ```ts
 * if (err instanceof BearerError && err.code === 'temporarily_unavailable') metrics.jwksOutage.inc();
 * ```
 */
export type BearerErrorCode =
  | 'missing_token'
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'temporarily_unavailable';

/** RFC 6750 §3: `error_description` allows %x20-21 / %x23-5B / %x5D-7E, i.e. printable ASCII without `"` and `\`. */
function sanitizeDescription(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, ' ').replace(/["\\]/g, "'");
}

/** RFC 9110 §5.6.4 quoted-string: escape `"` and `\`, drop what a header value cannot carry. */
function quote(value: string): string {
  return `"${value.replace(/[^\t\x20-\x7e]/g, '').replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Builds a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3) with quoted-string-safe values.
 *
 * @example
 * ```ts
 * bearerChallenge({ realm: 'api', error: 'invalid_token', error_description: 'token expired' });
 * // 'Bearer realm="api", error="invalid_token", error_description="token expired"'
 * ```
 */
export function bearerChallenge(params: {
  realm: string;
  error?: string;
  error_description?: string;
  scope?: string;
}): string {
  const parts = [`realm=${quote(params.realm)}`];
  if (params.error !== undefined) parts.push(`error=${quote(params.error)}`);
  if (params.error_description !== undefined) {
    parts.push(`error_description=${quote(sanitizeDescription(params.error_description))}`);
  }
  if (params.scope !== undefined) parts.push(`scope=${quote(params.scope)}`);
  return `Bearer ${parts.join(', ')}`;
}

/**
 * Base class of every error thrown by the verifier and the middleware. Carries everything needed to
 * answer the request: `status`, the `headers` to send (`WWW-Authenticate`, `Retry-After`) and a JSON
 * body from {@link BearerError.toJSON}.
 *
 * @example
 * ```ts
 * try {
 *   await verifier.verify(token);
 * } catch (err) {
 *   if (!(err instanceof BearerError)) throw err;
 *   res.writeHead(err.status, err.headers).end(JSON.stringify(err));
 * }
 * ```
 */
export class BearerError extends Error {
  readonly code: BearerErrorCode;
  /** HTTP status to answer with. */
  readonly status: 400 | 401 | 403 | 503;
  /** Human-readable, safe to show to the client (`error_description`). */
  readonly description: string;
  /** Ready `WWW-Authenticate` header value. */
  readonly wwwAuthenticate: string;
  /** Every header the response must carry. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: BearerErrorCode,
    status: 400 | 401 | 403 | 503,
    description: string,
    challenge: { realm: string; scope?: string },
    options?: ErrorOptions & { extraHeaders?: Record<string, string> },
  ) {
    super(description, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.description = description;
    // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
    this.wwwAuthenticate =
      code === 'missing_token'
        ? bearerChallenge({ realm: challenge.realm })
        : bearerChallenge({
            realm: challenge.realm,
            error: code,
            error_description: description,
            ...(challenge.scope === undefined ? {} : { scope: challenge.scope }),
          });
    this.headers = { 'WWW-Authenticate': this.wwwAuthenticate, ...options?.extraHeaders };
  }

  /** The JSON body: `{ error, error_description }`. */
  toJSON(): { error: BearerErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

/**
 * 401 without an `error` attribute: the request carried no access token (RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * if (token === undefined) throw new MissingTokenError('https://api.example.com');
 * ```
 */
export class MissingTokenError extends BearerError {
  declare readonly code: 'missing_token';
  declare readonly status: 401;
  constructor(realm: string) {
    super('missing_token', 401, 'access token required', { realm });
  }
}

/**
 * 400 `invalid_request`: malformed `Authorization` header, token sent more than once, or sent in the
 * query string (RFC 6750 §3.1; OAuth 2.1 §5.2 forbids the query method).
 *
 * @example
 * ```ts
 * throw new InvalidRequestError('https://api.example.com', 'access token sent more than once');
 * ```
 */
export class InvalidRequestError extends BearerError {
  declare readonly code: 'invalid_request';
  declare readonly status: 400;
  constructor(realm: string, description: string) {
    super('invalid_request', 400, description, { realm });
  }
}

/**
 * 401 `invalid_token`: expired, revoked, malformed, forged, or meant for someone else (RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * throw new InvalidTokenError('https://api.example.com', 'token revoked');
 * ```
 */
export class InvalidTokenError extends BearerError {
  declare readonly code: 'invalid_token';
  declare readonly status: 401;
  constructor(realm: string, description: string, options?: ErrorOptions) {
    super('invalid_token', 401, description, { realm }, options);
  }
}

/**
 * 403 `insufficient_scope` with the `scope` attribute naming what the resource needs (RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * throw new InsufficientScopeError('https://api.example.com', ['recipes:write']);
 * ```
 */
export class InsufficientScopeError extends BearerError {
  declare readonly code: 'insufficient_scope';
  declare readonly status: 403;
  /** The scopes the resource requires. */
  readonly requiredScopes: readonly string[];
  constructor(realm: string, requiredScopes: readonly string[]) {
    const scope = requiredScopes.join(' ');
    super('insufficient_scope', 403, `requires scope: ${scope}`, { realm, scope });
    this.requiredScopes = requiredScopes;
  }
}

/**
 * 503 with `Retry-After`: the issuer's metadata or keys (or the revocation list) could not be loaded,
 * so the token can be neither accepted nor rejected. Never a 401 (the token may be fine) nor a 200.
 *
 * @example
 * ```ts
 * throw new TemporarilyUnavailableError('https://api.example.com', 5, 'issuer keys unavailable');
 * ```
 */
export class TemporarilyUnavailableError extends BearerError {
  declare readonly code: 'temporarily_unavailable';
  declare readonly status: 503;
  /** Seconds the client should wait before retrying. */
  readonly retryAfter: number;
  constructor(realm: string, retryAfter: number, description: string, options?: ErrorOptions) {
    super(
      'temporarily_unavailable',
      503,
      description,
      { realm },
      { ...options, extraHeaders: { 'Retry-After': String(retryAfter) } },
    );
    this.retryAfter = retryAfter;
  }
}
