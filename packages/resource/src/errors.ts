/**
 * The one error hierarchy of `@gatehouse/resource`: every way a request can fail access-token
 * authentication, as RFC 6750 §3 (Bearer) and RFC 9449 §7.1 (DPoP) describe it to the client.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.1
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
 * - `invalid_dpop_proof`: the `DPoP` proof is missing, malformed, replayed, for another request or
 *   another key, or a DPoP-bound token came as `Bearer` (RFC 9449 §7.1).
 * - `use_dpop_nonce`: the API requires a server nonce in the proof; the answer carries one in `DPoP-Nonce`
 *   (RFC 9449 §9).
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
  | 'temporarily_unavailable'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

/**
 * Which authentication schemes an API accepts, so every challenge names them all (RFC 9110 §11.6.1):
 * `required` sends only `DPoP`, `allowed` sends `Bearer` and `DPoP`, `off` only `Bearer`.
 *
 * @example
 * ```ts
 * const mode: DpopMode = 'allowed';
 * ```
 */
export type DpopMode = 'required' | 'allowed' | 'off';

/**
 * What the `WWW-Authenticate` header of an error must offer. A plain realm string means Bearer only.
 *
 * @example
 * ```ts
 * const challenge: AuthChallenge = { realm: 'https://api.example.com', dpop: 'allowed', dpopAlgorithms: ['ES256'] };
 * throw new InvalidTokenError(challenge, 'token expired');
 * ```
 */
export interface AuthChallenge {
  realm: string;
  /** @default 'off' */
  dpop?: DpopMode;
  /** The proof algorithms to list in the DPoP challenge's `algs` (RFC 9449 §7.1). */
  dpopAlgorithms?: readonly string[];
  /** The scheme the request used: the challenge of that scheme carries the error. */
  scheme?: 'Bearer' | 'DPoP';
}

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
 * Builds a `WWW-Authenticate: DPoP …` challenge (RFC 9449 §7.1) with quoted-string-safe values.
 *
 * @example
 * ```ts
 * dpopChallenge({ realm: 'api', algs: ['ES256'], error: 'invalid_dpop_proof', error_description: 'proof replayed' });
 * // 'DPoP realm="api", error="invalid_dpop_proof", error_description="proof replayed", algs="ES256"'
 * ```
 */
