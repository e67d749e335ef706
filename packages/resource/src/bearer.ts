import { InvalidRequestError } from './errors.ts';

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
export function extractBearerToken(sources: BearerTokenSources, realm: string): string | undefined {
  if (sources.queryToken !== undefined) {
    throw new InvalidRequestError(realm, 'access token in the query string is not supported');
  }
  const found: string[] = [];
  const { authorization } = sources;
  if (authorization !== undefined && authorization !== '') {
    const scheme = SCHEME.exec(authorization)?.[1];
    if (scheme?.toLowerCase() === 'bearer') {
      const token = BEARER.exec(authorization)?.[1];
      if (token === undefined) throw new InvalidRequestError(realm, 'malformed Bearer credentials');
      found.push(token);
    } else if (scheme === undefined) {
      throw new InvalidRequestError(realm, 'malformed Authorization header');
    }
  }
  if (sources.bodyToken !== undefined) {
    if (typeof sources.bodyToken !== 'string' || sources.bodyToken === '') {
      throw new InvalidRequestError(realm, 'malformed access_token parameter');
    }
    found.push(sources.bodyToken);
  }
  // RFC 6750 §2: clients MUST NOT use more than one method to transmit the token.
  if (found.length > 1) throw new InvalidRequestError(realm, 'access token sent more than once');
  return found[0];
}
