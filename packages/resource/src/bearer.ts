import { type AuthChallenge, InvalidRequestError } from './errors.ts';

/**
 * Where a request may carry an access token, in framework-neutral form.
 *
 * @example
 * ```ts
 * const sources: BearerTokenSources = { authorization: req.headers.authorization };
 * ```
 */
export interface BearerTokenSources {
  /** The `Authorization` header value, if any. */
  authorization?: string | undefined;
  /** `access_token` from a form-encoded body (RFC 6750 §2.2), if the body was parsed as such. */
  bodyToken?: unknown;
  /** `access_token` from the query string: always refused (OAuth 2.1 §5.2, RFC 9700 §4.3.2). */
  queryToken?: unknown;
}

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive (RFC 7235 §2.1).
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
// RFC 9449 §7.1: the DPoP scheme carries the token the same way (token68).
const DPOP = /^dpop +([A-Za-z0-9\-._~+/]+=*) *$/i;
const SCHEME = /^([A-Za-z0-9!#$%&'*+\-.^_`|~]+)(?: |$)/;

/**
 * Extracts the bearer token from a request, or `undefined` when it carries none (including when the
 * `Authorization` header uses another scheme, such as `Basic`).
 *
 * @throws {InvalidRequestError} malformed `Bearer` credentials, a token sent twice, or a token in the query.
 * @example
 * ```ts
 * const token = extractBearerToken({ authorization: req.headers.authorization }, 'https://api.example.com');
 * if (token === undefined) throw new MissingTokenError('https://api.example.com');
 * ```
 */
export function extractBearerToken(
  sources: BearerTokenSources,
  realm: string | AuthChallenge,
): string | undefined {
  const found = extractAccessToken(sources, realm, { dpop: false });
  return found?.token;
}

/**
 * An access token and the scheme it came with.
 *
 * @example
 * ```ts
 * const presented: PresentedAccessToken = { scheme: 'DPoP', token };
 * ```
 */
export interface PresentedAccessToken {
  /** `Bearer` (header or form body, RFC 6750) or `DPoP` (RFC 9449 §7.1). */
  scheme: 'Bearer' | 'DPoP';
  token: string;
}

/**
 * Extracts the access token with its scheme (`Authorization: Bearer`, form-body `access_token`, or
 * `Authorization: DPoP` unless `options.dpop` is `false`), or `undefined` when the request carries none.
 *
 * @throws {InvalidRequestError} malformed credentials, a token sent twice, or a token in the query.
 * @example
 * ```ts
 * const presented = extractAccessToken({ authorization: req.headers.authorization }, 'https://api.example.com');
 * if (presented?.scheme === 'DPoP') console.log('needs a DPoP proof');
 * ```
 */
export function extractAccessToken(
  sources: BearerTokenSources,
  realm: string | AuthChallenge,
  options: { dpop?: boolean } = {},
): PresentedAccessToken | undefined {
  if (sources.queryToken !== undefined) {
    throw new InvalidRequestError(realm, 'access token in the query string is not supported');
  }
  const found: PresentedAccessToken[] = [];
  const { authorization } = sources;
  if (authorization !== undefined && authorization !== '') {
    const scheme = SCHEME.exec(authorization)?.[1]?.toLowerCase();
    if (scheme === 'bearer') {
      const token = BEARER.exec(authorization)?.[1];
      if (token === undefined) throw new InvalidRequestError(realm, 'malformed Bearer credentials');
      found.push({ scheme: 'Bearer', token });
    } else if (scheme === 'dpop' && options.dpop !== false) {
      const token = DPOP.exec(authorization)?.[1];
      if (token === undefined) throw new InvalidRequestError(realm, 'malformed DPoP credentials');
      found.push({ scheme: 'DPoP', token });
    } else if (scheme === undefined) {
      throw new InvalidRequestError(realm, 'malformed Authorization header');
    }
  }
  if (sources.bodyToken !== undefined) {
    if (typeof sources.bodyToken !== 'string' || sources.bodyToken === '') {
      throw new InvalidRequestError(realm, 'malformed access_token parameter');
    }
    found.push({ scheme: 'Bearer', token: sources.bodyToken });
  }
  // RFC 6750 §2: clients MUST NOT use more than one method to transmit the token.
  if (found.length > 1) throw new InvalidRequestError(realm, 'access token sent more than once');
  return found[0];
}