export function dpopChallenge(params: {
  realm: string;
  algs?: readonly string[];
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
  if (params.algs !== undefined && params.algs.length > 0) parts.push(`algs=${quote(params.algs.join(' '))}`);
  return `DPoP ${parts.join(', ')}`;
}

/**
 * The full `WWW-Authenticate` value of an error: one challenge per accepted scheme, the one carrying
 * the error first (RFC 6750 §3.1: without credentials, no `error` attribute at all).
 */
function challengeHeader(
  code: BearerErrorCode,
  description: string,
  scope: string | undefined,
  challenge: AuthChallenge,
): string {
  const mode = challenge.dpop ?? 'off';
  const bearer = mode !== 'required';
  const dpop = mode !== 'off';
  let errorScheme: 'Bearer' | 'DPoP' | undefined;
  if (code === 'invalid_dpop_proof' || code === 'use_dpop_nonce') errorScheme = 'DPoP';
  else if (code !== 'missing_token') errorScheme = challenge.scheme ?? (bearer ? 'Bearer' : 'DPoP');
  if (errorScheme === 'Bearer' && !bearer) errorScheme = 'DPoP';
  if (errorScheme === 'DPoP' && !dpop) errorScheme = 'Bearer';
  const error = {
    error: code,
    error_description: description,
    ...(scope === undefined ? {} : { scope }),
  };
  const algs = challenge.dpopAlgorithms === undefined ? {} : { algs: challenge.dpopAlgorithms };
  const bearerValue = bearerChallenge({
    realm: challenge.realm,
    ...(errorScheme === 'Bearer' ? error : {}),
  });
  const dpopValue = dpopChallenge({
    realm: challenge.realm,
    ...(errorScheme === 'DPoP' ? error : {}),
    ...algs,
  });
  const values: string[] = [];
  if (errorScheme === 'DPoP') values.push(dpopValue);
  if (bearer) values.push(bearerValue);
  if (dpop && errorScheme !== 'DPoP') values.push(dpopValue);
  return values.join(', ');
}

// Per-request challenges set by the verifier (see setChallenge); a WeakMap keeps them off the public type.
const requestChallenges = new WeakMap<BearerError, AuthChallenge>();

/**
 * Re-addresses an error to the challenge of one request (its scheme, the verifier's modes). Internal:
 * errors are created per request and never shared, so this never changes an error someone else holds.
 */
export function setChallenge(err: BearerError, challenge: AuthChallenge): void {
  requestChallenges.set(err, challenge);
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
  readonly #challenge: AuthChallenge;
  readonly #scope: string | undefined;
  readonly #extraHeaders: Readonly<Record<string, string>>;

  constructor(
    code: BearerErrorCode,
    status: 400 | 401 | 403 | 503,
    description: string,
    challenge: string | (AuthChallenge & { scope?: string }),
    options?: ErrorOptions & { extraHeaders?: Record<string, string> },
  ) {
    super(description, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.description = description;
    const { scope, ...rest } = typeof challenge === 'string' ? { realm: challenge } : challenge;
    this.#challenge = rest;
    this.#scope = scope;
    this.#extraHeaders = { ...options?.extraHeaders };
  }

  /** The realm of the challenge. */
  get realm(): string {
    return this.#currentChallenge().realm;
  }

  /** Ready `WWW-Authenticate` header value: a challenge for each scheme the API accepts. */
  get wwwAuthenticate(): string {
    return challengeHeader(this.code, this.description, this.#scope, this.#currentChallenge());
  }

  #currentChallenge(): AuthChallenge {
    return requestChallenges.get(this) ?? this.#challenge;
  }

  /** Every header the response must carry. */
  get headers(): Readonly<Record<string, string>> {
    return { 'WWW-Authenticate': this.wwwAuthenticate, ...this.#extraHeaders };
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
  constructor(realm: string | AuthChallenge) {
    super('missing_token', 401, 'access token required', realm);
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
  constructor(realm: string | AuthChallenge, description: string) {
    super('invalid_request', 400, description, realm);
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
  constructor(realm: string | AuthChallenge, description: string, options?: ErrorOptions) {
    super('invalid_token', 401, description, realm, options);
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
  constructor(realm: string | AuthChallenge, requiredScopes: readonly string[]) {
    const scope = requiredScopes.join(' ');
    super('insufficient_scope', 403, `requires scope: ${scope}`, {
      ...(typeof realm === 'string' ? { realm } : realm),
      scope,
    });
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
  constructor(
    realm: string | AuthChallenge,
    retryAfter: number,
    description: string,
    options?: ErrorOptions,
  ) {
    super('temporarily_unavailable', 503, description, realm, {
      ...options,
      extraHeaders: { 'Retry-After': String(retryAfter) },
    });
    this.retryAfter = retryAfter;
  }
}

/**
 * 401 `invalid_dpop_proof` (RFC 9449 §7.1): the `DPoP` proof is missing, malformed, badly signed,
 * replayed, made for another method or URL, another token (`ath`) or another key (`cnf.jkt`), or a
 * DPoP-bound token was sent as `Bearer`.
 *
 * @example
 * ```ts
 * throw new InvalidDpopProofError({ realm: 'https://api.example.com', dpop: 'allowed' }, 'DPoP proof replayed');
 * ```
 */
export class InvalidDpopProofError extends BearerError {
  declare readonly code: 'invalid_dpop_proof';
  declare readonly status: 401;
  constructor(realm: string | AuthChallenge, description: string, options?: ErrorOptions) {
    super('invalid_dpop_proof', 401, description, realm, options);
  }
}

/**
 * 401 `use_dpop_nonce` with a fresh nonce in `DPoP-Nonce` (RFC 9449 §9): the client retries with the
 * nonce in its proof.
 *
 * @example
 * ```ts
 * throw new UseDpopNonceError({ realm: 'https://api.example.com', dpop: 'required' }, nonce);
 * ```
 */
export class UseDpopNonceError extends BearerError {
  declare readonly code: 'use_dpop_nonce';
  declare readonly status: 401;
  /** The nonce the next proof must carry. */
  readonly nonce: string;
  constructor(realm: string | AuthChallenge, nonce: string, description = 'DPoP proof requires a nonce') {
    super('use_dpop_nonce', 401, description, realm, { extraHeaders: { 'DPoP-Nonce': nonce } });
    this.nonce = nonce;
  }
}
